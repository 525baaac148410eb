"""Publishing: the publish plan (quota and slots) and the YouTube uploads."""

import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from cognitive_sensors import stardust
from cognitive_sensors.horizon import PlanRules, ReadyClip, double_booked, effective_publish_at, plan_publish
from omniva.records import ClipCopy, PlannedSlot, PublishPlan, Render, Upload, stable_id
from omniva_assets.clips.assets import RENDER_CODE_VERSION, clip_copy, renders
from omniva_assets.common import user_errors
from omniva_assets.partitions import clip_partitions, split_clip_key
from omniva_resources import youtube
from omniva_resources.resources import OmnivaStore, PublishRules, YouTubeResource


def project_channels(layout, default: str) -> dict[str, str]:
    """creator -> the channel of the (first) project it belongs to."""
    from omniva_resources import projects

    out: dict[str, str] = {}
    for p in projects.list_projects(layout):
        for creator in p.creators:
            out.setdefault(creator, p.channel or default)
    return out


@dg.asset(
    deps=[renders, clip_copy],
    group_name="publishing",
    kinds={"python"},
    code_version="2",  # 2: each creator's project channel
    check_specs=[
        dg.AssetCheckSpec(
            "no_double_booking",
            asset="publish_plan",
            blocking=True,
            description="Paradox: one upload per slot per channel, daily quota kept",
        )
    ],
)
def publish_plan(context: dg.AssetExecutionContext, store: OmnivaStore, publish_rules: PublishRules):
    """When each rendered clip goes out: at most ``daily_quota`` a day per channel, one per slot.

    A clip goes to its creator's project's channel (``omniva projects``), else to the default
    channel. Slots already planned never move, so re-planning only places new clips.
    """
    wh = store.warehouse
    channels = project_channels(store.layout, publish_rules.channel)
    ready = [
        ReadyClip(
            r["clip_id"],
            r["clip_key"],
            channels.get(r["creator"], publish_rules.channel),
            float(r["priority"] or 0),
        )
        for r in wh.query_file("ready_clips")
    ]
    committed = [
        PlannedSlot(
            r["clip_id"],
            r["clip_key"],
            r["channel"],
            r["final_scheduled_time"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            float((json.loads(r["horizon_adjustments"] or "{}")).get("priority", 0)),
            # Keep the reason the slot was first given (HaloLux shows it), not "re-planned".
            (json.loads(r["horizon_adjustments"] or "{}")).get("reason") or "committed earlier",
        )
        for r in wh.query("SELECT * FROM schedules")
    ]
    rules = PlanRules(
        daily_quota=publish_rules.daily_quota,
        slot_times_utc=tuple(t.strip() for t in publish_rules.slot_times_utc.split(",")),
    )
    plan = plan_publish(ready, committed, datetime.now(UTC), rules)
    for s in plan.slots:
        store.record(
            "schedules",
            s.clip_key,
            [
                {
                    "schedule_id": stable_id("schedule", s.clip_id),
                    "clip_id": s.clip_id,
                    "clip_key": s.clip_key,
                    "channel": s.channel,
                    "recommended_time": s.publish_at,
                    "final_scheduled_time": s.publish_at,
                    "horizon_adjustments": {"priority": s.priority, "reason": s.reason},
                    "status": "SCHEDULED",
                }
            ],
        )
    table = "\n".join(
        f"| {s.publish_at} | `{s.clip_key}` | {s.priority:.2f} | {s.reason} |" for s in plan.slots
    )
    decision = f"{len(plan.slots)} slot(s), quota {rules.daily_quota}/day\n\n| when | clip | priority | why |\n|---|---|---|---|\n{table}"
    meta, row = stardust.packet(
        context,
        entity_type="schedules",
        entity_id=stable_id("publish_plan", publish_rules.channel),
        trace_id=stable_id("trace", "channel", publish_rules.channel),
        source_url=None,
        creator=None,
        params={
            "daily_quota": rules.daily_quota,
            "slots": rules.slot_times_utc,
            "channels": sorted({c.channel for c in ready}),
        },
        decision=decision,
    )
    store.record_stardust(row)
    problems = double_booked(plan)
    yield dg.Output(
        plan,
        metadata={
            **meta,
            "slots": len(plan.slots),
            "deferred": len(plan.deferred),
            "clip_keys": dg.MetadataValue.json([s.clip_key for s in plan.slots]),
        },
    )
    yield dg.AssetCheckResult(
        check_name="no_double_booking",
        passed=not problems,
        description="; ".join(problems) or "every slot holds one upload",
    )


@dg.asset(
    partitions_def=clip_partitions,
    group_name="publishing",
    kinds={"youtube"},
    # Dagster reports a code change as staleness of that asset only; its dependents turn
    # unsynced once it re-materializes. An upload publishes the render, so the render's
    # parameters are part of the upload's version too: a render change shows both unsynced.
    code_version=f"2-{RENDER_CODE_VERSION}",
    pool="youtube_upload",
    # A quota deferral emits no materialization (see ``_defer``), so the output is optional.
    output_required=False,
)
def uploads(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    youtube_api: YouTubeResource,
    publish_rules: PublishRules,
    renders: Render,
    clip_copy: ClipCopy,
    publish_plan: PublishPlan,
):
    """The clip on YouTube (videos.insert, resumable), private until its planned publishAt.

    Exactly once (``youtube.publish_once``): the intent and then the upload session are
    written to the clip's ledger before any byte is sent, the video id after; a rerun
    reuses a finished upload, resumes an interrupted one from the server's confirmed
    offset, or finds it on the channel by the clip's marker tag. Thumbnail, captions
    from ``<render>.srt`` (when the render has them) and the playlist follow the upload.
    When the day's API quota cannot hold the upload it is deferred, not failed.
    """
    key = str(context.partition_key)
    video_key, rank = split_clip_key(key)
    slot = publish_plan.slot_for(key)
    ledger = youtube.UploadLedger(store.layout.upload_ledger / f"{renders.clip_id}.json")
    api_root = youtube_api.effective_api_root
    with user_errors(context, store):
        opts = youtube_api.options()
        if slot is None:
            raise youtube.YouTubeError(
                f"clip {key} is not in the publish plan; materialize publish_plan first"
            )
        if opts["publish_immediately"]:
            publish_at, when = None, f"published on upload as {publish_rules.privacy_status}"
            privacy = publish_rules.privacy_status
        else:
            publish_at, when = effective_publish_at(slot.publish_at, datetime.now(UTC))
            privacy = "private"  # YouTube makes it public at publishAt
        render_path = Path(renders.path)
        srt = Path(getattr(renders, "srt_path", "") or render_path.with_suffix(".srt"))
        burned = bool(getattr(renders, "captions_burned", False))
        upload_srt = opts["captions"] == "always" or (opts["captions"] == "auto" and not burned)
        thumbnail = Path(renders.thumbnail_path) if renders.thumbnail_path else None
        request = youtube.UploadRequest(
            path=render_path,
            title=clip_copy.title,
            description=clip_copy.description,
            tags=tuple(clip_copy.tags),
            category_id=opts["category_id"] or clip_copy.category_id,
            privacy_status=privacy,
            publish_at=publish_at,
            made_for_kids=opts["made_for_kids"],
            thumbnail=thumbnail,
            contains_synthetic_media=opts["contains_synthetic_media"],
            captions=srt if upload_srt and srt.is_file() else None,
            caption_language=opts["caption_language"],
            playlist_id=opts["playlist_id"],
            marker=youtube.clip_marker(renders.clip_id),
        )
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
            _defer(context, store, key, renders, clip_copy, slot, channel, exc)
            return
    upload = Upload(
        renders.clip_id,
        outcome.video_id,
        outcome.privacy_status,
        outcome.publish_at,
        clip_copy.title,
        api_root,
        reused=outcome.reused,
    )
    if upload.publish_at:
        status = "SCHEDULED"
    else:
        status = "LIVE" if upload.privacy_status in ("public", "unlisted") else "UPLOADED"
    _record_upload_job(
        store,
        key,
        renders,
        clip_copy,
        scheduled_time=upload.publish_at,
        privacy_status=upload.privacy_status,
        yt_video_id=upload.yt_video_id,
        api_root=api_root,
        status=status,
    )
    decisions = {
        "reused": "already uploaded earlier; reused video id",
        "adopted": "found on the channel by its marker (an earlier run uploaded it); not uploaded again",
        "resumed": f"resumed the interrupted upload at byte {outcome.resumed_from}",
        "uploaded": "uploaded",
    }
    meta, row = stardust.packet(
        context,
        entity_type="upload_jobs",
        entity_id=stable_id("upload", renders.clip_id),
        trace_id=stardust.trace_id_for(video_key),
        source_url=None,
        creator=None,
        inputs={"render": renders.sha256},
        tools={"google-api-python-client": "videos.insert resumable"},
        params={
            "privacy_status": upload.privacy_status,
            "publish_at": upload.publish_at,
            "api_root": api_root,
            "channel": channel,
            "planned_slot": slot.publish_at,
            **{k: v for k, v in opts.items() if v not in (None, "")},
        },
        decision=f"{decisions[outcome.how]} as {upload.yt_video_id}; {when}",
    )
    store.record_stardust(row)
    yield dg.Output(
        upload,
        metadata={
            **meta,
            "yt_video_id": upload.yt_video_id,
            "publish_at": upload.publish_at or "",
            "reused": upload.reused,
            "how": outcome.how,
            "bytes_sent": outcome.bytes_sent,
            "resumed_from": outcome.resumed_from,
            "extras": dg.MetadataValue.json(outcome.extras),
            "channel": channel,
            "rank": rank,
        },
    )


def _defer(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    key: str,
    renders: Render,
    clip_copy: ClipCopy,
    slot,
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
    message = f"upload of {key} deferred until {until} (YouTube quota window): {exc}"
    context.log.warning(message)
    store.log(
        "uploads",
        "WARN",
        message,
        partition=key,
        clip_id=renders.clip_id,
        reason=exc.reason or "quotaExceeded",
        deferred_until=until,
        channel=channel,
        run_id=context.run_id,
    )
    _record_upload_job(
        store,
        key,
        renders,
        clip_copy,
        scheduled_time=slot.publish_at,
        privacy_status="private",
        yt_video_id=None,
        api_root=None,
        status="DEFERRED",
    )
    context.log_event(
        dg.AssetObservation(
            asset_key=context.asset_key,
            partition=key,
            metadata={
                "deferred_until": until,
                "reason": exc.reason or "quotaExceeded",
                "message": message,
                "channel": channel,
            },
        )
    )


def _record_upload_job(store: OmnivaStore, key: str, renders: Render, clip_copy: ClipCopy, **fields) -> None:
    """The clip's one row in ``upload_jobs`` (rewritten on every outcome: uploaded or deferred)."""
    store.record(
        "upload_jobs",
        key,
        [
            {
                "upload_job_id": stable_id("upload", renders.clip_id),
                "clip_id": renders.clip_id,
                "title": clip_copy.title,
                "description": clip_copy.description,
                "keywords": list(clip_copy.tags),
                "created_at": stardust.now_iso(),
                **fields,
            }
        ],
    )
