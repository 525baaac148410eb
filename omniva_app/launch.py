"""Launching Omniva's runs: one module starts a job's run (partition, tags) and waits for it.

Three launchers, one interface (``Launcher``):

- ``InProcessLauncher`` executes the run in this process on the instance (``omniva run`` and
  ``demo``; the REST API when no webserver is named). No daemon needed.
- ``QueueLauncher`` submits it through the instance's run coordinator, as sensors, schedules and
  the UI do (``omniva run --queue``): with the queued coordinator the daemon launches it within
  the queue's limits, on the configured executor (e.g. Celery workers).
- ``GraphQLLauncher`` asks a Dagster webserver to launch it (``launchPipelineExecution``, the
  UI's Materialize button): the REST API with ``OMNIVA_DAGSTER_GRAPHQL`` set.

``Launcher.settle`` waits for runs and reads back each one's outcome; a failed run goes through
Eclipse (``handle_failed_run``) whichever way it was launched. ``LaunchSettings.from_env`` is the
one place the front ends read their launch settings from the environment.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
from dagster import DagsterEvent, DagsterEventType, QueuedRunCoordinator
from dagster_graphql.client.client_queries import CLIENT_SUBMIT_PIPELINE_RUN_MUTATION

from cognitive_sensors.eclipse import Verdict
from omniva.errors import OmnivaError
from omniva.settings import REPO_ROOT, ensure_dagster_home
from omniva_assets.eclipse import handle_failed_run
from omniva_resources.dagster_internals import (
    JobSubsetSelector,
    ModuleTarget,
    WorkspaceFileTarget,
    WorkspaceProcessContext,
)
from omniva_resources.resources import OmnivaStore

# The front ends print their own one-line reasons; the full event log is in the instance (UI).
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
LOCATION = "omniva"  # the code location's name in workspace.yaml and pyproject.toml
UNFINISHED = "still not finished; see the Dagster UI"


@dataclass(frozen=True)
class LaunchSettings:
    """What the CLI, the driver and the API read from the environment to launch runs."""

    dagster_home: str = ""  # DAGSTER_HOME; empty: the working folder's instance
    workspace: Path = REPO_ROOT / "workspace.yaml"  # OMNIVA_WORKSPACE: code locations for --queue
    graphql_url: str = ""  # OMNIVA_DAGSTER_GRAPHQL: the API launches through this webserver
    api_run_timeout_s: float = 3600.0  # OMNIVA_API_RUN_TIMEOUT_S: how long the API follows a run
    gpus: int = 0  # OMNIVA_GPUS: queued transcription and render runs take the GPU lane
    channel: str = "omniva-demo"  # OMNIVA_CHANNEL: uploads whose publish slot names no channel
    render_parallel: str = "auto"  # OMNIVA_RENDER_PARALLEL: clip runs side by side in `omniva run`

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LaunchSettings:
        env = os.environ if environ is None else environ
        try:
            gpus = int(env.get("OMNIVA_GPUS", "0") or 0)
        except ValueError:
            gpus = 0
        return cls(
            dagster_home=env.get("DAGSTER_HOME", ""),
            workspace=Path(env.get("OMNIVA_WORKSPACE") or cls.workspace),
            graphql_url=env.get("OMNIVA_DAGSTER_GRAPHQL", "").rstrip("/"),
            api_run_timeout_s=float(env.get("OMNIVA_API_RUN_TIMEOUT_S") or cls.api_run_timeout_s),
            gpus=gpus,
            channel=env.get("OMNIVA_CHANNEL") or cls.channel,
            render_parallel=env.get("OMNIVA_RENDER_PARALLEL") or cls.render_parallel,
        )


class LaunchRefused(OmnivaError):
    """Dagster would not launch the run (unknown job, invalid config, webserver error)."""


@dataclass
class Outcome:
    """How one run ended, as the front ends report it."""

    run_id: str
    status: str  # Dagster's run status; QUEUED, STARTED ... for a run still going at the deadline
    failures: list[tuple[str, str]] = field(default_factory=list)  # (step key, first line of why)
    verdicts: list[Verdict] = field(default_factory=list)  # Eclipse's, for a failed run

    @property
    def success(self) -> bool:
        return self.status == dg.DagsterRunStatus.SUCCESS.value


def step_failure_message(event: DagsterEvent) -> str:
    """The reason a step failed, as the asset raised it (first line; empty when there is none)."""
    data = event.step_failure_data
    user = data.user_failure_data
    text = user.description if user and user.description else (data.error.message if data.error else "")
    text = (text or "").strip()
    return text.splitlines()[0] if text else ""


def run_failures(instance: dg.DagsterInstance, run_id: str) -> list[tuple[str, str]]:
    """(step key, reason) of each failed step of a run, from its event log."""
    out = []
    for record in instance.get_records_for_run(run_id, of_type=DagsterEventType.STEP_FAILURE).records:
        event = record.event_log_entry.dagster_event
        if event is not None:
            out.append((record.event_log_entry.step_key or "?", step_failure_message(event)))
    return out


class Launcher:
    """Starts runs of the code location's jobs (``submit``) and waits for them."""

    #: True: ``submit`` returns at once and the run starts elsewhere (daemon, webserver).
    queued = False

    def __init__(self, instance: dg.DagsterInstance):
        self.instance = instance

    def __enter__(self) -> Launcher:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(
        self,
        job_name: str,
        tags: Mapping[str, str] | None = None,
        partition_key: str | None = None,
        *,
        run_config: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        asset_selection: Sequence[str] | None = None,
        location_name: str | None = None,
    ) -> str:
        """Start one run of ``job_name``; returns its run id. ``run_id`` chooses the id where the
        launcher can (not through a webserver, which chooses its own)."""
        raise NotImplementedError

    def wait(self, run_ids: Sequence[str], timeout: float = 600, poll: float = 0.5) -> dict[str, str]:
        """Wait until every run finished; returns run id -> status. TimeoutError past ``timeout``."""
        runs = self._poll(run_ids, timeout, poll)
        waiting = {rid: run.status if run else None for rid, run in runs.items() if not _finished(run)}
        if waiting:
            raise TimeoutError(f"runs not finished after {timeout:.0f} s: {waiting}")
        return {rid: run.status.value for rid, run in runs.items() if run is not None}

    def settle(
        self, run_ids: Sequence[str], store: OmnivaStore, timeout: float = 0.0, poll: float = 1.0
    ) -> dict[str, Outcome]:
        """Wait up to ``timeout`` for the runs, then each one's outcome. A failed run goes through
        Eclipse (idempotent beside ``eclipse_sensor``); one still going is reported as such."""
        runs = self._poll(run_ids, timeout, poll)
        out = {}
        for rid, run in runs.items():
            if run is None or not run.is_finished:
                status = run.status.value if run else "QUEUED"
                out[rid] = Outcome(rid, status, [("?", UNFINISHED)])
            elif run.status == dg.DagsterRunStatus.SUCCESS:
                out[rid] = Outcome(rid, run.status.value)
            else:
                verdicts = handle_failed_run(self.instance, store, run)
                out[rid] = Outcome(rid, run.status.value, run_failures(self.instance, rid), verdicts)
        return out

    def _poll(self, run_ids: Sequence[str], timeout: float, poll: float) -> dict[str, dg.DagsterRun | None]:
        deadline = time.monotonic() + timeout
        while True:
            found = {r.run_id: r for r in self.instance.get_runs(dg.RunsFilter(run_ids=list(run_ids)))}
            runs = {rid: found.get(rid) for rid in run_ids}
            if not run_ids or all(_finished(r) for r in runs.values()) or time.monotonic() > deadline:
                return runs
            time.sleep(poll)


