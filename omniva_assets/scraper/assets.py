"""The Scraper: creators, their posts per day, and the downloaded videos."""

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg

from omniva import contracts
from omniva.errors import CorruptMediaError
from omniva.records import Post, Video, stable_id
from omniva_assets import stardust_meta as stardust
from omniva_assets.common import RETRY, Lineage, recorded, with_user_errors
from omniva_assets.partitions import (
    RECORDED_IN_METADATA,
    creator_of_post,
    creators_partitions,
    posts_partitions,
    split_post_key,
    videos_partitions,
)
from omniva_assets.scraper import checks
from omniva_resources import creators as creator_registry
from omniva_resources import media, scraper, sources
from omniva_resources.resources import MediaTools, OmnivaStore, ScrapeSettings
from omniva_resources.sources import Listing


@dg.asset(
    partitions_def=creators_partitions,
    group_name="sources",
    kinds={"python"},
    code_version="1",
)
@with_user_errors
def creators(context: dg.AssetExecutionContext, store: OmnivaStore) -> dg.Output:
    """A creator under management: name, platform and profile URL from the registry."""
    creator = store.creator(context.partition_key)
    added = creator_registry.added_at(store.layout, creator.name) or stardust.now_iso()
    lineage = Lineage(
        "creators",
        creator.creator_id,
        stable_id("trace", "creator", creator.name),
        source_url=creator.url,
        creator=creator.name,
    )
    tables = {"creators": [creator.row(added, stardust.now_iso())]}
    # No value: a creator's record is its warehouse row and its packet.
    return recorded(
        None, lineage, tables, {"platform": creator.platform}, dg.DataVersion(stable_id(creator.url))
    )


@dg.asset(
    partitions_def=posts_partitions,
    deps=[dg.AssetDep(creators, partition_mapping=creator_of_post)],
    group_name="sources",
    kinds={"yt-dlp"},
    code_version="2",
    retry_policy=RETRY,
)
@with_user_errors
def posts(context: dg.AssetExecutionContext, store: OmnivaStore, scrape: ScrapeSettings) -> dg.Output:
    """The creator's posts published on this day (UTC), listed without downloading (yt-dlp's
    flat extraction, an Atom feed, a page of links, or a local folder), after the creator's
    rules (live streams and premieres until done, duration, Shorts or long-form only)."""
    creator_name, day_iso = split_post_key(context.partition_key)  # a run launched by key string too
    day = date.fromisoformat(day_iso)
    creator = store.creator(creator_name)
    settings = creator_registry.settings_for(store.layout, creator_name, scrape.source_settings())
    access = creator_registry.access_for(store.layout, creator_name)
    listing = sources.list_day(creator_name, creator.url, day, settings, access)
    found: list[Post] = list(listing.posts)
    skipped = f"; {len(listing.skipped)} left out by the creator's rules" if listing.skipped else ""
    lineage = Lineage(
        "posts",
        stable_id("posts", context.partition_key),
        stable_id("trace", "creator", creator_name),
        source_url=creator.url,
        creator=creator_name,
        tools={"yt-dlp": scraper.ytdlp_version()},
        params={"day": day.isoformat(), "read_as": listing.read_as, "rules": settings.rules.as_dict()},
        decision=f"{len(found)} post(s) on {day}{skipped}",
        contract=lambda trace, parents: contracts.scraper_job(creator, day.isoformat(), trace, parents),
    )
    tables = {"posts": [p.row(creator.creator_id, day.isoformat()) for p in found]}
    version = stardust.content_version(found)
    return recorded(found, lineage, tables, _listing_metadata(listing), version)


def _listing_metadata(listing: Listing) -> dict:
    found = listing.posts
    return {
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
    }


@dg.asset(
    partitions_def=videos_partitions,
    # Which post listed a video is data (the post's listing), not a function of the keys
    # Dagster's partition mappings can express: the materialization records the post
    # partitions it came from (``lineage/parents``, omniva_assets.common.parents_of).
    deps=[dg.AssetDep(posts, partition_mapping=RECORDED_IN_METADATA)],
    group_name="sources",
    kinds={"yt-dlp", "ffmpeg"},
    code_version="1",  # the same bytes as before; the info JSON and subtitles are extra files
    retry_policy=RETRY,
    check_specs=[checks.UNIQUE_SOURCE_CHECKSUM],
)
@with_user_errors
def videos(
    context: dg.AssetExecutionContext, store: OmnivaStore, scrape: ScrapeSettings, media_tools: MediaTools
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """The post's media in the content store (best <= 1080p with audio, MP4; info JSON and
    subtitles beside it), with its sha256, ffprobe facts and the source's rights."""
    key = context.partition_key
    dest = store.layout.media / "videos" / key / f"{key}.mp4"
    tools = media_tools.tools()
    post = store.find_post(key)
    fetched_by = "media-store (already downloaded)"
    if not dest.exists():
        settings = creator_registry.settings_for(store.layout, post.creator, scrape.source_settings())
        access = creator_registry.access_for(store.layout, post.creator)
        sources.download(post, dest, store.layout.download_archive, settings, access)
        folder = post.raw_metadata.get("source") == "folder"
        fetched_by = "folder copy" if folder else f"yt-dlp {scraper.ytdlp_version()}"
    facts = _probe_or_quarantine(dest, store.layout.media / "quarantine" / key, post.url, tools)
    sha = media.sha256_file(dest)
    video = Video(key, post.post_id, post.creator, post.url, str(dest), sha, facts.as_dict(), fetched_by)
    lineage = Lineage.of_video(
        video,
        "videos",
        video.video_id,
        outputs={dest.name: video.sha256},
        tools={"ffmpeg": media.ffmpeg_version(tools)},
        params={"format": scraper.FORMAT, "provenance": scraper.provenance(post)},
    )
    metadata = {
        "sha256": video.sha256,
        "file": dg.MetadataValue.path(str(dest)),
        "duration_s": facts.duration_s,
        "resolution": facts.resolution or "audio only",
        "has_audio": facts.has_audio,
        "fetched_by": fetched_by,
        "provenance": dg.MetadataValue.json(scraper.provenance(post)),
        "ffprobe": dg.MetadataValue.json(facts.as_dict()),
    }
    tables = {"videos": [video.row(stardust.now_iso())]}
    yield recorded(video, lineage, tables, metadata, dg.DataVersion(video.sha256))
    yield checks.unique_source_checksum(store, video)


def _probe_or_quarantine(
    dest: Path, quarantine: Path, url: str, tools: media.FFmpegTools
) -> media.MediaFacts:
    """ffprobe's facts of a download; a file ffprobe cannot read moves to ``quarantine``
    (kept as evidence, never where a good download is expected)."""
    try:
        facts = media.probe(dest, tools)
    except CorruptMediaError:
        quarantine.mkdir(parents=True, exist_ok=True)
        os.replace(dest, quarantine / dest.name)
        raise
    if facts.duration_s <= 0:
        raise CorruptMediaError(f"{url}: ffprobe reports no duration; the file is unusable")
    return facts
