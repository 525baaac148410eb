"""Run a creator's backlog from the command line, on the same Dagster instance the UI shows.

The chain the sensors run, driven from one process (no daemon needed): list posts per day,
register the videos found, run each video, then each clip Pantheon selected, plan publishing,
upload. Each stage asks ``omniva_assets.policy.LaunchPolicy`` what to launch, exactly as that
stage's sensor does (same keys, same order, same tags), so a rerun only does what is missing or
failed. Every step is a real Dagster run of a named job.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import dagster as dg

from cognitive_sensors.zenith import DONE
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
from omniva_assets.partitions import clips_partitions, creators_partitions, post_key, videos_partitions
from omniva_assets.policy import (
    REVIEW_WAIT,
    STAGES,
    Launch,
    LaunchPolicy,
    keys_from,
    latest,
    register_partitions,
)
from omniva_resources.resources import OmnivaStore
from omniva_resources.staleness import stale_partitions

# What each stage says before its runs: how many keys it was fed, how many Zenith requested.
MESSAGES = {
    "download": "{n} video(s); {todo} to download …",
    "video": "{n} video(s); {todo} to download, transcribe, analyse and vote on …",
    "clip": "{n} clip(s) selected; {todo} to edit and render …",
    "upload": "{n} clip(s) planned; {todo} to upload …",
}


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
    #: clips whose upload waits for a person's approval (their project's review is required)
    held_for_review: list[str] = field(default_factory=list)


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
        run_config: Mapping[str, Any] | None = None,
    ):
        """``launcher`` (``omniva_app.launch``): by default each run executes in this process;
        a ``QueueLauncher`` submits each stage's runs through the instance's run coordinator and
        waits for them (the daemon launches them within the queue's limits, on the configured
        executor, e.g. Celery workers)."""
        self.launcher: Launcher = launcher or InProcessLauncher(defs, instance)
        # Every run's config: quiet console logs, and the front end's resource settings (the
        # demo's emulator and clips per video), so they reach the run wherever it executes.
        self.run_config = with_quiet(run_config)
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
        self.policy = LaunchPolicy.of(instance, {**(defs.resources or {}), "store": self.store})

    def _submit(self, job_name: str, launch: Launch, extra: dict[str, str] | None = None) -> str:
        tags = {"omniva/launched_by": "omniva-cli", **self._creator_tag(), **launch.tags, **(extra or {})}
        key = launch.partition_key or None
        return self.launcher.submit(job_name, tags, key, run_config=self.run_config, location_name=LOCATION)

    def _creator_tag(self) -> dict[str, str]:
        """A creator's backlog: every run of it counts toward that creator's share of the queue
        (dagster.yaml limits runs per creator), the project-wide plan included."""
        return {"omniva/creator": self.creator} if self.creator else {}

    def _run_many(
        self, job_name: str, launches: Sequence[Launch], stage: str, label: str = ""
    ) -> dict[str, bool]:
        """One run per launch, in the policy's order: in this process one after another (each
        announced with ``label``), or all submitted to the queue at once and waited for (the
        coordinator's limits decide what runs together)."""
        if not launches:
            return {}
        keys = [la.partition_key for la in launches]
        started = time.perf_counter()
        ok: dict[str, bool] = {}
        if self.launcher.queued:
            ids = {self._submit(job_name, la): la.partition_key for la in launches}
            self.echo(f"  queued {len(ids)} {job_name} run(s); waiting for the daemon to launch them …")
            self.launcher.wait(list(ids), timeout=self.run_timeout_s)
            outcomes = self.launcher.settle(list(ids), self.store)
            for run_id, key in ids.items():
                ok[str(key)] = self._account(job_name, key, outcomes[run_id])
        elif stage == "clip" and self.render_parallel > 1 and len(keys) > 1 and self._side_by_side_possible():
            ok = self._run_side_by_side(job_name, launches, label)
        else:
            for la in launches:
                key = la.partition_key
                if label:
                    self.echo(f"  {label} {key}")
                run_id = self._submit(job_name, la)
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

    def _run_side_by_side(self, job_name: str, launches: Sequence[Launch], label: str) -> dict[str, bool]:
        """Up to ``render_parallel`` runs at once, each in a worker process of its own (Dagster's
        in-process execution is not thread-safe: it reconfigures logging per run), each
        encoder given its share of the cores. The workers are spawned once per stage and load
        the definitions and the instance once."""
        home = str(self.instance.root_directory)
        ok: dict[str, bool] = {}
        ctx = multiprocessing.get_context("spawn")
        workers = min(self.render_parallel, len(launches))
        with ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=_worker_init, initargs=(home, _warnings_ignored())
        ) as pool:
            futures = []
            for la in launches:
                key = la.partition_key
                if label:
                    self.echo(f"  {label} {key}")
                tags = {
                    "omniva/launched_by": "omniva-cli",
                    **self._creator_tag(),
                    **la.tags,
                    "omniva/ffmpeg_threads": str(self.ffmpeg_threads),
                }
                futures.append((key, pool.submit(_worker_run, job_name, tags, key, self.run_config)))
            for key, future in futures:
                run_id = future.result()
                ok[str(key)] = self._account(
                    job_name, key, self.launcher.settle([run_id], self.store)[run_id]
                )
        return ok

    def _run(self, job_name: str, key: str | None, stage: str, tags: dict[str, str] | None = None) -> bool:
        """One run that Zenith does not gate (a creator's registration, a day's listing, the plan)."""
        launch = Launch(
            str(key) if key is not None else "", "", {**self.policy.ungated(stage), **(tags or {})}
        )
        return self._run_many(job_name, [launch], stage)[launch.partition_key]

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

    def _launch(
        self, stage: str, keys: list[str], exclude_done: set[str] | None = None, label: str = ""
    ) -> None:
        """The stage's sensor's decision, taken here: Zenith requests what is new (highest Lattice
        priority first; a clip Pantheon did not select is refused), skips what is done or
        quarantined, stops a stage in crisis; then the runs."""
        # Queued runs of GPU-capable stages take the GPU lane when the deployment has GPUs (the
        # launcher is known only now: `omniva run --queue` sets it after the runner is made).
        self.policy.gpus = self.settings.gpus if self.launcher.queued else 0
        plan = self.policy.plan(stage, keys, "omniva-cli", exclude_done=exclude_done or ())
        if plan.crisis:
            self.echo(f"  Zenith: {plan.crisis}; not launching {stage} work")
        for d in plan.decisions:
            if d.action != "request" and d.reason != DONE:
                self.echo(f"  Zenith: {d.action} {d.partition_key}: {d.reason}")
            if d.action == "defer" and d.reason.startswith(REVIEW_WAIT):
                self.report.held_for_review.append(d.partition_key)
        self.echo(MESSAGES[stage].format(n=len(keys), todo=len(plan.launches)))
        self._run_many(STAGES[stage].job, plan.launches, stage, label=label)

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
        self._launch("download", video_keys, label="video")
        return self.report

    def list_creator(self, creator: str, since: date, until: date) -> list[str]:
        """One posts partition per day (UTC) from ``since`` to ``until``; the video keys found."""
        self.creator = creator
        if note := self.policy.stopped_note(creator):  # the operator's command runs it anyway
            self.echo(note)
        register_partitions(self.instance, creators_partitions, [creator])
        self._run("creators_job", creator, "creators", {"omniva/creator": creator})

        days = [since + timedelta(days=i) for i in range((until - since).days + 1)]
        self.echo(f"listing {creator}'s posts for {len(days)} day(s) with yt-dlp …")
        keys: list[str] = []
        tags = self.policy.ungated("posts", creator)
        # MultiPartitionKeys (a str with its dimensions): the launcher tags each run with them.
        days_keys = [post_key(creator, d.isoformat()) for d in days]
        listed = self._run_many("posts_job", [Launch(k, "", tags) for k in days_keys], "posts")
        for pkey in days_keys:
            rec = latest(self.instance, "posts", str(pkey)) if listed[str(pkey)] else None
            keys += keys_from("video", [rec] if rec is not None else [])
        return list(dict.fromkeys(keys))

    def run_videos(self, video_keys: list[str]) -> Report:
        """The chain after the listing, stage by stage, each fed as its sensor would be."""
        register_partitions(self.instance, videos_partitions, video_keys)
        self._launch("video", video_keys, label="video")

        selections = [
            rec for v in video_keys if (rec := latest(self.instance, "clip_selections", v)) is not None
        ]
        selected = keys_from("clip", selections)
        # Selections made before clip partitions were dynamic get theirs here.
        register_partitions(self.instance, clips_partitions, selected)
        stale: set[str] = set()
        if self.refresh_stale:
            # Unsynced in the UI: code or upstream data changed since the render was made.
            causes = stale_partitions(self.instance, self.defs, "renders", list(selected))
            for key, why in causes.items():
                self.echo(f"  stale {key}: {'; '.join(why[:2])}")
            stale = set(causes)
        self._launch("clip", selected, exclude_done=stale, label="clip")
        self.report.clip_keys = selected

        self.echo("planning publish slots …")
        self._run("publish_plan_job", None, "publish_plan")
        plan = latest(self.instance, "publish_plan")
        self._launch("upload", keys_from("upload", [plan] if plan is not None else []))
        return self.report


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


def _worker_run(job_name: str, tags: dict[str, str], key: str | None, run_config: dict[str, Any]) -> str:
    return _WORKER["launcher"].submit(job_name, tags, key, run_config=run_config, location_name=LOCATION)


def with_quiet(run_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """``run_config`` with the console logger quiet (the CLI prints its own progress)."""
    return {**QUIET, **dict(run_config or {})}


def runner(
    refresh_stale: bool = False,
    echo: Callable[[str], None] = print,
    run_config: Mapping[str, Any] | None = None,
) -> Runner:
    """The CLI's runner: Omniva's code location on the instance the UI shows, runs in this process
    (``omniva run --queue`` then sets a ``QueueLauncher``); ``run_config``: given to every run
    (``resources_run_config``: a command's resource settings)."""
    return Runner(
        definitions.defs, dagster_instance(), echo=echo, refresh_stale=refresh_stale, run_config=run_config
    )