def _finished(run: dg.DagsterRun | None) -> bool:
    return run is not None and run.is_finished


class InProcessLauncher(Launcher):
    """Executes each run in this process (``execute_in_process``); ``submit`` returns when it ended."""

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance):
        super().__init__(instance)
        self.defs = defs

    def submit(
        self,
        job_name: str,
        tags: Mapping[str, str] | None = None,
        partition_key: str | None = None,
        *,
        run_config: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        asset_selection: Sequence[str] | None = None,
        location_name: str | None = None,
    ) -> str:
        result = self.defs.resolve_job_def(job_name).execute_in_process(
            run_config=dict(run_config or {}),
            instance=self.instance,
            partition_key=partition_key,
            raise_on_error=False,
            run_id=run_id,
            tags=dict(tags or {}),
            asset_selection=[dg.AssetKey(a) for a in asset_selection] if asset_selection else None,
        )
        return result.run_id


class QueueLauncher(Launcher):
    """Submits runs of a workspace's jobs through the instance's run coordinator.

    With the queued coordinator the run waits in the queue until the daemon launches it within
    the limits; this is what sensors, schedules, backfills and the UI do.
    """

    queued = True

    def __init__(
        self, instance: dg.DagsterInstance, workspace_file: Path | None = None, **module_target: str
    ):
        super().__init__(instance)
        target: WorkspaceFileTarget | ModuleTarget
        if workspace_file is not None:
            target = WorkspaceFileTarget(paths=[str(workspace_file)])
        else:
            target = ModuleTarget(
                module_name=module_target["module_name"],
                attribute=module_target.get("attribute"),
                working_directory=module_target.get("working_directory", str(REPO_ROOT)),
                location_name=module_target.get("location_name", LOCATION),
            )
        self._process_context = WorkspaceProcessContext(instance, target)

    def __enter__(self) -> QueueLauncher:
        self._process_context.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._process_context.__exit__(*exc)

    def submit(
        self,
        job_name: str,
        tags: Mapping[str, str] | None = None,
        partition_key: str | None = None,
        *,
        run_config: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        asset_selection: Sequence[str] | None = None,
        location_name: str | None = None,
    ) -> str:
        if asset_selection:
            raise ValueError(
                "QueueLauncher runs whole jobs; launch an asset subset in process or via GraphQL"
            )
        workspace = self._process_context.create_request_context()
        locations = [location_name] if location_name else list(workspace.get_code_location_entries())
        for name in locations:
            location = workspace.get_code_location(name)
            for repo in location.get_repositories().values():
                if not repo.has_job(job_name):
                    continue
                remote_job = location.get_job(
                    JobSubsetSelector(
                        location_name=name, repository_name=repo.name, job_name=job_name, op_selection=None
                    )
                )
                run_tags = dict(remote_job.tags)
                run_tags.update(tags or {})
                if partition_key is not None:
                    run_tags["dagster/partition"] = str(partition_key)
                    if isinstance(partition_key, dg.MultiPartitionKey):
                        for dim, key in partition_key.keys_by_dimension.items():
                            run_tags[f"dagster/partition/{dim}"] = key
                plan = location.get_execution_plan(
                    remote_job,
                    dict(run_config or {}),
                    step_keys_to_execute=None,
                    known_state=None,
                    instance=self.instance,
                )
                run = self.instance.create_run(
                    job_name=job_name,
                    run_id=run_id,
                    run_config=dict(run_config or {}),
                    resolved_op_selection=None,
                    step_keys_to_execute=None,
                    op_selection=None,
                    status=None,
                    root_run_id=None,
                    parent_run_id=None,
                    tags=run_tags,
                    job_snapshot=remote_job.job_snapshot,
                    execution_plan_snapshot=plan.execution_plan_snapshot,
                    parent_job_snapshot=remote_job.parent_job_snapshot,
                    remote_job_origin=remote_job.get_remote_origin(),
                    job_code_origin=remote_job.get_python_origin(),
                    asset_selection=None,
                    asset_check_selection=None,
                    asset_graph=repo.asset_graph,
                )
                return self.instance.submit_run(run.run_id, workspace).run_id
        raise KeyError(f"no job {job_name!r} in the workspace")


