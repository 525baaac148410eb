"""Sensors and the schedule: the thin Dagster side of Zenith."""

import json
from datetime import UTC, datetime, timedelta

import dagster as dg

from cognitive_sensors import lattice
from cognitive_sensors.zenith import Decision, decide_partitions, new_partition_keys
from omniva_assets.eclipse import stage_crisis
from omniva_assets.jobs import clip_job, creators_job, posts_job, publish_plan_job, upload_job, video_job
from omniva_assets.partitions import (
    clip_key,
    creators_partitions,
    days_partitions,
    post_key,
    videos_partitions,
)
from omniva_resources import creators as creator_registry
from omniva_resources.resources import OmnivaStore


def _new_materializations(context, asset: str, limit: int = 200):
    cursor = int(context.cursor or 0)
    result = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), after_storage_id=cursor),
        limit=limit,
        ascending=True,
    )
    records = list(result.records)
    new_cursor = str(max([cursor, *(r.storage_id for r in records)]))
    return records, new_cursor


@dg.sensor(
    job=creators_job,
    minimum_interval_seconds=30,
    description="Registers creators added with `omniva creators add`.",
)
def creator_sensor(context: dg.SensorEvaluationContext, store: OmnivaStore):
    active = [c.name for c in creator_registry.active(store.layout)]
    existing = set(context.instance.get_dynamic_partitions(creators_partitions.name))
    new = new_partition_keys(active, existing)
    if not new:
        return dg.SkipReason(f"{len(active)} creator(s), none new")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(partition_key=n, run_key=f"creator-{n}", tags={"omniva/creator": n}) for n in new
        ],
        dynamic_partitions_requests=[creators_partitions.build_add_request(new)],
    )


def video_keys_from(records) -> list[str]:
    keys = []
    for r in records:
        meta = r.asset_materialization.metadata if r.asset_materialization else {}
        if "video_keys" in meta:
            keys += list(meta["video_keys"].value)
    return keys


def zenith_requests(
    context, store: OmnivaStore, stage: str, keys: list[str], done: set[str], run_key_prefix: str
) -> list[dg.RunRequest]:
    """Zenith's policy, shared by the sensors: request new partitions with a reason; skip done
    and quarantined ones; defer everything while the stage is in crisis; record each decision."""
    decisions = decide_partitions(keys, done, store.quarantined())
    crisis = stage_crisis(context.instance, store, f"{stage}_job")
    if crisis:
        decisions = [
            Decision(d.partition_key, "defer", crisis) if d.action == "request" else d for d in decisions
        ]
    store.record_decisions(f"{stage}_sensor", stage, decisions)
    return [
        dg.RunRequest(
            partition_key=d.partition_key,
            run_key=f"{run_key_prefix}-{d.partition_key}",
            tags={"omniva/zenith": d.reason, **lattice.route(stage)},
        )
        for d in decisions
        if d.action == "request"
    ]


@dg.sensor(
    job=video_job,
    minimum_interval_seconds=30,
    description="Zenith: registers videos found in new posts and runs the new ones.",
)
def video_sensor(context: dg.SensorEvaluationContext, store: OmnivaStore):
    records, cursor = _new_materializations(context, "posts")
    keys = video_keys_from(records)
    existing = set(context.instance.get_dynamic_partitions(videos_partitions.name))
    done = context.instance.get_materialized_partitions(dg.AssetKey("videos")) if existing else set()
    return dg.SensorResult(
        run_requests=zenith_requests(context, store, "video", keys, done, "video"),
        dynamic_partitions_requests=[videos_partitions.build_add_request(new_partition_keys(keys, existing))],
        cursor=cursor,
    )


@dg.sensor(
    job=clip_job,
    minimum_interval_seconds=30,
    description="Zenith: edits and renders the clips Pantheon selected (only ranks that exist).",
)
def clip_sensor(context: dg.SensorEvaluationContext, store: OmnivaStore):
    records, cursor = _new_materializations(context, "clip_selections")
    keys = []
    for r in records:
        meta = r.asset_materialization.metadata
        video = r.asset_materialization.partition
        keys += [str(clip_key(video, rank)) for rank in (meta["ranks"].value if "ranks" in meta else [])]
    done = context.instance.get_materialized_partitions(dg.AssetKey("renders"))
    return dg.SensorResult(
        run_requests=zenith_requests(context, store, "clip", keys, done, "clip"), cursor=cursor
    )


@dg.sensor(
    job=publish_plan_job, minimum_interval_seconds=60, description="Re-plans publishing when renders land."
)
def publish_plan_sensor(context: dg.SensorEvaluationContext):
    records, cursor = _new_materializations(context, "renders")
    if not records:
        return dg.SkipReason("no new renders")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"plan-{cursor}")], cursor=cursor)


