"""The Uploader: each clip on YouTube, exactly once, private until its planned publishAt."""

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from cognitive_sensors.horizon import effective_publish_at
from omniva import contracts
from omniva.records import ClipCopy, PlannedSlot, PublishPlan, Render, Upload, stable_id
from omniva_assets import stardust_meta as stardust
from omniva_assets.common import Lineage, recorded, with_user_errors
from omniva_assets.partitions import clip_partitions, split_clip_key
from omniva_resources import copy_templates, youtube
from omniva_resources.resources import OmnivaStore, PublishRules, YouTubeResource

# Dagster reports a code change as staleness of that asset only; its dependents turn unsynced
# once it re-materializes. An upload publishes the render, so the render's parameters are part
# of the upload's version too (omniva_assets.definitions makes it "<this>-<renders' version>"),
# and a render change shows both unsynced.
UPLOADS_CODE_VERSION = "2"

HOW = {
    "reused": "already uploaded earlier; reused video id",
    "adopted": "found on the channel by its marker (an earlier run uploaded it); not uploaded again",
    "resumed": "resumed the interrupted upload at byte {resumed_from}",
    "uploaded": "uploaded",
}


@dg.asset(
    partitions_def=clip_partitions,
    group_name="publishing",
    kinds={"youtube"},
    code_version=UPLOADS_CODE_VERSION,
    pool="youtube_upload",
    # A quota deferral emits no materialization (see ``_defer``), so the output is optional.
    output_required=False,
)
@with_user_errors
def uploads(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    youtube_api: YouTubeResource,
    publish_rules: PublishRules,
    renders: Render,
    clip_copy: ClipCopy,
    publish_plan: PublishPlan,
) -> Iterator[dg.Output]:
    """The clip on YouTube (videos.insert, resumable), private until its planned publishAt.

    Exactly once (``youtube.publish_once``): the intent and then the upload session are
    written to the clip's ledger before any byte is sent, the video id after; a rerun
    reuses a finished upload, resumes an interrupted one from the server's confirmed
    offset, or finds it on the channel by the clip's marker tag. Thumbnail, captions
    from ``<render>.srt`` (when the render has them) and the playlist follow the upload.
    When the day's API quota (a bucket of the project) cannot hold the upload, or the channel
    reached YouTube's per-channel upload limit (``uploadLimitExceeded``: that channel only is
    paused until its next day), it is deferred, not failed and never quarantined.
    """
    key = str(context.partition_key)
    rank = split_clip_key(key)[1]
    slot = publish_plan.slot_for(key)
    ledger = youtube.UploadLedger(store.layout.upload_ledger / f"{renders.clip_id}.json")
    api_root = youtube_api.effective_api_root
    opts = youtube_api.options()
    if _rejected(context, store, key, renders.clip_id):
        return
    slot = moved_slot(store, key, slot)
    if slot is None:
        raise youtube.YouTubeError(f"clip {key} is not in the publish plan; materialize publish_plan first")
    clip_copy, edited_by, templates_used = copy_to_send(context, store, key, clip_copy)
    request, when = upload_request(renders, clip_copy, slot, opts, publish_rules.privacy_status)
    channel = youtube_api.channel_name(slot.channel)
    uploader = youtube_api.uploader(channel, store.layout.home)
    try:
        outcome = youtube.publish_once(
            uploader,
            request,
            ledger,
            api_root=api_root,
            fingerprint=renders.sha256,
            record={"clip_key": key, "clip_id": renders.clip_id, "channel": channel},
        )
    except youtube.QuotaExceededError as exc:
        _defer(context, store, key, clip_copy, slot, channel, exc)
        return
    upload = Upload(
        renders.clip_id, outcome.video_id, outcome.privacy_status, outcome.publish_at, clip_copy.title, api_root,
        reused=outcome.reused,
    )  # fmt: skip
    lineage = dataclasses.replace(
        _lineage(upload, outcome, renders, slot, channel, opts, when, edited_by, templates_used),
        contract=lambda trace, parents: contracts.upload_job(clip_copy, upload, slot, trace, parents),
    )
    metadata = {
        "clip_id": renders.clip_id,
        "yt_video_id": upload.yt_video_id,
        "publish_at": upload.publish_at or "",
        "reused": upload.reused,
        "how": outcome.how,
        "bytes_sent": outcome.bytes_sent,
        "resumed_from": outcome.resumed_from,
        "extras": dg.MetadataValue.json(outcome.extras),
        "channel": channel,
        "rank": rank,
    }
    yield recorded(upload, lineage, {"upload_jobs": [upload_job_row(clip_copy, upload)]}, metadata)