class GraphQLLauncher(Launcher):
    """Launches through a Dagster webserver's GraphQL API: the instance's run coordinator queues
    the run and the daemon launches it in its own process. Dagster chooses the run id."""

    queued = True

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance, url: str):
        super().__init__(instance)
        self.defs, self.url = defs, url.rstrip("/")

    def submit(
        self,
        job_name: str,
        tags: Mapping[str, str] | None = None,
        partition_key: str | None = None,
        *,
        run_config: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        asset_selection: Sequence[str] | None = None,
        location_name: str | None = None,
    ) -> str:
        partitions = self.defs.resolve_job_def(job_name).partitions_def
        run_tags = dict(tags or {})
        if partition_key is not None and partitions is not None:
            run_tags.update(partitions.get_tags_for_partition_key(partition_key))
        variables = {
            "executionParams": {
                "selector": {
                    "repositoryLocationName": location_name or LOCATION,
                    "repositoryName": "__repository__",
                    "pipelineName": job_name,
                    "solidSelection": None,
                    "assetSelection": [{"path": [a]} for a in asset_selection] if asset_selection else None,
                },
                "runConfigData": dict(run_config or {}),
                "mode": "default",
                "executionMetadata": {"tags": [{"key": k, "value": str(v)} for k, v in run_tags.items()]},
            }
        }
        answer = httpx.post(
            f"{self.url}/graphql",
            json={"query": CLIENT_SUBMIT_PIPELINE_RUN_MUTATION, "variables": variables},
            timeout=120,
        ).json()
        launched = (answer.get("data") or {}).get("launchPipelineExecution") or {}
        if launched.get("__typename") not in ("LaunchRunSuccess", "LaunchPipelineRunSuccess"):
            why = launched.get("message") or launched.get("errors") or answer.get("errors")
            raise LaunchRefused(
                f"Dagster refused {job_name} {partition_key or ''}: {launched.get('__typename')}: {why}"
            )
        return str(launched["run"]["runId"])


def dagster_instance() -> dg.DagsterInstance:
    """The instance the UI shows: ``DAGSTER_HOME``, else the working folder's own."""
    ensure_dagster_home()
    return dg.DagsterInstance.get()


def queue_launcher(instance: dg.DagsterInstance, settings: LaunchSettings | None = None) -> QueueLauncher:
    """``omniva run --queue``: runs go through the instance's run coordinator (and, with the
    queued coordinator, wait for the daemon to launch them within the limits)."""
    settings = settings or LaunchSettings.from_env()
    if isinstance(instance.run_coordinator, QueuedRunCoordinator):
        beat = instance.get_daemon_heartbeats().get("QUEUED_RUN_COORDINATOR")
        if beat is None or time.time() - beat.timestamp > 120:
            raise OmnivaError(
                f"--queue: no dagster-daemon is running for the instance in {settings.dagster_home or None}, "
                "so queued runs would never start; start `dagster-daemon run -w workspace.yaml` "
                "(README: Moving to PostgreSQL) or drop --queue to run in this process"
            )
    return QueueLauncher(instance, workspace_file=settings.workspace)
