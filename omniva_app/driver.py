"""Run a creator's backlog from the command line, on the same Dagster instance the UI shows.

This is Zenith's policy executed in-process (no daemon needed): list posts per day,
register the videos found, run each video, then each clip Pantheon selected, plan
publishing, upload. Partitions already materialized are skipped, so a rerun only
does what is missing or failed. Every step is a real Dagster run of a named job.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import dagster as dg

from cognitive_sensors import lattice
from cognitive_sensors.zenith import Decision, decide_partitions, new_partition_keys
from omniva.staleness import stale_partitions
from omniva_assets.eclipse import handle_failed_run, stage_crisis
from omniva_assets.partitions import clip_key, creators_partitions, post_key, videos_partitions
from omniva_resources.resources import OmnivaStore

# The CLI prints its own one-line reasons; the full event log is in the instance (UI).
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


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


def _failure_messages(events) -> list[tuple[str, str]]:
    out = []
    for ev in events:
        if ev.is_step_failure:
            data = ev.event_specific_data
            user = getattr(data, "user_failure_data", None)
            msg = (
                user.description if user and user.description else (data.error.message if data.error else "")
            )
            out.append((ev.step_key or "?", msg.strip().splitlines()[0] if msg else "failed"))
    return out


class Runner:
    def __init__(
        self,
        defs: dg.Definitions,
        instance: dg.DagsterInstance,
        echo: Callable[[str], None] = print,
        refresh_stale: bool = False,
        launcher=None,
        run_timeout_s: float = 3600,
    ):
        """``launcher`` (``omniva_assets.deployment.QueueLauncher``): submit each stage's runs through
        the instance's run coordinator and wait for them (the daemon launches them within the
        queue's limits, on the configured executor, e.g. Celery workers); without it each run
        executes in this process."""
        self.launcher = launcher
        self.run_timeout_s = run_timeout_s
        self.refresh_stale = refresh_stale
        self.creator: str | None = None
        self.store = OmnivaStore(home=os.environ.get("OMNIVA_HOME", ""))
        self.defs = defs
        self.instance = instance
        self.echo = echo
        self.report = Report()
        self._channels: dict[str, str] = {}  # clip key -> channel, from the publish plan

    def _tags(self, stage: str, priority: float, key=None) -> dict[str, str]:
        # Through the queue, transcription and render runs take the GPU lane when there are
        # GPUs (their steps go to the GPU workers); uploads carry the channel the publish plan
        # gave the clip (limited to one at a time per channel).
        gpu = self.launcher is not None and stage in ("video", "clip") and _gpus() > 0
        channel = None
        if stage == "upload":
            channel = self._channels.get(str(key)) or os.environ.get("OMNIVA_CHANNEL", "omniva-demo")
        return {
            "omniva/launched_by": "omniva-cli",
            **lattice.route(stage, priority, gpu=gpu, channel=channel, creator=self.creator),
        }

    def _run_many(self, job_name: str, keys: list, stage: str) -> dict[str, bool]:
        """One run per partition key: in this process one after another, or all submitted to
        the queue at once and waited for (the coordinator's limits decide what runs together)."""
        if self.launcher is None:
            return {str(k): self._run(job_name, k, stage) for k in keys}
        if not keys:
            return {}
        started = time.perf_counter()
        ids = {
            self.launcher.submit(
                job_name, self._tags(stage, 0.5, k), partition_key=k, run_config=QUIET, location_name="omniva"
            ): k
            for k in keys
        }
        self.echo(f"  queued {len(ids)} {job_name} run(s); waiting for the daemon to launch them …")
        statuses = self.launcher.wait(list(ids), timeout=self.run_timeout_s)
        self.report.stage_seconds[stage] = (
            self.report.stage_seconds.get(stage, 0.0) + time.perf_counter() - started
        )
        self.report.runs += len(ids)
        self.report.run_ids += list(ids)
        for run_id, status in statuses.items():
            if status == "SUCCESS":
                continue
            run = self.instance.get_run_by_id(run_id)
            for verdict in handle_failed_run(self.instance, self.store, run):
                if verdict.action != "retry":
                    self.echo(f"  Eclipse: {verdict.failure_class} -> {verdict.action} ({verdict.reason})")
            events = [e.dagster_event for e in self.instance.all_logs(run_id) if e.dagster_event]
            for step, message in _failure_messages(events) or [("?", f"run {status.lower()}")]:
                self.report.failures.append(Failure(job_name, str(ids[run_id]), step, message))
                self.echo(f"  ✗ {ids[run_id]} [{step}]: {message} (run {run_id})")
        return {str(ids[rid]): statuses[rid] == "SUCCESS" for rid in ids}

    def _run(
        self,
        job_name: str,
        partition_key: str | dg.MultiPartitionKey | None,
        stage: str,
        priority: float = 0.5,
    ) -> bool:
        if self.launcher is not None:
            return self._run_many(job_name, [partition_key], stage)[str(partition_key)]
        job = self.defs.resolve_job_def(job_name)
        started = time.perf_counter()
        result = job.execute_in_process(
            partition_key=partition_key,
            instance=self.instance,
            raise_on_error=False,
            run_config=QUIET,
            tags=self._tags(stage, priority, partition_key),
        )
        self.report.stage_seconds[stage] = (
            self.report.stage_seconds.get(stage, 0.0) + time.perf_counter() - started
        )
        self.report.runs += 1
        self.report.run_ids.append(result.run_id)
        if not result.success:
            for verdict in handle_failed_run(self.instance, self.store, result.dagster_run):
                if verdict.action != "retry":
                    self.echo(f"  Eclipse: {verdict.failure_class} -> {verdict.action} ({verdict.reason})")
            for step, message in _failure_messages(result.all_events) or [("?", "run failed")]:
                self.report.failures.append(Failure(job_name, str(partition_key), step, message))
                self.echo(f"  ✗ {partition_key} [{step}]: {message}")
        return result.success

    def _decide(self, stage: str, keys: list[str], done: set[str]) -> list[str]:
        """Zenith: request what is new, skip what is done or quarantined, stop a stage in crisis."""
        decisions = decide_partitions(keys, done, self.store.quarantined())
        crisis = stage_crisis(self.instance, self.store, f"{stage}_job")
        if crisis:
            self.echo(f"  Zenith: {crisis}; not launching {stage} work")
            decisions = [
                Decision(
                    d.partition_key,
                    "defer" if d.action == "request" else d.action,
                    crisis if d.action == "request" else d.reason,
                )
                for d in decisions
            ]
        self.store.record_decisions("omniva-cli", stage, decisions)
        for d in decisions:
            if d.action != "request" and d.reason != "already materialized":
                self.echo(f"  Zenith: {d.action} {d.partition_key}: {d.reason}")
        return [d.partition_key for d in decisions if d.action == "request"]

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
        existing = set(self.instance.get_dynamic_partitions(videos_partitions.name))
        new = new_partition_keys(video_keys, existing)
        if new:
            self.instance.add_dynamic_partitions(videos_partitions.name, new)
        todo = self._decide("download", video_keys, self._done("videos"))
        self.echo(f"{len(video_keys)} video(s); {len(todo)} to download …")
        for key in todo:
            self.echo(f"  video {key}")
            self._run("download_job", key, "download")
        return self.report

    def list_creator(self, creator: str, since: date, until: date) -> list[str]:
        """One posts partition per day (UTC) from ``since`` to ``until``; the video keys found."""
        self.creator = creator
        if creator not in self.instance.get_dynamic_partitions(creators_partitions.name):
            self.instance.add_dynamic_partitions(creators_partitions.name, [creator])
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
                mat = records[0].asset_materialization if records else None
                if mat and "video_keys" in mat.metadata:
                    keys += list(mat.metadata["video_keys"].value)
        return list(dict.fromkeys(keys))

    def run_videos(self, video_keys: list[str]) -> Report:
        existing = set(self.instance.get_dynamic_partitions(videos_partitions.name))
        new = new_partition_keys(video_keys, existing)
        if new:
            self.instance.add_dynamic_partitions(videos_partitions.name, new)
        done = self._done("clip_selections")
        todo = self._decide("video", video_keys, done)
        self.echo(f"{len(video_keys)} video(s); {len(todo)} to download, transcribe, analyse and vote on …")
        if self.launcher is None:
            for key in todo:
                self.echo(f"  video {key}")
                self._run("video_job", key, "video")
        else:
            self._run_many("video_job", todo, "video")

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
        if self.launcher is None:
            for key in todo_clips:
                self.echo(f"  clip {key}")
                self._run("clip_job", dg.MultiPartitionKey(_dims(key)), "clip")
        else:
            self._run_many("clip_job", [dg.MultiPartitionKey(_dims(k)) for k in todo_clips], "clip")
        self.report.clip_keys = selected

        self.echo("planning publish slots …")
        self._run("publish_plan_job", None, "publish_plan")
        planned = self._planned()
        uploaded = self._done("uploads") & self._done("clip_explanations")
        todo_up = self._decide("upload", planned, uploaded)
        self._channels = {
            r["clip_key"]: r["channel"]
            for r in self.store.warehouse.query("SELECT clip_key, channel FROM schedules")
        }
        self.echo(f"{len(planned)} clip(s) planned; {len(todo_up)} to upload …")
        self._run_many("upload_job", [dg.MultiPartitionKey(_dims(k)) for k in todo_up], "upload")
        return self.report

    def _selected_clips(self, video_keys: list[str]) -> list[str]:
        out = []
        for video in video_keys:
            records = self.instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey("clip_selections"), asset_partitions=[video]),
                limit=1,
            ).records
            if records and "ranks" in records[0].asset_materialization.metadata:
                out += [
                    str(clip_key(video, r)) for r in records[0].asset_materialization.metadata["ranks"].value
                ]
        return out

    def _planned(self) -> list[str]:
        records = self.instance.fetch_materializations(dg.AssetKey("publish_plan"), limit=1).records
        if not records:
            return []
        meta = records[0].asset_materialization.metadata
        return list(meta["clip_keys"].value) if "clip_keys" in meta else []


def _gpus() -> int:
    try:
        return int(os.environ.get("OMNIVA_GPUS", "0") or 0)
    except ValueError:
        return 0


def _dims(key: str) -> dict[str, str]:
    rank, _, video = key.partition("|")
    return {"rank": rank, "video": video}
