"""Publishing: the publish plan (quota and slots) and the YouTube uploads."""

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from cognitive_sensors import stardust
from cognitive_sensors.horizon import PlanRules, ReadyClip, double_booked, plan_publish
from omniva.records import ClipCopy, PlannedSlot, PublishPlan, Render, Upload, stable_id
from omniva_assets.clips.assets import clip_copy, renders
from omniva_assets.common import user_errors
from omniva_assets.partitions import clip_partitions, split_clip_key
from omniva_resources import youtube
from omniva_resources.resources import OmnivaStore, PublishRules, YouTubeResource


@dg.asset(
    deps=[renders, clip_copy],
    group_name="publishing",
    kinds={"python"},
    code_version="1",
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
    """When each rendered clip goes out: at most ``daily_quota`` a day, one per slot.

    Slots already planned never move, so re-planning only places new clips.
    """
    wh = store.warehouse
    ready = [
        ReadyClip(r["clip_id"], r["clip_key"], publish_rules.channel, float(r["priority"] or 0))
        for r in wh.query_file("ready_clips")
    ]
    committed = [
        PlannedSlot(
            r["clip_id"],
            r["clip_key"],
            r["channel"],
            r["final_scheduled_time"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            float((json.loads(r["horizon_adjustments"] or "{}")).get("priority", 0)),
            "committed earlier",
        )
        for r in wh.query("SELECT * FROM schedules WHERE channel = ?", [publish_rules.channel])
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
        params={"daily_quota": rules.daily_quota, "slots": rules.slot_times_utc},
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
    code_version="1",
    pool="youtube_upload",
)
def uploads(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    youtube_api: YouTubeResource,
    publish_rules: PublishRules,
    renders: Render,
    clip_copy: ClipCopy,
    publish_plan: PublishPlan,
) -> Upload:
    """The clip on YouTube (videos.insert, resumable), private until its planned publishAt.

    Exactly once: the intent is written before the upload and the video id after it;
    a clip whose upload finished is never uploaded again.
    """
    key = str(context.partition_key)
    video_key, rank = split_clip_key(key)
    slot = publish_plan.slot_for(key)
    ledger = store.layout.upload_ledger / f"{renders.clip_id}.json"
    with user_errors(context, store):
        if slot is None:
            raise youtube.YouTubeError(
                f"clip {key} is not in the publish plan; materialize publish_plan first"
            )
        done = json.loads(ledger.read_text()) if ledger.exists() else {}
        api_root = youtube_api.api_root or "https://www.googleapis.com/"
        if done.get("yt_video_id") and done.get("api_root") == api_root:
            upload = Upload(
                renders.clip_id,
                done["yt_video_id"],
                done["privacy_status"],
                done.get("publish_at"),
                done["title"],
                api_root,
                reused=True,
            )
        else:
            _write_json(
                ledger,
                {
                    "state": "started",
                    "clip_key": key,
                    "sha256": renders.sha256,
                    "api_root": api_root,
                    "at": stardust.now_iso(),
                },
            )
            result = youtube_api.uploader().upload(
                youtube.UploadRequest(
                    path=Path(renders.path),
                    title=clip_copy.title,
                    description=clip_copy.description,
                    tags=clip_copy.tags,
                    category_id=clip_copy.category_id,
                    privacy_status=publish_rules.privacy_status,
                    publish_at=slot.publish_at,
                    thumbnail=Path(renders.thumbnail_path),
                )
            )
            upload = Upload(
                renders.clip_id,
                result.video_id,
                result.privacy_status,
                result.publish_at,
                clip_copy.title,
                api_root,
                reused=False,
            )
            _write_json(
                ledger,
                {
                    "state": "done",
                    "clip_key": key,
                    "yt_video_id": result.video_id,
                    "privacy_status": result.privacy_status,
                    "publish_at": result.publish_at,
                    "title": clip_copy.title,
                    "api_root": api_root,
                    "at": stardust.now_iso(),
                },
            )
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
                "scheduled_time": upload.publish_at,
                "privacy_status": upload.privacy_status,
                "yt_video_id": upload.yt_video_id,
                "api_root": api_root,
                "status": "SCHEDULED" if upload.publish_at else "PUBLISHED",
                "created_at": stardust.now_iso(),
            }
        ],
    )
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
        },
        decision=("already uploaded earlier; reused video id" if upload.reused else "uploaded")
        + f" as {upload.yt_video_id}, publishAt {upload.publish_at}",
    )
    store.record_stardust(row)
    context.add_output_metadata(
        {
            **meta,
            "yt_video_id": upload.yt_video_id,
            "publish_at": upload.publish_at or "",
            "reused": upload.reused,
            "rank": rank,
        }
    )
    return upload


def _write_json(path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)
