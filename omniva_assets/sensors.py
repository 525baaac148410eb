"""Sensors and the schedule: the thin Dagster side of Zenith.

``zenith_gate`` applies Zenith's rule (``cognitive_sensors.zenith.decide_partitions``) on the
instance: what is quarantined, whether the stage is in crisis, and a record of every decision.
The sensors, the CLI's driver and the REST API all launch through it.
"""

import json
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime, timedelta

import dagster as dg
import duckdb

from cognitive_sensors import lattice
from cognitive_sensors.goals import mix_gap
from cognitive_sensors.zenith import Decision, Priority, decide_partitions, new_partition_keys, priority_value
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
from omniva_resources import media
from omniva_resources.folder_source import days_digest
from omniva_resources.lineage import sync_lineage
from omniva_resources.resources import AsrResource, HorizonGoals, MediaTools, OmnivaStore, ScrapeSettings


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
    existing = known_partitions(context.instance, creators_partitions)
    new = new_partition_keys(active, existing)
    if not new:
        return dg.SkipReason(f"{len(active)} creator(s), none new")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(partition_key=n, run_key=f"creator-{n}", tags={"omniva/creator": n}) for n in new
        ],
        dynamic_partitions_requests=[creators_partitions.build_add_request(new)],
    )


def metadata_list(mat: dg.AssetMaterialization | None, key: str) -> list[str]:
    """A list an asset put in its materialization's metadata (video keys, ranks, clip keys)."""
    value = mat.metadata[key].value if mat is not None and key in mat.metadata else None
    return [str(v) for v in value] if isinstance(value, list | tuple) else []


def video_keys_from(records) -> list[str]:
    return [k for r in records for k in metadata_list(r.asset_materialization, "video_keys")]


def zenith_gate(
    instance: dg.DagsterInstance,
    store: OmnivaStore,
    source: str,
    stage: str,
    keys: Iterable[str],
    done: Collection[str] = frozenset(),
    *,
    requested: str = "new",
    tags: dict | None = None,
    check_crisis: bool = True,
    priorities: Mapping[str, Priority] | None = None,
    selected: Mapping[str, Collection[int]] | None = None,
) -> tuple[list[Decision], str | None]:
    """Zenith's gate for ``stage`` on the instance: request what is new, highest Lattice
    priority first (``priorities``), skip what is done or quarantined, refuse a clip Pantheon
    did not select (``selected``: video key -> ranks), defer everything while the stage's job
    is in crisis (unless ``check_crisis`` is off); each decision is recorded under ``source``
    with its reason. Returns the decisions (in order) and the crisis."""
    crisis = stage_crisis(instance, store, f"{stage}_job") if check_crisis else None
    decisions = decide_partitions(
        keys,
        done,
        store.quarantined(),
        crisis=crisis,
        requested=requested,
        priorities=priorities,
        selected=selected,
    )
    store.record_decisions(source, stage, decisions, tags=tags)
    return decisions, crisis


def known_partitions(instance: dg.DagsterInstance, partitions: dg.DynamicPartitionsDefinition) -> set[str]:
    assert partitions.name is not None  # Omniva's dynamic partitions are all named
    return set(instance.get_dynamic_partitions(partitions.name))


def register_partitions(
    instance: dg.DagsterInstance, partitions: dg.DynamicPartitionsDefinition, keys: Iterable[str]
) -> list[str]:
    """Add the keys the instance does not know yet; returns them."""
    assert partitions.name is not None
    new = new_partition_keys(list(keys), known_partitions(instance, partitions))
    if new:
        instance.add_dynamic_partitions(partitions.name, new)
    return new


