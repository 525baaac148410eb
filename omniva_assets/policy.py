"""Zenith's launch policy on the instance: the one place that decides which partitions of a stage
run, in which order, and with which tags.

The sensors (each domain's ``sensors.py``), ``omniva run`` (``omniva_app.driver``) and the REST API
call ``LaunchPolicy.plan`` with the partition keys a stage was fed, so the three launch exactly
the same work in the same order: what a stage is fed (``keys_from``), when a partition counts as
done (``Stage.done_when``), Zenith's gate (quarantine, crisis, Pantheon's selection), Lattice's
priorities (engagement for videos; consensus, age and Horizon's gap for clips) and its lanes.
The rules themselves are pure (``cognitive_sensors.zenith``, ``cognitive_sensors.lattice``); this
module reads their inputs from the instance and the warehouse.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import duckdb

from cognitive_sensors import eclipse, lattice
from cognitive_sensors.goals import Goals, load_goals, mix_gap
from cognitive_sensors.zenith import Decision, Priority, decide_partitions, new_partition_keys, priority_value
from omniva_assets.partitions import clip_key, clips_partitions, split_clip_key, videos_partitions
from omniva_resources import media, projects
from omniva_resources.project_file import Project
from omniva_resources.resources import AsrResource, HorizonGoals, MediaTools, OmnivaStore, PublishRules


@dataclass(frozen=True)
class Stage:
    """One launchable stage of the chain: its job, the asset whose materializations feed it its
    partition keys, and the assets that must all have materialized a partition for it to be done."""

    name: str
    job: str
    fed_by: str | None
    done_when: tuple[str, ...]
    partitions: dg.DynamicPartitionsDefinition | None = None


# The chain, in order: posts list videos, a video's run selects clips, clip runs render them,
# the publish plan places the renders, uploads publish what the plan placed.
STAGES: dict[str, Stage] = {
    "download": Stage("download", "download_job", "posts", ("videos",), videos_partitions),
    "video": Stage("video", "video_job", "posts", ("clip_selections",), videos_partitions),
    "clip": Stage("clip", "clip_job", "clip_selections", ("renders", "clip_copy"), clips_partitions),
    "upload": Stage("upload", "upload_job", "publish_plan", ("uploads", "clip_explanations")),
}


def metadata_list(mat: dg.AssetMaterialization | None, key: str) -> list[str]:
    """A list an asset put in its materialization's metadata (video keys, ranks, clip keys)."""
    value = mat.metadata[key].value if mat is not None and key in mat.metadata else None
    return [str(v) for v in value] if isinstance(value, list | tuple) else []


def keys_from(stage: str, records: Iterable[dg.EventLogRecord]) -> list[str]:
    """The partition keys ``stage`` is fed by these materializations of its ``fed_by`` asset: the
    videos a posts partition listed, the clips a selection picked, the clips a plan placed."""
    out: list[str] = []
    for r in records:
        mat = r.asset_materialization
        if stage in ("video", "download"):
            out += metadata_list(mat, "video_keys")
        elif stage == "clip":
            out += [clip_key(str(r.partition_key), rank) for rank in metadata_list(mat, "ranks")]
        elif stage == "upload":
            out = metadata_list(mat, "clip_keys")  # the latest plan replaces the earlier ones
    return list(dict.fromkeys(out))


def latest(
    instance: dg.DagsterInstance, asset: str, partition: str | None = None
) -> dg.EventLogRecord | None:
    """The latest materialization of ``asset`` (of one partition)."""
    flt = dg.AssetRecordsFilter(
        asset_key=dg.AssetKey(asset), asset_partitions=[partition] if partition else None
    )
    records = instance.fetch_materializations(flt, limit=1).records
    return records[0] if records else None


def new_materializations(
    context: dg.SensorEvaluationContext, asset: str, limit: int = 200
) -> tuple[list[dg.EventLogRecord], str]:
    """A sensor's new materializations of ``asset`` since its cursor, and the cursor after them."""
    cursor = int(context.cursor or 0)
    result = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), after_storage_id=cursor),
        limit=limit,
        ascending=True,
    )
    records = list(result.records)
    return records, str(max([cursor, *(r.storage_id for r in records)]))