@dg.sensor(
    job=upload_job,
    minimum_interval_seconds=60,
    description="Zenith: uploads the clips the publish plan placed (quota and quarantine respected).",
)
def upload_sensor(context: dg.SensorEvaluationContext, store: OmnivaStore):
    records, cursor = _new_materializations(context, "publish_plan", limit=1)
    if not records:
        return dg.SkipReason("no new publish plan")
    uploaded = context.instance.get_materialized_partitions(dg.AssetKey("uploads"))
    slots = records[-1].asset_materialization.metadata.get("clip_keys")
    keys = list(slots.value) if slots else []
    return dg.SensorResult(
        # A quota-deferred upload is tried again the next day: the run key carries the date.
        run_requests=zenith_requests(
            context, store, "upload", keys, uploaded, f"upload-{datetime.now(UTC).date().isoformat()}"
        ),
        cursor=cursor,
    )


@dg.schedule(
    job=posts_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    description="Every morning, list each active creator's posts of the day before.",
)
def daily_posts_schedule(context: dg.ScheduleEvaluationContext):
    today = context.scheduled_execution_time.date()
    day = (today - timedelta(days=1)).isoformat()
    store = OmnivaStore()
    names = [c.name for c in creator_registry.active(store.layout)]
    existing = set(context.instance.get_dynamic_partitions(creators_partitions.name))
    requests = [
        dg.RunRequest(partition_key=post_key(n, day), run_key=f"posts-{n}-{day}")
        for n in names
        if n in existing
    ]
    # A day listed while a live stream or premiere was still running is listed again (for a
    # week) until nothing is pending: the finished stream then becomes a post.
    for n in (n for n in names if n in existing):
        for back in range(2, 9):
            earlier = (today - timedelta(days=back)).isoformat()
            if _pending_live(context.instance, str(post_key(n, earlier))):
                requests.append(
                    dg.RunRequest(
                        partition_key=post_key(n, earlier),
                        run_key=f"posts-{n}-{earlier}-recheck-{today.isoformat()}",
                        tags={"omniva/zenith": "live stream or premiere pending on that day"},
                    )
                )
    return requests


def _pending_live(instance: dg.DagsterInstance, partition: str) -> bool:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("posts"), asset_partitions=[partition]), limit=1
    ).records
    meta = records[0].asset_materialization.metadata if records else {}
    return bool(meta["pending_live"].value) if "pending_live" in meta else False


@dg.sensor(
    job=posts_job,
    minimum_interval_seconds=60,
    description="Watches local-folder creators: a day whose files changed gets its posts listed again.",
)
def folder_sensor(context: dg.SensorEvaluationContext, store: OmnivaStore):
    from omniva_resources.folder_source import days_digest

    seen = json.loads(context.cursor) if context.cursor else {}
    existing = set(context.instance.get_dynamic_partitions(creators_partitions.name))
    requests, now_seen = [], {}
    for c in creator_registry.active(store.layout):
        if c.platform != "folder" or c.name not in existing:
            continue
        now_seen[c.name] = days_digest(c.name, c.url)
        first = days_partitions.start.date().isoformat()
        for day, digest in sorted(now_seen[c.name].items()):
            if day >= first and seen.get(c.name, {}).get(day) != digest:
                requests.append(
                    dg.RunRequest(
                        partition_key=post_key(c.name, day),
                        run_key=f"folder-{c.name}-{day}-{digest}",
                        tags={
                            "omniva/creator": c.name,
                            "omniva/zenith": "new or changed files in the folder",
                        },
                    )
                )
    cursor = json.dumps(now_seen, sort_keys=True)
    if not requests:
        return dg.SensorResult(skip_reason=f"{len(now_seen)} folder creator(s), no new files", cursor=cursor)
    return dg.SensorResult(run_requests=requests, cursor=cursor)


ALL_SENSORS = [creator_sensor, folder_sensor, video_sensor, clip_sensor, publish_plan_sensor, upload_sensor]


@dg.sensor(
    minimum_interval_seconds=120,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Stardust: mirrors Dagster's runs, materializations and checks into the DuckDB warehouse.",
)
def lineage_sync_sensor(context: dg.SensorEvaluationContext, store: OmnivaStore):
    from omniva_resources.lineage import sync_lineage

    report = sync_lineage(context.instance, store.warehouse)
    return dg.SkipReason(
        f"mirrored {report.runs_synced} of {report.runs_seen} finished run(s): "
        f"{report.materializations} materialization(s), {report.checks} check result(s)"
    )
