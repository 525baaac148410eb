"""Run a creator's backlog from the command line, on the same Dagster instance the UI shows.

This is Zenith's policy executed in-process (no daemon needed): list posts per day,
register the videos found, run each video, then each clip Pantheon selected, plan
publishing, upload. Partitions already materialized are skipped, so a rerun only
does what is missing or failed. Every step is a real Dagster run of a named job.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta

import dagster as dg

from cognitive_sensors import lattice
from cognitive_sensors.zenith import DONE, priority_value, requested_keys
from omniva.settings import render_parallelism
from omniva_app.launch import (
    LOCATION,
    QUIET,
    InProcessLauncher,
    Launcher,
    LaunchSettings,
    Outcome,
    dagster_instance,
)
from omniva_assets import definitions
from omniva_assets.partitions import (
    clip_key,
    clips_partitions,
    creators_partitions,
    post_key,
    videos_partitions,
)
from omniva_assets.sensors import (
    clip_priorities,
    gpu_configured,
    metadata_list,
    register_partitions,
    selected_ranks,
    zenith_gate,
)
from omniva_resources.resources import OmnivaStore
from omniva_resources.staleness import stale_partitions


@dataclass
class Failure:
    job: str
    partition: str
    step: str
    message: str


@dataclass
class Report:
    runs: int = 0
    failures: list[Failure] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    video_keys: list[str] = field(default_factory=list)
    clip_keys: list[str] = field(default_factory=list)
    run_ids: list[str] = field(default_factory=list)


class Runner:
    def __init__(
        self,
        defs: dg.Definitions,
        instance: dg.DagsterInstance,
        echo: Callable[[str], None] = print,
        refresh_stale: bool = False,
        launcher: Launcher | None = None,
        run_timeout_s: float = 3600,
        settings: LaunchSettings | None = None,
    ):
        """``launcher`` (``omniva_app.launch``): by default each run executes in this process;
        a ``QueueLauncher`` submits each stage's runs through the instance's run coordinator and
        waits for them (the daemon launches them within the queue's limits, on the configured
        executor, e.g. Celery workers)."""
        self.launcher: Launcher = launcher or InProcessLauncher(defs, instance)
        self.settings = settings or LaunchSettings.from_env()
        # Clip runs side by side in worker processes (OMNIVA_RENDER_PARALLEL; auto: cores, memory)
        self.render_parallel, self.ffmpeg_threads = render_parallelism(self.settings.render_parallel)
        self.run_timeout_s = run_timeout_s
        self.refresh_stale = refresh_stale
        self.creator: str | None = None
        self.store = OmnivaStore()
        if isinstance(self.launcher, InProcessLauncher):
            self.store.warm_up()  # the steps run here (the warm run starter does the same)
        self.defs = defs
        self.instance = instance
        self.echo = echo
        self.report = Report()
        self._channels: dict[str, str] = {}  # clip key -> channel, from the publish plan
        self._priorities: dict[str, float] = {}  # clip key -> Lattice's priority
        self._ranks: dict[str, list[int]] = {}  # video key -> the ranks Pantheon selected

    def _tags(self, stage: str, key: str | None = None) -> dict[str, str]:
        # Through the queue, transcription and render runs take the GPU lane when there are
        # GPUs (their steps go to the GPU workers); uploads carry the channel the publish plan
        # gave the clip (limited to one at a time per channel).
        gpu = self.launcher.queued and stage in ("video", "clip") and self.settings.gpus > 0
        channel = None
        if stage == "upload":
            channel = self._channels.get(str(key)) or self.settings.channel
        return {
            "omniva/launched_by": "omniva-cli",
            **lattice.route(
                stage,
                self._priorities.get(str(key), 0.5),
                gpu=gpu or self._gpu_configured(stage),
                channel=channel,
                creator=self.creator,
            ),
        }

    def _gpu_configured(self, stage: str) -> bool:
        """A GPU encoder (renders) or GPU ASR (transcriptions) configured: Lattice's GPU lane."""
        if stage not in ("video", "clip"):
            return False
        res = self.defs.resources or {}
        return gpu_configured(stage, res["media_tools"], res["asr_model"])

    def _submit(self, job_name: str, key: str | None, stage: str) -> str:
        return self.launcher.submit(
            job_name, self._tags(stage, key), key, run_config=QUIET, location_name=LOCATION
        )

    def _run_many(
        self, job_name: str, keys: Sequence[str | None], stage: str, label: str = ""
    ) -> dict[str, bool]:
        """One run per partition key: in this process one after another (each announced with
        ``label``), or all submitted to the queue at once and waited for (the coordinator's
        limits decide what runs together)."""
        if not keys:
            return {}
        started = time.perf_counter()
        ok: dict[str, bool] = {}
        if self.launcher.queued:
            ids = {self._submit(job_name, k, stage): k for k in keys}
            self.echo(f"  queued {len(ids)} {job_name} run(s); waiting for the daemon to launch them …")
            self.launcher.wait(list(ids), timeout=self.run_timeout_s)
            outcomes = self.launcher.settle(list(ids), self.store)
            for run_id, key in ids.items():
                ok[str(key)] = self._account(job_name, key, outcomes[run_id])
        elif stage == "clip" and self.render_parallel > 1 and len(keys) > 1 and self._side_by_side_possible():
            ok = self._run_side_by_side(job_name, keys, stage, label)
        else:
            for key in keys:
                if label:
                    self.echo(f"  {label} {key}")
                run_id = self._submit(job_name, key, stage)
                ok[str(key)] = self._account(
                    job_name, key, self.launcher.settle([run_id], self.store)[run_id]
                )
        self.report.stage_seconds[stage] = (
            self.report.stage_seconds.get(stage, 0.0) + time.perf_counter() - started
        )
        return ok

    def _side_by_side_possible(self) -> bool:
        """Clip runs go to worker processes only with the code location's own definitions on a
        persistent instance (the workers load both themselves)."""
        return (
            isinstance(self.launcher, InProcessLauncher)
            and self.defs is definitions.defs
            and self.instance.is_persistent
        )

    def _run_side_by_side(
        self, job_name: str, keys: Sequence[str | None], stage: str, label: str
    ) -> dict[str, bool]:
        """Up to ``render_parallel`` runs at once, each in a worker process of its own (Dagster's
        in-process execution is not thread-safe: it reconfigures logging per run), each
        encoder given its share of the cores. The workers are spawned once per stage and load
        the definitions and the instance once."""
        home = str(self.instance.root_directory)
        ok: dict[str, bool] = {}
        ctx = multiprocessing.get_context("spawn")
        workers = min(self.render_parallel, len(keys))
        with ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=_worker_init, initargs=(home, _warnings_ignored())
        ) as pool:
            futures = []
            for key in keys:
                if label:
                    self.echo(f"  {label} {key}")
                tags = {**self._tags(stage, key), "omniva/ffmpeg_threads": str(self.ffmpeg_threads)}
                futures.append((key, pool.submit(_worker_run, job_name, tags, key)))
            for key, future in futures:
                run_id = future.result()
                ok[str(key)] = self._account(
                    job_name, key, self.launcher.settle([run_id], self.store)[run_id]
                )
        return ok

    def _run(self, job_name: str, key: str | None, stage: str) -> bool:
        return self._run_many(job_name, [key], stage)[str(key)]

    def _account(self, job_name: str, key: str | None, outcome: Outcome) -> bool:
        """Count the run; for a failed one, echo Eclipse's verdicts and report each failed step."""
        self.report.runs += 1
        self.report.run_ids.append(outcome.run_id)
        if outcome.success:
            return True
        for verdict in outcome.verdicts:
            if verdict.action != "retry":
                self.echo(f"  Eclipse: {verdict.failure_class} -> {verdict.action} ({verdict.reason})")
        default = "run failed" if outcome.status == "FAILURE" else f"run {outcome.status.lower()}"
        where = f" (run {outcome.run_id})" if self.launcher.queued else ""
        for step, message in outcome.failures or [("?", default)]:
            self.report.failures.append(Failure(job_name, str(key), step, message or "failed"))
            self.echo(f"  ✗ {key} [{step}]: {message or 'failed'}{where}")
        return False

    def _decide(self, stage: str, keys: list[str], done: set[str]) -> list[str]:
        """Zenith: request what is new (clips: highest Lattice priority first; a clip Pantheon did
        not select is refused), skip what is done or quarantined, stop a stage in crisis."""
        priorities, selected = None, None
        if stage in ("clip", "upload"):
            horizon = (self.defs.resources or {})["horizon"]
            priorities = clip_priorities(self.store, horizon, keys)
            videos = {k.partition("|")[2] for k in keys}
            unknown = [v for v in videos if v not in self._ranks]
            self._ranks.update(selected_ranks(self.instance, unknown))
            selected = {v: self._ranks[v] for v in videos if v in self._ranks}
            self._priorities.update({k: priority_value(p) for k, p in priorities.items()})
        decisions, crisis = zenith_gate(
            self.instance,
            self.store,
            "omniva-cli",
            stage,
            keys,
            done,
            priorities=priorities,
            selected=selected,
        )
        if crisis:
            self.echo(f"  Zenith: {crisis}; not launching {stage} work")
        for d in decisions:
            if d.action != "request" and d.reason != DONE:
                self.echo(f"  Zenith: {d.action} {d.partition_key}: {d.reason}")
        return requested_keys(decisions)

    def _done(self, asset: str) -> set[str]:
        return self.instance.get_materialized_partitions(dg.AssetKey(asset))

    def run_creator(self, creator: str, since: date, until: date) -> Report:
        self.report.video_keys = self.list_creator(creator, since, until)
        self.run_videos(self.report.video_keys)
        return self.report

    def fetch_creator(self, creator: str, since: date, until: date) -> Report:
        """List and download only (``omniva sources fetch``): no transcription, clips or uploads."""
        self.report.video_keys = self.list_creator(creator, since, until)
        self.download_videos(self.report.video_keys)
        return self.report

    def download_videos(self, video_keys: list[str]) -> Report:
        register_partitions(self.instance, videos_partitions, video_keys)
        todo = self._decide("download", video_keys, self._done("videos"))
        self.echo(f"{len(video_keys)} video(s); {len(todo)} to download …")
        for key in todo:
            self.echo(f"  video {key}")
            self._run("download_job", key, "download")
        return self.report

    def list_creator(self, creator: str, since: date, until: date) -> list[str]:
        """One posts partition per day (UTC) from ``since`` to ``until``; the video keys found."""
        self.creator = creator
        register_partitions(self.instance, creators_partitions, [creator])
        self._run("creators_job", creator, "creators")

        days = [since + timedelta(days=i) for i in range((until - since).days + 1)]
        self.echo(f"listing {creator}'s posts for {len(days)} day(s) with yt-dlp …")
        keys: list[str] = []
        listed = self._run_many("posts_job", [post_key(creator, d.isoformat()) for d in days], "posts")
        for day in days:
            pkey = post_key(creator, day.isoformat())
            if listed[str(pkey)]:
                records = self.instance.fetch_materializations(
                    dg.AssetRecordsFilter(asset_key=dg.AssetKey("posts"), asset_partitions=[str(pkey)]),
                    limit=1,
                ).records
                keys += metadata_list(records[0].asset_materialization if records else None, "video_keys")
        return list(dict.fromkeys(keys))

    def run_videos(self, video_keys: list[str]) -> Report:
        register_partitions(self.instance, videos_partitions, video_keys)
        done = self._done("clip_selections")
        todo = self._decide("video", video_keys, done)
        self.echo(f"{len(video_keys)} video(s); {len(todo)} to download, transcribe, analyse and vote on …")
        self._run_many("video_job", todo, "video", label="video")

        selected = self._selected_clips([k for k in video_keys if k in self._done("clip_selections")])
        rendered = self._done("renders") & self._done("clip_copy")
        if self.refresh_stale:
            # Unsynced in the UI: code or upstream data changed since the render was made.
            stale = stale_partitions(
                self.instance, self.defs, "renders", [k for k in selected if k in rendered]
            )
            for key, causes in stale.items():
                self.echo(f"  stale {key}: {'; '.join(causes[:2])}")
            rendered = rendered - set(stale)
        todo_clips = self._decide("clip", selected, rendered)
        self.echo(f"{len(selected)} clip(s) selected; {len(todo_clips)} to edit and render …")
        self._run_many("clip_job", todo_clips, "clip", label="clip")
        self.report.clip_keys = selected

        self.echo("planning publish slots …")
        self._run("publish_plan_job", None, "publish_plan")
        planned = self._planned()
        uploaded = self._done("uploads") & self._done("clip_explanations")
        todo_up = self._decide("upload", planned, uploaded)
        self._channels = {
            r["clip_key"]: r["channel"] for r in self.store.warehouse.query_file("committed_slots")
        }
        self.echo(f"{len(planned)} clip(s) planned; {len(todo_up)} to upload …")
        self._run_many("upload_job", todo_up, "upload")
        return self.report

    def _selected_clips(self, video_keys: list[str]) -> list[str]:
        out = []
        for video in video_keys:
            records = self.instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey("clip_selections"), asset_partitions=[video]),
                limit=1,
            ).records
            ranks = metadata_list(records[0].asset_materialization if records else None, "ranks")
            if records:
                self._ranks[video] = [int(r) for r in ranks]
            out += [clip_key(video, r) for r in ranks]
        # Selections made before clip partitions were dynamic get theirs here.
        register_partitions(self.instance, clips_partitions, out)
        return out

    def _planned(self) -> list[str]:
        records = self.instance.fetch_materializations(dg.AssetKey("publish_plan"), limit=1).records
        return metadata_list(records[0].asset_materialization if records else None, "clip_keys")