def run_requests(plan: Plan, run_key_prefix: str) -> list[dg.RunRequest]:
    """A sensor's run requests for a plan: one per launch, in the plan's order."""
    return [
        dg.RunRequest(
            partition_key=la.partition_key, run_key=f"{run_key_prefix}-{la.partition_key}", tags=la.tags
        )
        for la in plan.launches
    ]


def done(instance: dg.DagsterInstance, stage: str) -> set[str]:
    """The partitions of ``stage`` every one of its ``done_when`` assets materialized."""
    sets = [instance.get_materialized_partitions(dg.AssetKey(a)) for a in STAGES[stage].done_when]
    return set.intersection(*sets) if sets else set()


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


def selected_ranks(instance: dg.DagsterInstance, video_keys: Iterable[str]) -> dict[str, list[int]]:
    """The ranks Pantheon selected per video (its latest ``clip_selections``), for Zenith to
    refuse a clip that was not selected; videos without a selection are left out."""
    out: dict[str, list[int]] = {}
    for video in dict.fromkeys(video_keys):
        rec = latest(instance, "clip_selections", video)
        if rec is not None:
            out[video] = [int(r) for r in metadata_list(rec.asset_materialization, "ranks")]
    return out


def gpu_configured(stage: str, media_tools: MediaTools, asr_model: AsrResource) -> bool:
    """Lattice's GPU lane: renders when ffmpeg has a GPU H.264 encoder that is not disabled,
    transcriptions when the ASR device is a GPU."""
    if stage == "clip":
        return lattice.gpu_lane(stage, encoder=media.h264_encoder(media_tools.tools()))
    if stage == "video":
        return lattice.gpu_lane(stage, asr_device=asr_model.device)
    return False


def stage_crisis(
    instance: dg.DagsterInstance, store: OmnivaStore, job_name: str, window: int = 10
) -> str | None:
    """Crisis mode for one stage: too many of its recent runs failed for reasons other than bad input."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(
            job_name=job_name, statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]
        ),
        limit=window,
    )
    bad_input_runs = {r["run_id"] for r in store.warehouse.query_file("bad_input_runs", [job_name])}
    outcomes = [
        r.dagster_run.status == dg.DagsterRunStatus.FAILURE
        for r in records
        if r.dagster_run.run_id not in bad_input_runs
    ]
    reason = eclipse.crisis(outcomes)
    return f"{job_name}: {reason}" if reason else None


@dataclass(frozen=True)
class Launch:
    """One run to launch: its partition, Zenith's reason and the run's tags."""

    partition_key: str
    reason: str
    tags: dict[str, str]
    priority: float = 0.5  # Lattice's, 0..1


@dataclass(frozen=True)
class Plan:
    """What the policy decided for one stage: the runs to launch (in order), every decision with
    its reason, and the stage's crisis, if any."""

    stage: str
    launches: list[Launch]
    decisions: list[Decision]
    crisis: str | None = None


#: Sources that are someone's explicit request (the operator's `omniva run`, a key's API action):
#: they run a stopped project's creators too. Every other source (a sensor) skips them.
EXPLICIT_SOURCES = frozenset({"omniva-cli", "omniva-api"})


def stopped_reason(project: str) -> str:
    return f"project proj_{project} is stopped"


#: How every "held for review" reason starts (``review_wait_reason``).
REVIEW_WAIT = "waiting for review"


def review_wait_reason(project: str) -> str:
    return f"{REVIEW_WAIT} (project proj_{project} requires approval)"


def rejected_reason(review: Mapping[str, Any]) -> str:
    return f"rejected by {review.get('author') or 'a reviewer'}: {review.get('reason') or 'no reason given'}"


# The resources the policy reads, in its fields' order.
RESOURCES = ("store", "horizon", "media_tools", "asr_model", "publish_rules")


