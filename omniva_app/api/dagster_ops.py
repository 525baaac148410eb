"""The API's actions, as Dagster runs on the instance the UI shows.

Each action becomes an ``ApiJob``: one or more runs of the code location's own jobs
(``posts_job``, ``clip_job``, ``upload_job``, ``publish_plan_job``), followed in order by one
background worker. They launch through ``omniva_app.launch``: executed in this process, as
``omniva run`` does (the embedded instance has no daemon), or, with ``OMNIVA_DAGSTER_GRAPHQL``
set, through that webserver (queued, run by the daemon). In process the run ids are chosen
before the runs start, so the response carries them at once. Failed runs go through Eclipse
exactly as CLI runs do; Zenith's rules (quarantine, crisis mode) are applied before launching.
Project start/stop turns the automation (Zenith's sensors and the daily schedule) on
or off through the instance's instigator state, as the UI's toggles do.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import threading
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dagster as dg

from cognitive_sensors import lattice
from omniva.errors import OmnivaError
from omniva.redact import redact_text
from omniva.settings import REPO_ROOT
from omniva_app.api.envelope import ApiError, now_iso
from omniva_app.launch import (
    LOCATION,
    QUIET,
    GraphQLLauncher,
    InProcessLauncher,
    Launcher,
    LaunchRefused,
    LaunchSettings,
)
from omniva_resources.dagster_internals import (
    InProcessCodeLocation,
    InProcessCodeLocationOrigin,
    LoadableTargetOrigin,
    RemoteRepository,
    RemoteSchedule,
    RemoteSensor,
)
from omniva_resources.lineage import sync_lineage
from omniva_resources.private_files import write_private_json
from omniva_resources.resources import OmnivaStore

#: The instigators a project's start/stop switches: Zenith's sensors and the daily schedule.
#: (The Eclipse and lineage sensors are always on: they only react and record.)
AUTOMATION_SENSORS = ("creator_sensor", "video_sensor", "clip_sensor", "publish_plan_sensor", "upload_sensor")
AUTOMATION_SCHEDULES = ("daily_posts_schedule",)

#: The spec's worker types, by the Dagster job that does their work.
WORKER_OF_JOB = {
    "creators_job": "scraper_worker",
    "posts_job": "scraper_worker",
    "video_job": "analyzer_worker",
    "clip_job": "editor_worker",
    "publish_plan_job": "scheduler_worker",
    "upload_job": "uploader_worker",
}
PRIORITY = {"low": 0.2, "normal": 0.5, "high": 0.9}

log = logging.getLogger(__name__)


@dataclass
class PlannedRun:
    run_id: str
    job_name: str
    partition: str | None
    stage: str
    tags: dict[str, str]
    asset_selection: Sequence[str] | None = None
    status: str = "QUEUED"  # QUEUED (in the API's queue) | Dagster's run status once it ran
    failures: list[dict] = field(default_factory=list)


@dataclass
class ApiJob:
    job_id: str
    kind: str
    project_id: str | None
    runs: list[PlannedRun]
    created_at: str = field(default_factory=now_iso)
    status: str = "QUEUED"  # QUEUED | RUNNING | DONE | FAILED | DEFERRED | INTERRUPTED
    started_at: str | None = None
    completed_at: str | None = None
    result: dict = field(default_factory=dict)
    subject: dict = field(default_factory=dict)  # what the job is about (clip id, creators, ...)
    owner_pid: int = field(default_factory=os.getpid)  # the API process that follows its runs

    def as_dict(self) -> dict:
        return asdict(self)


JOB_ID = re.compile(r"^[a-z]+_[0-9a-f]{12}$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Actions:
    """Queue of API jobs, executed one run at a time on the Dagster instance."""

    def __init__(
        self,
        defs: dg.Definitions,
        instance: dg.DagsterInstance,
        store: OmnivaStore,
        jobs_dir: Path,
        settings: LaunchSettings | None = None,
    ):
        self.defs, self.instance, self.store = defs, instance, store
        self.jobs_dir = Path(jobs_dir)
        self.settings = settings or LaunchSettings.from_env()
        self._queue: queue.Queue[ApiJob] = queue.Queue()
        self._jobs: dict[str, ApiJob] = {}
        self._done: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._location: InProcessCodeLocation | None = None
        # Set: launch through this Dagster webserver's GraphQL API (queued, run by the daemon).
        self.graphql_url = self.settings.graphql_url
        self.launcher: Launcher = (
            GraphQLLauncher(defs, instance, self.graphql_url)
            if self.graphql_url
            else InProcessLauncher(defs, instance)
        )

    # ------------------------------------------------------------ launching
    def plan_run(
        self,
        job_name: str,
        partition: str | None,
        stage: str,
        *,
        priority: float = 0.5,
        creator: str | None = None,
        gpu: bool = False,
        asset_selection: Sequence[str] | None = None,
        extra_tags: dict[str, str] | None = None,
        job_id: str = "",
    ) -> PlannedRun:
        tags = {
            "omniva/launched_by": "omniva-api",
            "omniva/api_job": job_id,
            **lattice.route(stage, priority, gpu=gpu, creator=creator),
            **(extra_tags or {}),
        }
        return PlannedRun(str(uuid.uuid4()), job_name, partition, stage, tags, asset_selection)

    @staticmethod
    def new_job_id(kind: str) -> str:
        return f"{kind}_{uuid.uuid4().hex[:12]}"

    def submit(
        self, job_id: str, kind: str, project_id: str | None, runs: list[PlannedRun], subject: dict
    ) -> ApiJob:
        job = ApiJob(job_id, kind, project_id, runs, subject=subject)
        if self.launcher.queued:
            # Dagster assigns the run ids: launch now, so the answer carries them; the worker
            # then waits for the runs to finish (posts only declare a dependency on their
            # creator, so nothing needs the runs to start in order).
            launched: list[PlannedRun] = []
            try:
                for run in runs:
                    run.run_id = self._launch(run)
                    launched.append(run)
            except ApiError as exc:
                if not launched:
                    raise
                job.runs, job.result = launched, {"error": f"{exc.message}; the runs before it were launched"}
        with self._lock:
            self._jobs[job.job_id] = job
            self._done[job.job_id] = threading.Event()
            self._save(job)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="omniva-api-runs", daemon=True)
                self._worker.start()
        self._queue.put(job)
        return job

    def wait(self, job: ApiJob, seconds: float) -> ApiJob:
        if seconds > 0:
            self._done[job.job_id].wait(seconds)
        return job

    def job(self, job_id: str) -> ApiJob | None:
        with self._lock:
            if job_id in self._jobs:
                return self._jobs[job_id]
        path = self.jobs_dir / f"{job_id}.json"
        if not JOB_ID.match(job_id) or not path.is_file():
            return None
        data = json.loads(path.read_text())
        data["runs"] = [PlannedRun(**r) for r in data["runs"]]
        job = ApiJob(**data)
        if job.status in ("QUEUED", "RUNNING") and not _alive(job.owner_pid):
            # The API process that held it stopped: runs it had not started never will (the
            # in-process queue lived in it); launched runs go on in Dagster, shown per run.
            job.status = "INTERRUPTED"
        return job

    def pending(self, kind: str | None = None) -> list[ApiJob]:
        with self._lock:
            return [
                j for j in self._jobs.values() if j.status in ("QUEUED", "RUNNING") and kind in (None, j.kind)
            ]

    def _save(self, job: ApiJob) -> None:
        """``api/jobs/JOB.json``, owner-only (0600) in an owner-only folder."""
        self.jobs_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private_json(
            self.jobs_dir / f"{job.job_id}.json", json.loads(json.dumps(job.as_dict(), default=str))
        )

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            try:
                self._execute(job)
            except Exception as exc:  # noqa: BLE001 - recorded on the job, the worker keeps serving
                # The jobs API returns this: Omniva's own errors say what to do; anything else is
                # internal (paths, driver text) and goes to the server's log only.
                if isinstance(exc, OmnivaError | ApiError):
                    error = redact_text(f"{type(exc).__name__}: {exc}")
                else:
                    log.exception("API job %s failed", job.job_id)
                    error = f"internal error (job {job.job_id}; see the API server's log)"
                job.status, job.result = "FAILED", {**job.result, "error": error}
            finally:
                job.completed_at = now_iso()
                with self._lock:
                    self._save(job)
                self._done[job.job_id].set()

    def _execute(self, job: ApiJob) -> None:
        job.status, job.started_at = "RUNNING", now_iso()
        with self._lock:
            self._save(job)
        ok = True
        for run in job.runs:
            ok = self._run(run) and ok
            if run.job_name == "creators_job" and not ok:
                break  # posts need their creator partition
        job.status = "DONE" if ok else "FAILED"
        if job.kind == "upload":
            self._upload_outcome(job)
        self._sync_lineage()

    def _run(self, run: PlannedRun) -> bool:
        """Execute the run here (or follow the one the webserver launched) until it ends."""
        if not self.launcher.queued:
            self.launcher.submit(
                run.job_name,
                run.tags,
                run.partition,
                run_config=QUIET,
                run_id=run.run_id,
                asset_selection=run.asset_selection,
            )
        timeout = self.settings.api_run_timeout_s
        outcome = self.launcher.settle([run.run_id], self.store, timeout=timeout)[run.run_id]
        run.status = outcome.status
        if not outcome.success:
            run.failures = [{"step": step, "message": why} for step, why in outcome.failures]
        return outcome.success

    def _launch(self, run: PlannedRun) -> str:
        """Launch through the webserver (queued; the daemon launches it in its own process).
        Returns the run id Dagster gave it."""
        try:
            run_id = self.launcher.submit(
                run.job_name, run.tags, run.partition, run_config=QUIET, asset_selection=run.asset_selection
            )
        except LaunchRefused as exc:
            raise ApiError(502, "DAGSTER_REFUSED", str(exc)) from exc
        run.status = "SUBMITTED"
        return run_id

    def _upload_outcome(self, job: ApiJob) -> None:
        """Uploaded (with its video id) or deferred (with the reason and when it is retried)."""
        run = job.runs[-1]
        for record in self.instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_OBSERVATION
        ).records:
            obs = record.event_log_entry.asset_observation
            meta = {k: v.value for k, v in obs.metadata.items()} if obs else {}
            if obs and obs.asset_key == dg.AssetKey("uploads") and "deferred_until" in meta:
                job.status = "DEFERRED"
                job.result = {
                    "deferred": True,
                    "reason": meta.get("message") or meta.get("reason"),
                    "reason_code": meta.get("reason"),
                    "deferred_until": meta.get("deferred_until"),
                    "channel": meta.get("channel"),
                }
                return
        mats = self.instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records
        for record in mats:
            mat = record.event_log_entry.asset_materialization
            if mat and mat.asset_key == dg.AssetKey("uploads"):
                meta = {k: v.value for k, v in mat.metadata.items()}
                job.result = {
                    "deferred": False,
                    "yt_video_id": meta.get("yt_video_id"),
                    "publish_at": meta.get("publish_at") or None,
                    "how": meta.get("how"),
                }
                return
        job.result = {"deferred": False, "failures": run.failures}

    def _sync_lineage(self) -> None:
        sync_lineage(self.instance, self.store.warehouse)

    # ------------------------------------------------------------ runs
    def run_status(self, run_id: str) -> str | None:
        run = self.instance.get_run_by_id(run_id)
        return run.status.value if run else None

    def active_runs(self, job_name: str, partition: str | None = None) -> list[str]:
        """Runs of ``job_name`` (for ``partition``) queued or in progress on the instance."""
        return list(
            self.instance.get_run_ids(
                filters=dg.RunsFilter(
                    job_name=job_name,
                    statuses=[
                        dg.DagsterRunStatus.QUEUED,
                        dg.DagsterRunStatus.NOT_STARTED,
                        dg.DagsterRunStatus.STARTING,
                        dg.DagsterRunStatus.STARTED,
                    ],
                    tags={"dagster/partition": partition} if partition else {},
                )
            )
        )

    # ------------------------------------------------------------ automation
    def _repository(self) -> RemoteRepository:
        """The code location, loaded in-process under the workspace's location name, so its
        instigators have the same selector ids the daemon and the UI use."""
        if self._location is None:
            origin = InProcessCodeLocationOrigin(
                LoadableTargetOrigin(
                    module_name="omniva_assets.definitions", working_directory=str(REPO_ROOT)
                ),
                location_name=LOCATION,
            )
            self._location = InProcessCodeLocation(origin, self.instance)
        return next(iter(self._location.get_repositories().values()))

    def automation(self) -> dict[str, str]:
        """Status of each automation instigator: RUNNING or STOPPED."""
        repo = self._repository()
        instigators: list[RemoteSensor | RemoteSchedule] = [repo.get_sensor(n) for n in AUTOMATION_SENSORS]
        instigators += [repo.get_schedule(n) for n in AUTOMATION_SCHEDULES]
        out = {}
        for s in instigators:
            state = s.get_current_instigator_state(
                self.instance.get_instigator_state(s.get_remote_origin_id(), s.selector_id)
            )
            out[s.name] = "RUNNING" if state.is_running else "STOPPED"
        return out

    def set_automation(self, on: bool) -> dict[str, str]:
        repo = self._repository()
        current = self.automation()
        for name in AUTOMATION_SENSORS:
            sensor = repo.get_sensor(name)
            if on and current[name] != "RUNNING":
                self.instance.start_sensor(sensor)
            elif not on and current[name] == "RUNNING":
                self.instance.stop_sensor(sensor.get_remote_origin_id(), sensor.selector_id, sensor)
        for name in AUTOMATION_SCHEDULES:
            schedule = repo.get_schedule(name)
            if on and current[name] != "RUNNING":
                self.instance.start_schedule(schedule)
            elif not on and current[name] == "RUNNING":
                self.instance.stop_schedule(schedule.get_remote_origin_id(), schedule.selector_id, schedule)
        return self.automation()
