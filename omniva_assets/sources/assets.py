"""Sources: creators, their posts per day, and the downloaded videos."""

import os
from datetime import date

import dagster as dg

from cognitive_sensors import stardust
from omniva.errors import CorruptMediaError
from omniva.records import Post, Video, stable_id
from omniva_assets.common import RETRY, user_errors
from omniva_assets.partitions import creator_of_post, creators_partitions, posts_partitions, videos_partitions
from omniva_resources import creators as creator_registry
from omniva_resources import media, scraper, sources
from omniva_resources.resources import OmnivaStore


@dg.asset(
    partitions_def=creators_partitions,
    group_name="sources",
    kinds={"python"},
    code_version="1",
)
def creators(context: dg.AssetExecutionContext, store: OmnivaStore) -> dg.MaterializeResult:
    """A creator under management: name, platform and profile URL from the registry."""
    with user_errors(context, store):
        creator = store.creator(context.partition_key)
    added = creator_registry.added_at(store.layout, creator.name) or stardust.now_iso()
    store.record(
        "creators",
        creator.name,
        [
            {
                "creator_id": creator.creator_id,
                "platform": creator.platform,
                "username": creator.name,
                "profile_url": creator.url,
                "created_at": added,
                "updated_at": stardust.now_iso(),
            }
        ],
    )
    meta, row = stardust.packet(
        context,
        entity_type="creators",
        entity_id=creator.creator_id,
        trace_id=stable_id("trace", "creator", creator.name),
        source_url=creator.url,
        creator=creator.name,
    )
    store.record_stardust(row)
    return dg.MaterializeResult(
        metadata={**meta, "platform": creator.platform}, data_version=dg.DataVersion(stable_id(creator.url))
    )


@dg.asset(
    partitions_def=posts_partitions,
    deps=[dg.AssetDep(creators, partition_mapping=creator_of_post)],
    group_name="sources",
    kinds={"yt-dlp"},
    code_version="2",
    retry_policy=RETRY,
)
def posts(context: dg.AssetExecutionContext, store: OmnivaStore) -> dg.Output[list[Post]]:
    """The creator's posts published on this day (UTC), listed without downloading (yt-dlp's
    flat extraction, an Atom feed, a page of links, or a local folder), after the creator's
    rules (live streams and premieres until done, duration, Shorts or long-form only)."""
    keys = context.partition_key.keys_by_dimension
    creator_name, day = keys["creator"], date.fromisoformat(keys["day"])
    with user_errors(context, store):
        creator = store.creator(creator_name)
        settings = creator_registry.settings_for(store.layout, creator_name)
        listing = sources.list_day(creator_name, creator.url, day, settings)
    found = list(listing.posts)
    rows = [
        {
            "post_id": p.post_id,
            "creator_id": creator.creator_id,
            "creator": creator_name,
            "platform_post_id": p.platform_post_id,
            "url": p.url,
            "title": p.title,
            "posted_at": p.posted_at,
            "listed_on": day.isoformat(),
            "video_key": p.video_key,
            "raw_metadata": p.raw_metadata,
        }
        for p in found
    ]
    store.record("posts", str(context.partition_key), rows)
    meta, row = stardust.packet(
        context,
        entity_type="posts",
        entity_id=stable_id("posts", context.partition_key),
        trace_id=stable_id("trace", "creator", creator_name),
        source_url=creator.url,
        creator=creator_name,
        tools={"yt-dlp": scraper.ytdlp_version()},
        params={"day": day.isoformat(), "read_as": listing.read_as, "rules": settings.rules.as_dict()},
        decision=f"{len(found)} post(s) on {day}"
        + (f"; {len(listing.skipped)} left out by the creator's rules" if listing.skipped else ""),
    )
    store.record_stardust(row)
    return dg.Output(
        found,
        data_version=stardust.content_version(found),
        metadata={
            **meta,
            "post_count": len(found),
            "read_as": listing.read_as,
            "video_keys": dg.MetadataValue.json([p.video_key for p in found]),
            "skipped": dg.MetadataValue.json(
                [{"id": s.platform_post_id, "title": s.title, "reason": s.reason} for s in listing.skipped]
            ),
            "pending_live": dg.MetadataValue.json(list(listing.pending_live)),
            "posts": dg.MetadataValue.md(
                "\n".join(f"- {p.posted_at} [{p.title}]({p.url}) → `{p.video_key}`" for p in found) or "none"
            ),
        },
    )