@dataclass
class LaunchPolicy:
    """Zenith's gate and Lattice's order on one instance and warehouse. ``gpus``: the deployment's
    GPU lanes (``OMNIVA_GPUS``, where runs go through the queue to GPU workers)."""

    instance: dg.DagsterInstance
    store: OmnivaStore
    horizon: HorizonGoals
    media_tools: MediaTools
    asr_model: AsrResource
    publish_rules: PublishRules
    gpus: int = 0
    _ranks: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, instance: dg.DagsterInstance, resources: Mapping[str, Any], gpus: int = 0) -> LaunchPolicy:
        """The policy over a Definitions' resources (``defs.resources``; ``RESOURCES`` names the
        ones it reads). A sensor takes the same resources as parameters."""
        store, horizon, media_tools, asr_model, publish_rules = (resources[k] for k in RESOURCES)
        return cls(instance, store, horizon, media_tools, asr_model, publish_rules, gpus)

    def plan(
        self,
        stage: str,
        keys: Sequence[str],
        source: str,
        *,
        requested: str = "new",
        again: bool = False,
        exclude_done: Collection[str] = (),
        extra_tags: Mapping[str, str] | None = None,
        record_tags: dict | None = None,
    ) -> Plan:
        """Decide ``keys`` of ``stage`` (recorded under ``source``): the runs to launch, highest
        Lattice priority first. ``again``: request what is done too (an explicit re-run);
        ``exclude_done``: partitions to treat as not done (stale renders). A sensor's plan
        skips the keys whose creator's project is stopped; an explicit source
        (``EXPLICIT_SOURCES``) runs them."""
        keys = list(dict.fromkeys(keys))
        finished = set() if again else done(self.instance, stage) - set(exclude_done)
        listed = projects.list_projects(self.store.layout)  # projects.json, read once per plan
        priorities, creators = self._priorities(stage, keys, listed)
        paused: list[Decision] = []
        if source not in EXPLICIT_SOURCES:
            stopped = {c: p.name for p in listed if p.stopped for c in p.creators}
            paused = [
                Decision(k, "skip", stopped_reason(stopped[creators[k]]))
                for k in keys
                if creators.get(k) in stopped
            ]
            keys = [k for k in keys if creators.get(k) not in stopped]
        if stage == "upload":
            held, keys = self._review_gate(keys, creators, listed)
            paused += held
        selected = self._selected(keys) if stage in ("clip", "upload") else None
        crisis = stage_crisis(self.instance, self.store, STAGES[stage].job)
        decisions = decide_partitions(
            keys,
            finished,
            self.store.quarantined(),
            crisis=crisis,
            requested=requested,
            priorities=priorities,
            selected=selected,
        )
        decisions += paused
        self.store.record_decisions(source, stage, decisions, tags=record_tags)
        channels = self._channels() if stage == "upload" else {}
        gpu = stage in ("video", "clip") and (self.gpus > 0 or self._gpu(stage))
        launches = [
            Launch(
                d.partition_key,
                d.reason,
                tags={
                    **(extra_tags or {}),
                    "omniva/zenith": d.reason,
                    **lattice.route(
                        stage,
                        priority_value((priorities or {}).get(d.partition_key, 0.5)),
                        gpu=gpu,
                        channel=channels.get(d.partition_key, self.publish_rules.channel),
                        creator=creators.get(d.partition_key),
                    ),
                },
                priority=priority_value((priorities or {}).get(d.partition_key, 0.5)),
            )
            for d in decisions
            if d.action == "request"
        ]
        return Plan(stage, launches, decisions, crisis)

    def _review_gate(
        self, keys: list[str], creators: Mapping[str, str], listed: Sequence[Project]
    ) -> tuple[list[Decision], list[str]]:
        """Review before publish (#28): a rejected clip is refused (whatever its project's mode);
        a clip of a project whose review is "required" waits until its latest review approves
        it. Returns those decisions and the keys that go on to Zenith's other rules."""
        if not keys:
            return [], keys
        required = {c: p.name for p in listed if p.review == "required" for c in p.creators}
        creators = dict(creators)
        missing = {split_clip_key(k)[0] for k in keys if k not in creators}
        try:
            reviews = self.store.latest_reviews(keys)
            if missing:
                rows = self.store.warehouse.query_file("creators_of_videos", [sorted(missing)])
                by_video = {r["video_key"]: r["creator"] for r in rows}
                creators.update({k: by_video[v] for k in keys if (v := split_clip_key(k)[0]) in by_video})
        except duckdb.CatalogException:  # no warehouse yet
            reviews = {}
        held: list[Decision] = []
        rest: list[str] = []
        for k in keys:
            review = reviews.get(k)
            project = required.get(creators.get(k, ""))
            if review is not None and review["decision"] == "reject":
                held.append(Decision(k, "refuse", rejected_reason(review)))
            elif project is not None and (review is None or review["decision"] != "approve"):
                held.append(Decision(k, "defer", review_wait_reason(project)))
            else:
                rest.append(k)
        return held, rest

    def stopped_note(self, creator: str) -> str | None:
        """A line for the operator when ``creator``'s project is stopped (its sensors skip it)."""
        project = projects.stopped_creators(self.store.layout).get(creator)
        if project is None:
            return None
        return (
            f"note: {stopped_reason(project)}; running {creator} anyway on your command (the sensors skip it)"
        )

    def ungated(self, stage: str, creator: str | None = None) -> dict[str, str]:
        """Lattice's tags for a run Zenith does not gate (a registration, a listing, the plan)."""
        return lattice.route(stage, creator=creator)

    def _gpu(self, stage: str) -> bool:
        return gpu_configured(stage, self.media_tools, self.asr_model)

    def _selected(self, keys: Sequence[str]) -> dict[str, list[int]]:
        videos = {split_clip_key(k)[0] for k in keys}
        self._ranks.update(selected_ranks(self.instance, [v for v in videos if v not in self._ranks]))
        return {v: self._ranks[v] for v in videos if v in self._ranks}

    def _priorities(
        self, stage: str, keys: list[str], listed: Sequence[Project]
    ) -> tuple[dict[str, Priority] | None, dict[str, str]]:
        if stage in ("video", "download"):
            return self._video_priorities(keys)
        if stage in ("clip", "upload"):
            return self._clip_priorities(keys, listed)
        return None, {}

    def _video_priorities(self, keys: list[str]) -> tuple[dict[str, Priority] | None, dict[str, str]]:
        """Lattice's priority per video from its views and likes (the most watched first), and
        each video's creator."""
        if not keys:
            return None, {}
        try:
            rows = self.store.warehouse.query_file("post_engagement", [keys])
        except duckdb.CatalogException:  # no posts written yet: nothing to rank by
            return None, {}
        ranked = lattice.engagement_priorities({r["video_key"]: (r["views"], r["likes"]) for r in rows})
        return dict(ranked), {r["video_key"]: r["creator"] for r in rows if r.get("creator")}

    def _clip_priorities(
        self, keys: list[str], listed: Sequence[Project], now: datetime | None = None
    ) -> tuple[dict[str, Priority], dict[str, str]]:
        """Lattice's priority per clip, with its reason: Pantheon's consensus, the age of the post
        the video came from, and how short the creator's project is of the clip's topic this week
        (Horizon's gap); and each clip's creator."""
        if not keys:
            return {}, {}
        try:
            rows = self.store.warehouse.query_file("clip_priority_inputs", [keys])
            mix = {r["topic"]: r["n"] for r in self.store.warehouse.query_file("week_topic_mix")}
        except duckdb.CatalogException:  # nothing selected or scheduled yet
            return {}, {}
        now = now or datetime.now(UTC)
        goals = self._goals_by_creator({r["creator"] or "" for r in rows}, listed)
        gaps = {creator: mix_gap(g, mix) for creator, g in goals.items()}
        out: dict[str, Priority] = {}
        for r in rows:
            posted = r["posted_at"]
            age_h = (now - posted).total_seconds() / 3600 if posted is not None else None
            gap = gaps[r["creator"] or ""].get(r["topic"], 0.0) if r["topic"] else 0.0
            out[r["clip_key"]] = lattice.clip_priority(float(r["consensus"] or 0.0), age_h, gap)
        return out, {r["clip_key"]: r["creator"] for r in rows if r["creator"]}

    def _goals_by_creator(self, creators: Iterable[str], listed: Sequence[Project]) -> dict[str, Goals]:
        """Each creator's goals (its project's goals file, else the default), each file loaded once."""
        files = {c: p.goals for p in listed for c in p.creators if p.goals}
        default = self.horizon.goals_file or None
        loaded: dict[str | None, Goals] = {}
        out: dict[str, Goals] = {}
        for creator in creators:
            path = files.get(creator) or default
            if path not in loaded:
                loaded[path] = load_goals(path)
            out[creator] = loaded[path]
        return out

    def _channels(self) -> dict[str, str]:
        """clip key -> the channel its committed publish slot names."""
        try:
            rows = self.store.warehouse.query_file("committed_slots")
        except duckdb.CatalogException:  # nothing planned yet
            return {}
        return {r["clip_key"]: r["channel"] for r in rows if r["channel"]}