def zenith_requests(
    context: dg.SensorEvaluationContext,
    store: OmnivaStore,
    stage: str,
    keys: list[str],
    done: Collection[str],
    run_key_prefix: str,
    priorities: Mapping[str, Priority] | None = None,
    selected: Mapping[str, Collection[int]] | None = None,
    gpu: bool = False,
) -> list[dg.RunRequest]:
    """The sensors' run requests: one per partition Zenith's gate requests, in Zenith's order
    (highest Lattice priority first; ``priorities``: partition key -> 0..1 or (value, reason),
    default 0.5), its reason and Lattice's tags (priority, lane) on the run."""
    decisions, _ = zenith_gate(
        context.instance,
        store,
        f"{stage}_sensor",
        stage,
        keys,
        done,
        priorities=priorities,
        selected=selected,
    )
    rank = priorities or {}
    return [
        dg.RunRequest(
            partition_key=d.partition_key,
            run_key=f"{run_key_prefix}-{d.partition_key}",
            tags={
                "omniva/zenith": d.reason,
                **lattice.route(stage, priority_value(rank.get(d.partition_key, 0.5)), gpu=gpu),
            },
        )
        for d in decisions
        if d.action == "request"
    ]


def clip_priorities(
    store: OmnivaStore, horizon: HorizonGoals, keys: list[str], now: datetime | None = None
) -> dict[str, Priority]:
    """Lattice's priority per clip partition, with its reason: Pantheon's consensus, the age of
    the post the video came from, and how short the creator's project is of the clip's topic
    this week (Horizon's gap)."""
    if not keys:
        return {}
    try:
        rows = store.warehouse.query_file("clip_priority_inputs", [keys])
        mix = {r["topic"]: r["n"] for r in store.warehouse.query_file("week_topic_mix")}
    except duckdb.CatalogException:  # nothing selected or scheduled yet
        return {}
    now = now or datetime.now(UTC)
    gaps: dict[str, dict[str, float]] = {}
    out: dict[str, Priority] = {}
    for r in rows:
        creator = r["creator"] or ""
        if creator not in gaps:
            gaps[creator] = mix_gap(horizon.goals_for(creator, store.layout), mix)
        posted = r["posted_at"]
        age_h = (now - posted).total_seconds() / 3600 if posted is not None else None
        gap = gaps[creator].get(r["topic"], 0.0) if r["topic"] else 0.0
        out[r["clip_key"]] = lattice.clip_priority(float(r["consensus"] or 0.0), age_h, gap)
    return out


def selected_ranks(instance: dg.DagsterInstance, video_keys: Iterable[str]) -> dict[str, list[int]]:
    """The ranks Pantheon selected per video (its latest ``clip_selections``), for Zenith to
    refuse a clip that was not selected; videos without a selection are left out."""
    out: dict[str, list[int]] = {}
    for video in dict.fromkeys(video_keys):
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("clip_selections"), asset_partitions=[video]), limit=1
        ).records
        if records:
            out[video] = [int(r) for r in metadata_list(records[0].asset_materialization, "ranks")]
    return out


def gpu_configured(stage: str, media_tools: MediaTools, asr_model: AsrResource) -> bool:
    """Lattice's GPU lane: renders when ffmpeg has a GPU H.264 encoder that is not disabled,
    transcriptions when the ASR device is a GPU."""
    if stage == "clip":
        return lattice.gpu_lane(stage, encoder=media.h264_encoder(media_tools.tools()))
    return lattice.gpu_lane(stage, asr_device=asr_model.device)


def video_priorities(store: OmnivaStore, keys: list[str]) -> dict[str, float]:
    """Lattice's priority per video from its views and likes (the most watched first)."""
    if not keys:
        return {}
    try:
        rows = store.warehouse.query_file("post_engagement", [keys])
    except duckdb.CatalogException:  # no posts written yet: nothing to rank by
        return {}
    return lattice.engagement_priorities({r["video_key"]: (r["views"], r["likes"]) for r in rows})