@dg.asset(
    partitions_def=videos_partitions,
    # A video comes from one post, but which one is data (the post's listing), not a
    # function of the keys Dagster can express. The edge keeps the graph readable; the
    # partition-level link is in Stardust metadata and the warehouse (videos.post_id).
    deps=[dg.AssetDep(posts, partition_mapping=dg.SpecificPartitionsPartitionMapping([]))],
    group_name="sources",
    kinds={"yt-dlp", "ffmpeg"},
    code_version="1",  # the same bytes as before; the info JSON and subtitles are extra files
    retry_policy=RETRY,
    check_specs=[
        dg.AssetCheckSpec(
            "unique_source_checksum",
            asset="videos",
            blocking=True,
            description="Paradox: the same file is not already a video under another key",
        )
    ],
)
def videos(context: dg.AssetExecutionContext, store: OmnivaStore):
    """The post's media in the content store (best <= 1080p with audio, MP4; info JSON and
    subtitles beside it), with its sha256, ffprobe facts and the source's rights."""
    key = context.partition_key
    layout = store.layout
    dest = layout.media / "videos" / key / f"{key}.mp4"
    with user_errors(context, store):
        post = store.find_post(key)
        fetched_by = "media-store (already downloaded)"
        if not dest.exists():
            settings = creator_registry.settings_for(store.layout, post.creator)
            sources.download(post, dest, layout.download_archive, settings)
            fetched_by = (
                "folder copy"
                if post.raw_metadata.get("source") == "folder"
                else f"yt-dlp {scraper.ytdlp_version()}"
            )
        try:
            facts = media.probe(dest)
        except CorruptMediaError:
            # Keep the evidence, but never where a good download is expected.
            quarantine = layout.media / "quarantine" / key
            quarantine.mkdir(parents=True, exist_ok=True)
            os.replace(dest, quarantine / dest.name)
            raise
        if facts.duration_s <= 0:
            raise CorruptMediaError(f"{post.url}: ffprobe reports no duration; the file is unusable")
    sha = media.sha256_file(dest)
    video = Video(key, post.post_id, post.creator, post.url, str(dest), sha, facts.as_dict(), fetched_by)
    store.record(
        "videos",
        key,
        [
            {
                "video_id": video.video_id,
                "post_id": post.post_id,
                "video_key": key,
                "creator": post.creator,
                "source_url": post.url,
                "file_path": str(dest),
                "duration_seconds": facts.duration_s,
                "resolution": facts.resolution,
                "checksum": sha,
                "ffprobe": facts.as_dict(),
                "created_at": stardust.now_iso(),
            }
        ],
    )
    twins = [
        r["video_key"]
        for r in store.warehouse.query(
            "SELECT video_key FROM videos WHERE checksum = ? AND video_key <> ?", [sha, key]
        )
    ]
    meta, row = stardust.packet(
        context,
        entity_type="videos",
        entity_id=video.video_id,
        trace_id=stardust.trace_id_for(key),
        source_url=post.url,
        creator=post.creator,
        outputs={dest.name: sha},
        tools={"ffmpeg": media.ffmpeg_version()},
        params={"format": scraper.FORMAT, "provenance": scraper.provenance(post)},
    )
    store.record_stardust(row)
    yield dg.Output(
        video,
        metadata={
            **meta,
            "sha256": sha,
            "path": dg.MetadataValue.path(str(dest)),
            "duration_s": facts.duration_s,
            "resolution": facts.resolution or "audio only",
            "has_audio": facts.has_audio,
            "fetched_by": fetched_by,
            "provenance": dg.MetadataValue.json(scraper.provenance(post)),
            "ffprobe": dg.MetadataValue.json(facts.as_dict()),
        },
        data_version=dg.DataVersion(sha),
    )
    yield dg.AssetCheckResult(
        check_name="unique_source_checksum",
        passed=not twins,
        metadata={"same_checksum_as": dg.MetadataValue.json(twins)},
        description=f"duplicate of {', '.join(twins)}" if twins else "no other video has this sha256",
    )