_WORKER: dict[str, InProcessLauncher] = {}


def _warnings_ignored() -> bool:
    return any(f[0] == "ignore" and f[2] is Warning and f[1] is None for f in warnings.filters)


def _worker_init(dagster_home: str, quiet: bool) -> None:
    """A side-by-side worker: the same instance and definitions as the CLI that spawned it, and
    its warning filters (a spawned process starts with none)."""
    if quiet:
        warnings.filterwarnings("ignore")
    os.environ["DAGSTER_HOME"] = dagster_home
    _WORKER["launcher"] = InProcessLauncher(definitions.defs, dg.DagsterInstance.get())


def _worker_run(job_name: str, tags: dict[str, str], key: str | None) -> str:
    return _WORKER["launcher"].submit(job_name, tags, key, run_config=QUIET, location_name=LOCATION)


def runner(refresh_stale: bool = False, echo: Callable[[str], None] = print) -> Runner:
    """The CLI's runner: Omniva's code location on the instance the UI shows, runs in this process
    (``omniva run --queue`` then sets a ``QueueLauncher``)."""
    # ``definitions.defs`` is built (settings read from the environment) on first use, so after
    # the demo set its defaults (OMNIVA_MAX_CLIPS_PER_VIDEO ...).
    return Runner(definitions.defs, dagster_instance(), echo=echo, refresh_stale=refresh_stale)