def _rejected(context: dg.AssetExecutionContext, store: OmnivaStore, key: str, clip_id: str) -> bool:
    """Whether the clip's latest review rejects it (#28): Zenith refuses to launch a rejected clip;
    a run requested anyway uploads nothing, and says so."""
    review = store.latest_reviews([key]).get(key)
    if review is None or review["decision"] != "reject":
        return False
    message = f"{key} not uploaded: rejected by {review['author']}: {review['reason']}"
    context.log.warning(message)
    store.log("uploads", "WARN", message, partition=key, clip_id=clip_id, run_id=context.run_id)
    return True


def copy_to_send(
    context: dg.AssetExecutionContext, store: OmnivaStore, key: str, chorus: ClipCopy
) -> tuple[ClipCopy, str | None, dict[str, str]]:
    """The project's copy templates over Chorus's copy (#29), then a person's own edit (#28);
    (the copy, who edited it, the templates used)."""
    copy, used, note = copy_templates.templated(store.layout, store.warehouse, chorus)
    if note:
        context.log.warning(f"{key}: {note}")
    copy, edited_by = edited_copy(store, key, copy)
    return copy, edited_by, used


def edited_copy(store: OmnivaStore, key: str, copy: ClipCopy) -> tuple[ClipCopy, str | None]:
    """The copy to upload: a person's latest edit (``clip_copy_edits``, checked against
    YouTube's limits when it was made) over Chorus's, and who edited it (None: Chorus's)."""
    edit = store.copy_edit(key)
    if edit is None:
        return copy, None
    edited = dataclasses.replace(
        copy, title=edit["title"], description=edit["description"], tags=tuple(edit["keywords"] or ())
    )
    return edited, str(edit["author"])


