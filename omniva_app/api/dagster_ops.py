"""The API's actions, as Dagster runs on the instance the UI shows.

Each action becomes an ``ApiJob``: one or more runs of the code location's own jobs
(``posts_job``, ``clip_job``, ``upload_job``, ``publish_plan_job``), executed in order
by one background worker with ``execute_in_process`` on the instance, as ``omniva run``
does (the embedded instance has no daemon). The run ids are chosen before the runs
start, so the response carries them at once. Failed runs go through Eclipse exactly as
CLI runs do; Zenith's rules (quarantine, crisis mode) are applied before launching.
Project start/stop turns the automation (Zenith's sensors and the daily schedule) on
or off through the instance's instigator state, as the UI's toggles do.
"""

from __future__ import annotations

import json
import os
import queue
import re
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEventType

from cognitive_sensors import lattice
from omniva_app.api.envelope import ApiError, now_iso
from omniva_app.api.reads import failure_reason
from omniva_app.driver import QUIET
from omniva_assets.eclipse import handle_failed_run
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
LOCATION = "omniva"  # the code location's name in workspace.yaml and pyproject.toml


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
        self, defs: dg.Definitions, instance: dg.DagsterInstance, store: OmnivaStore, jobs_dir: Path
    ):
        self.defs, self.instance, self.store = defs, instance, store
        self.jobs_dir = Path(jobs_dir)
        self._queue: queue.Queue[ApiJob] = queue.Queue()
        self._jobs: dict[str, ApiJob] = {}
        self._done: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._location = None
        # Set: launch through this Dagster webserver's GraphQL API (queued, run by the daemon).
        self.graphql_url = os.environ.get("OMNIVA_DAGSTER_GRAPHQL", "").rstrip("/")

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
        if self.graphql_url:
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
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.jobs_dir / f".{job.job_id}.partial"
        tmp.write_text(json.dumps(job.as_dict(), default=str, indent=2))
        tmp.replace(self.jobs_dir / f"{job.job_id}.json")

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            try:
                self._execute(job)
            except Exception as exc:  # noqa: BLE001 - recorded on the job, the worker keeps serving
                job.status, job.result = "FAILED", {**job.result, "error": f"{type(exc).__name__}: {exc}"}
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
        if self.graphql_url:
            return self._wait_queued(run)
        job_def = self.defs.resolve_job_def(run.job_name)
        result = job_def.execute_in_process(
            partition_key=run.partition,
            instance=self.instance,
            raise_on_error=False,
            run_config=QUIET,
            run_id=run.run_id,
            tags=run.tags,
            asset_selection=[dg.AssetKey(a) for a in run.asset_selection] if run.asset_selection else None,
        )
        run.status = result.dagster_run.status.value
        if not result.success:
            handle_failed_run(self.instance, self.store, result.dagster_run)  # Eclipse, as for CLI runs
            run.failures = [
                {"step": ev.step_key or "?", "message": failure_reason(ev)}
                for ev in result.all_events
                if ev.is_step_failure
            ]
        return result.success

    def _launch(self, run: PlannedRun) -> str:
        """Launch through the webserver's GraphQL API (``launchPipelineExecution``, as the UI's
        Materialize button): the instance's run coordinator queues the run and the daemon
        launches it in its own process. Returns the run id Dagster gave it."""
        import httpx
        from dagster_graphql.client.client_queries import CLIENT_SUBMIT_PIPELINE_RUN_MUTATION

        job_def = self.defs.resolve_job_def(run.job_name)
        tags = dict(run.tags)
        if run.partition is not None:
            tags.update(job_def.partitions_def.get_tags_for_partition_key(run.partition))
        selection = [{"path": [a]} for a in run.asset_selection] if run.asset_selection else None
        variables = {
            "executionParams": {
                "selector": {
                    "repositoryLocationName": LOCATION,
                    "repositoryName": "__repository__",
                    "pipelineName": run.job_name,
                    "solidSelection": None,
                    "assetSelection": selection,
                },
                "runConfigData": QUIET,
                "mode": "default",
                "executionMetadata": {"tags": [{"key": k, "value": str(v)} for k, v in tags.items()]},
            }
        }
        answer = httpx.post(
            f"{self.graphql_url}/graphql",
            json={"query": CLIENT_SUBMIT_PIPELINE_RUN_MUTATION, "variables": variables},
            timeout=120,
        ).json()
        launched = (answer.get("data") or {}).get("launchPipelineExecution") or {}
        if launched.get("__typename") not in ("LaunchRunSuccess", "LaunchPipelineRunSuccess"):
            why = launched.get("message") or launched.get("errors") or answer.get("errors")
            raise ApiError(
                502,
                "DAGSTER_REFUSED",
                f"Dagster refused {run.job_name} {run.partition or ''}: {launched.get('__typename')}: {why}",
            )
        run.status = "SUBMITTED"
        return launched["run"]["runId"]

    def _wait_queued(self, run: PlannedRun) -> bool:
        """Wait for a run launched through GraphQL to finish; Eclipse's verdict on a failure."""
        deadline = time.monotonic() + float(os.environ.get("OMNIVA_API_RUN_TIMEOUT_S", "3600"))
        while True:
            dagster_run = self.instance.get_run_by_id(run.run_id)
            if dagster_run and dagster_run.is_finished:
                break
            if time.monotonic() > deadline:
                run.status = dagster_run.status.value if dagster_run else "QUEUED"
                run.failures = [{"step": "?", "message": "still not finished; see the Dagster UI"}]
                return False
            time.sleep(1.0)
        run.status = dagster_run.status.value
        if dagster_run.status != dg.DagsterRunStatus.SUCCESS:
            handle_failed_run(self.instance, self.store, dagster_run)  # idempotent beside eclipse_sensor
            run.failures = [
                {
                    "step": r.event_log_entry.step_key or "?",
                    "message": failure_reason(r.event_log_entry.dagster_event),
                }
                for r in self.instance.get_records_for_run(
                    run.run_id, of_type=DagsterEventType.STEP_FAILURE
                ).records
            ]
        return dagster_run.status == dg.DagsterRunStatus.SUCCESS

    def _upload_outcome(self, job: ApiJob) -> None:
        """Uploaded (with its video id) or deferred (with the reason and when it is retried)."""
        run = job.runs[-1]
        for record in self.instance.get_records_for_run(
            run.run_id, of_type=DagsterEventType.ASSET_OBSERVATION
        ).records:
            obs = record.event_log_entry.dagster_event.event_specific_data.asset_observation
            meta = {k: v.value for k, v in obs.metadata.items()}
            if obs.asset_key == dg.AssetKey("uploads") and "deferred_until" in meta:
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
            run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION
        ).records
        for record in mats:
            mat = record.event_log_entry.dagster_event.event_specific_data.materialization
            if mat.asset_key == dg.AssetKey("uploads"):
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
        from omniva_resources.lineage import sync_lineage

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
    def _repository(self):
        """The code location, loaded in-process under the workspace's location name, so its
        instigators have the same selector ids the daemon and the UI use."""
        if self._location is None:
            from dagster._core.remote_representation.code_location import (
                InProcessCodeLocation,
                InProcessCodeLocationOrigin,
            )
            from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

            from omniva.settings import REPO_ROOT

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
        out = {}
        for name in AUTOMATION_SENSORS:
            s = repo.get_sensor(name)
            state = s.get_current_instigator_state(
                self.instance.get_instigator_state(s.get_remote_origin_id(), s.selector_id)
            )
            out[name] = "RUNNING" if state.is_running else "STOPPED"
        for name in AUTOMATION_SCHEDULES:
            s = repo.get_schedule(name)
            state = s.get_current_instigator_state(
                self.instance.get_instigator_state(s.get_remote_origin_id(), s.selector_id)
            )
            out[name] = "RUNNING" if state.is_running else "STOPPED"
        return out

    def set_automation(self, on: bool) -> dict[str, str]:
        repo = self._repository()
        current = self.automation()
        for name in AUTOMATION_SENSORS:
            s = repo.get_sensor(name)
            if on and current[name] != "RUNNING":
                self.instance.start_sensor(s)
            elif not on and current[name] == "RUNNING":
                self.instance.stop_sensor(s.get_remote_origin_id(), s.selector_id, s)
        for name in AUTOMATION_SCHEDULES:
            s = repo.get_schedule(name)
            if on and current[name] != "RUNNING":
                self.instance.start_schedule(s)
            elif not on and current[name] == "RUNNING":
                self.instance.stop_schedule(s.get_remote_origin_id(), s.selector_id, s)
        return self.automation()