@dg.sensor(
    job=video_job,
    minimum_interval_seconds=30,
    description="Zenith: registers videos found in new posts and runs the new ones.",
)
def video_sensor(
    context: dg.SensorEvaluationContext, store: OmnivaStore, media_tools: MediaTools, asr_model: AsrResource
):
    records, cursor = _new_materializations(context, "posts")
    keys = video_keys_from(records)
    existing = known_partitions(context.instance, videos_partitions)
    done = context.instance.get_materialized_partitions(dg.AssetKey("videos")) if existing else set()
    return dg.SensorResult(
        run_requests=zenith_requests(
            context,
            store,
            "video",
            keys,
            done,
            "video",
            video_priorities(store, keys),
            gpu=gpu_configured("video", media_tools, asr_model),
        ),
        dynamic_partitions_requests=[videos_partitions.build_add_request(new_partition_keys(keys, existing))],
        cursor=cursor,
    )


@dg.sensor(
    job=clip_job,
    minimum_interval_seconds=30,
    description="Zenith: edits and renders the clips Pantheon selected (only ranks that exist).",
)
def clip_sensor(
    context: dg.SensorEvaluationContext,
    store: OmnivaStore,
    horizon: HorizonGoals,
    media_tools: MediaTools,
    asr_model: AsrResource,
):
    records, cursor = _new_materializations(context, "clip_selections")
    keys = [
        clip_key(r.partition_key, rank)
        for r in records
        for rank in metadata_list(r.asset_materialization, "ranks")
    ]
    done = context.instance.get_materialized_partitions(dg.AssetKey("renders"))
    # The partitions exist: the selection step added them when it wrote the selection.
    requests = zenith_requests(
        context,
        store,
        "clip",
        keys,
        done,
        "clip",
        priorities=clip_priorities(store, horizon, keys),
        gpu=gpu_configured("clip", media_tools, asr_model) if keys else False,
    )
    return dg.SensorResult(run_requests=requests, cursor=cursor)


@dg.sensor(
    job=publish_plan_job, minimum_interval_seconds=60, description="Re-plans publishing when renders land."
)
def publish_plan_sensor(context: dg.SensorEvaluationContext):
    # One plan at a time: while a plan run is queued or running, new renders wait for the next
    # tick (the cursor stays), and that plan places them all at once.
    pending = plan_runs_pending(context.instance)
    if pending:
        return dg.SkipReason(f"publish_plan_job run {pending[0]} not finished; renders wait for it")
    records, cursor = _new_materializations(context, "renders")
    if not records:
        return dg.SkipReason("no new renders")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"plan-{cursor}")], cursor=cursor)


UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def plan_runs_pending(instance: dg.DagsterInstance) -> list[str]:
    """The ids of publish-plan runs queued or running."""
    runs = instance.get_runs(filters=dg.RunsFilter(job_name="publish_plan_job", statuses=UNFINISHED), limit=5)
    return [r.run_id for r in runs]


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
    keys = metadata_list(records[-1].asset_materialization, "clip_keys")
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
    existing = known_partitions(context.instance, creators_partitions)
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
    mat = records[0].asset_materialization if records else None
    meta = mat.metadata if mat else {}
    return bool(meta["pending_live"].value) if "pending_live" in meta else False


@dg.sensor(
    job=posts_job,
    minimum_interval_seconds=60,
    description="Watches local-folder creators: a day whose files changed gets its posts listed again.",
)
def folder_sensor(context: dg.SensorEvaluationContext, store: OmnivaStore, scrape: ScrapeSettings):
    seen = json.loads(context.cursor) if context.cursor else {}
    existing = known_partitions(context.instance, creators_partitions)
    requests, now_seen = [], {}
    for c in creator_registry.active(store.layout):
        if c.platform != "folder" or c.name not in existing:
            continue
        now_seen[c.name] = days_digest(c.name, c.url, scrape.folder_settle_s)
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
    report = sync_lineage(context.instance, store.warehouse)
    return dg.SkipReason(
        f"mirrored {report.runs_synced} of {report.runs_seen} finished run(s): "
        f"{report.materializations} materialization(s), {report.checks} check result(s)"
    )