def moved_slot(store: OmnivaStore, key: str, planned: PlannedSlot | None) -> PlannedSlot | None:
    """The clip's slot as ``schedules`` holds it now: the plan's, or where a person moved it
    (the calendar's move rewrites the clip's committed slot)."""
    rows = store.warehouse.query_file("schedule_of_clip", [key])
    if not rows or rows[0]["final_scheduled_time"] is None:
        return planned
    at = rows[0]["final_scheduled_time"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if planned is not None and planned.publish_at == at:
        return planned
    base = planned or PlannedSlot(str(rows[0]["clip_id"]), key, rows[0]["channel"], at, 0.0, "")
    return dataclasses.replace(base, publish_at=at, channel=rows[0]["channel"] or base.channel)


def _lineage(
    upload: Upload,
    outcome: youtube.PublishOutcome,
    render: Render,
    slot: PlannedSlot,
    channel: str,
    opts: dict,
    when: str,
    edited_by: str | None = None,
    templates_used: dict[str, str] | None = None,
) -> Lineage:
    how = HOW[outcome.how].format(resumed_from=outcome.resumed_from)
    return Lineage(
        "upload_jobs",
        stable_id("upload", render.clip_id),
        stardust.trace_id_for(split_clip_key(slot.clip_key)[0]),
        inputs={"render": render.sha256},
        tools={"google-api-python-client": "videos.insert resumable"},
        params={
            "privacy_status": upload.privacy_status,
            "publish_at": upload.publish_at,
            "api_root": upload.api_root,
            "channel": channel,
            "planned_slot": slot.publish_at,
            **{k: v for k, v in opts.items() if v not in (None, "")},
            **({"copy_edited_by": edited_by} if edited_by else {}),  # a person's copy edit (#28)
            **({"copy_templates": templates_used} if templates_used else {}),  # the project's (#29)
        },
        decision=f"{how} as {upload.yt_video_id}; {when}",
    )


def upload_request(
    render: Render, copy: ClipCopy, slot: PlannedSlot, opts: dict, privacy_status: str
) -> tuple[youtube.UploadRequest, str]:
    """What to send for this clip, and when it goes public (in words)."""
    if opts["publish_immediately"]:
        publish_at, when = None, f"published on upload as {privacy_status}"
        privacy = privacy_status
    else:
        publish_at, when = effective_publish_at(slot.publish_at, datetime.now(UTC))
        privacy = "private"  # YouTube makes it public at publishAt
    path = Path(render.path)
    srt = Path(render.srt_path or path.with_suffix(".srt"))
    upload_srt = opts["captions"] == "always" or (opts["captions"] == "auto" and not render.captions_burned)
    request = youtube.UploadRequest(
        path=path,
        title=copy.title,
        description=copy.description,
        tags=tuple(copy.tags),
        category_id=opts["category_id"] or copy.category_id,
        privacy_status=privacy,
        publish_at=publish_at,
        made_for_kids=opts["made_for_kids"],
        thumbnail=Path(render.thumbnail_path) if render.thumbnail_path else None,
        contains_synthetic_media=opts["contains_synthetic_media"],
        captions=srt if upload_srt and srt.is_file() else None,
        caption_language=copy.language or opts["caption_language"],
        language=copy.language or None,
        playlist_id=opts["playlist_id"],
        marker=youtube.clip_marker(render.clip_id),
    )
    return request, when


def upload_job_row(copy: ClipCopy, upload: Upload) -> dict:
    if upload.publish_at:
        status = "SCHEDULED"
    else:
        status = "LIVE" if upload.privacy_status in ("public", "unlisted") else "UPLOADED"
    return copy.upload_job_row(
        stardust.now_iso(),
        scheduled_time=upload.publish_at,
        privacy_status=upload.privacy_status,
        yt_video_id=upload.yt_video_id,
        api_root=upload.api_root,
        status=status,
    )


def _defer(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    key: str,
    clip_copy: ClipCopy,
    slot: PlannedSlot,
    channel: str,
    exc: youtube.QuotaExceededError,
) -> None:
    """Record that the upload waits for the next quota window; emit no materialization.

    Why not a ``dagster.Failure``: running out of the day's quota is the expected outcome
    of a quota-aware publisher, not a fault. A failure would paint the partition red, fire
    run-failure sensors and alerts, and invite retries (RetryPolicy, run retries) that can
    only fail again before midnight Pacific. Dagster's idiom for "nothing to materialize
    now" is an optional output that is not emitted: the run succeeds, the partition stays
    missing, so whatever requests missing uploads (``omniva run``, a sensor) picks it up
    in the next window. The reason and the reset time are not lost: an AssetObservation
    on the partition (the asset's event log in the UI), a WARN in the warehouse ``logs``
    table, and an ``upload_jobs`` row with status ``DEFERRED``.
    """
    until = exc.resets_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    window = (
        f"channel {channel} paused until its next day: YouTube's per-channel upload limit"
        if exc.reason == "uploadLimitExceeded"
        else "YouTube quota window"
    )
    message = f"upload of {key} deferred until {until} ({window}): {exc}"
    reason = exc.reason or "quotaExceeded"
    context.log.warning(message)
    store.log(
        "uploads",
        "WARN",
        message,
        partition=key,
        clip_id=clip_copy.clip_id,
        reason=reason,
        deferred_until=until,
        channel=channel,
        run_id=context.run_id,
    )
    row = clip_copy.upload_job_row(
        stardust.now_iso(),
        scheduled_time=slot.publish_at,
        privacy_status="private",
        yt_video_id=None,
        api_root=None,
        status="DEFERRED",
    )
    store.record("upload_jobs", key, [row])
    context.log_event(
        dg.AssetObservation(
            asset_key=context.asset_key,
            partition=key,
            metadata={"deferred_until": until, "reason": reason, "message": message, "channel": channel},
        )
    )
