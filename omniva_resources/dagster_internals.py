"""Every private Dagster API (``dagster._...``) Omniva uses, in one place (#25).

Dagster may move or change anything under ``dagster._`` in any release. Omniva's modules import
these names from here, never from ``dagster._...`` themselves, so an upgrade that breaks one
breaks here, and ``tests/unit/test_dagster_internals.py`` names the symbol, what Omniva uses it
for, and what changed. Each entry of ``PRIVATE`` says why the public API does not suffice.

Each name is imported from Dagster when it is first asked for (``from ... import X`` asks), not
when this module is imported: a module pays for the Dagster internals it uses and no others,
as when it imported them itself (the warm run process and the CLI's start-up depend on it, #20).
Names Dagster also exports publicly (``dg.DagsterEventType``, ``dg.DefaultRunLauncher``,
``dg.serialize_value``, ...) are imported from ``dagster`` where they are used, not from here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, NamedTuple


class Private(NamedTuple):
    module: str  # where Dagster keeps it today
    used_for: str  # what Omniva does with it (and where)
    why: str  # why the public API does not suffice
    attr: str = ""  # its name there, when Dagster's starts with "_" (Omniva's modules import no
    # private names from each other: tests/unit/test_layers.py); "": the same name

    def dagster_name(self, name: str) -> str:
        return self.attr or name


_DATA_VERSION = "dagster._core.definitions.data_version"
_SQLITE_EVENT_LOG = "dagster._core.storage.event_log.sqlite.sqlite_event_log"
_SQLITE_STORAGE = "dagster._core.storage.sqlite_storage"
_CODE_LOCATION = "dagster._core.remote_representation.code_location"
_REMOTE = "dagster._core.remote_representation.external"
_LOAD_TARGET = "dagster._core.workspace.load_target"

PRIVATE: dict[str, Private] = {
    # -- staleness (omniva_resources.staleness: `omniva run --refresh-stale`)
    "CachingStaleStatusResolver": Private(
        _DATA_VERSION,
        "which materialized partitions are stale, and why (omniva_resources.staleness)",
        "staleness is computed for the UI and GraphQL only; no public function answers it",
    ),
    "StaleStatus": Private(
        _DATA_VERSION,
        "the resolver's answer, compared with StaleStatus.STALE (omniva_resources.staleness)",
        "the enum of the private resolver above",
    ),
    "LoadingContextForTest": Private(
        "dagster._core.loader",
        "the loading context the stale-status resolver needs outside a GraphQL request",
        "the resolver takes a LoadingContext; the public API builds none outside the webserver",
    ),
    # -- the embedded instance's storage (omniva_resources.instance_storage)
    "InstanceRef": Private(
        "dagster._core.instance.ref",
        "an instance's default storages (instance_storage) and opening the instance a run "
        "process is sent (run_zygote)",
        "DagsterInstance.from_ref and custom instance classes take an InstanceRef; "
        "DagsterInstance.get() only reads DAGSTER_HOME",
    ),
    "SqliteEventLogStorage": Private(
        _SQLITE_EVENT_LOG,
        "base class of OmnivaSqliteEventLogStorage (engines kept, run shards from a template)",
        "storage classes are configurable classes with no public base to extend",
    ),
    "INDEX_SHARD_NAME": Private(
        _SQLITE_EVENT_LOG,
        "the event log's index shard, which OmnivaSqliteEventLogStorage.has_table opens",
        "the shard naming of the SQLite event log is internal",
    ),
    "SqliteRunStorage": Private(
        "dagster._core.storage.runs.sqlite.sqlite_run_storage",
        "base class of OmnivaSqliteRunStorage (its engine and connection kept)",
        "storage classes are configurable classes with no public base to extend",
    ),
    "SqliteScheduleStorage": Private(
        "dagster._core.storage.schedules.sqlite.sqlite_schedule_storage",
        "the schedule storage of OmnivaSqliteStorage, as Dagster's own SQLite storage has it",
        "storage classes are configurable classes with no public base to extend",
    ),
    "DagsterSqliteStorage": Private(
        _SQLITE_STORAGE,
        "base class of OmnivaSqliteStorage (the unified storage with the two subclasses)",
        "storage classes are configurable classes with no public base to extend",
    ),
    "runs_directory": Private(
        _SQLITE_STORAGE,
        "the run storage's folder under the instance, the same as Dagster's",
        "the folder layout of the SQLite storage is internal",
        "_runs_directory",
    ),
    "event_logs_directory": Private(
        _SQLITE_STORAGE,
        "the event log's folder under the instance, the same as Dagster's",
        "the folder layout of the SQLite storage is internal",
        "_event_logs_directory",
    ),
    "schedule_directory": Private(
        _SQLITE_STORAGE,
        "the schedule storage's folder under the instance, the same as Dagster's",
        "the folder layout of the SQLite storage is internal",
        "_schedule_directory",
    ),
    "SQLITE_BUSY_TIMEOUT_SECONDS": Private(
        "dagster._core.storage.sqlite",
        "the busy timeout of the engines OmnivaSqliteEventLogStorage keeps, the same as Dagster's",
        "an internal constant; using it keeps Omniva's engines waiting as Dagster's do",
    ),
    "ConfigurableClassData": Private(
        "dagster._serdes",
        "what dagster.yaml's configurable classes (storages, the run launcher) are built from",
        "from_config_value and ConfigurableClass constructors take it; it is not exported",
    ),
    # -- Dagster's failure events (omniva_assets.eclipse)
    "StepFailureData": Private(
        "dagster._core.events",
        "a STEP_FAILURE event's error and user failure data, which Eclipse classifies",
        "DagsterEvent.event_specific_data is public, its STEP_FAILURE type is not",
    ),
    # -- the Celery executor's GPU queue (omniva_assets.deployment)
    "ExecutionStep": Private(
        "dagster._core.execution.plan.step",
        "the plan's steps whose dagster-celery/queue tag route_plan sets",
        "executors see the execution plan, which has no public types",
    ),
    "RetryMode": Private(
        "dagster._core.execution.retries",
        "the retries config OmnivaCeleryExecutor passes on, as dagster-celery's executor does",
        "dagster-celery's CeleryExecutor takes a RetryMode; dagster exports none",
    ),
    # -- the run queue and in-process code locations (omniva_app.launch, omniva_app.api)
    "WorkspaceProcessContext": Private(
        "dagster._core.workspace.context",
        "QueueLauncher's workspace, from which queued runs are submitted as the UI submits them",
        "submitting a run to the queue without a webserver needs a workspace; none is public",
    ),
    "ModuleTarget": Private(
        _LOAD_TARGET,
        "QueueLauncher's workspace when it loads a module (omniva_assets.definitions)",
        "the argument WorkspaceProcessContext takes",
    ),
    "WorkspaceFileTarget": Private(
        _LOAD_TARGET,
        "QueueLauncher's workspace when it loads workspace.yaml",
        "the argument WorkspaceProcessContext takes",
    ),
    "JobSubsetSelector": Private(
        "dagster._core.definitions.selector",
        "the remote job QueueLauncher submits a run of",
        "CodeLocation.get_job takes it; no public selector exists",
    ),
    "InProcessCodeLocation": Private(
        _CODE_LOCATION,
        "the API's view of the sensors and schedules with the daemon's selector ids",
        "instigator state is keyed by remote selectors, which only a code location gives",
    ),
    "InProcessCodeLocationOrigin": Private(
        _CODE_LOCATION,
        "the origin the API's in-process code location is loaded from, under its location name",
        "the argument InProcessCodeLocation takes",
    ),
    "LoadableTargetOrigin": Private(
        "dagster._core.types.loadable_target_origin",
        "where that in-process code location loads the definitions from",
        "the argument InProcessCodeLocationOrigin takes",
    ),
    "RemoteRepository": Private(
        _REMOTE,
        "the repository of that code location (get_sensor, get_schedule)",
        "the type of CodeLocation.get_repositories()'s values",
    ),
    "RemoteSensor": Private(
        _REMOTE, "the sensors the API starts and stops", "the type RemoteRepository.get_sensor returns"
    ),
    "RemoteSchedule": Private(
        _REMOTE, "the schedules the API starts and stops", "the type RemoteRepository.get_schedule returns"
    ),
    # -- warm run starts (omniva_app.run_launcher, omniva_app.run_zygote)
    "LaunchRunContext": Private(
        "dagster._core.launcher.base",
        "the argument of WarmRunLauncher.launch_run",
        "RunLauncher.launch_run's argument type is not exported",
    ),
    "ModuleCodePointer": Private(
        "dagster._core.code_pointer",
        "whether a run is of Omniva's own code location (module omniva_assets.definitions)",
        "a run's code origin is public, the type of its code pointer is not",
    ),
    "execute_run_command_body": Private(
        "dagster._cli.api",
        "what `dagster api execute_run` does with a run, done in a forked warm process",
        "the public way is a new `dagster api execute_run` interpreter, the cost #20 removes",
        "_execute_run_command_body",
    ),
    "capture_interrupts": Private(
        "dagster._utils.interrupts",
        "a warm run process turns SIGINT into Dagster's interrupt, as `dagster api execute_run` does",
        "Dagster's run termination depends on it; it is not exported",
    ),
}

if TYPE_CHECKING:  # the same names, for the type checker (test_dagster_internals checks they agree)
    from dagster._cli.api import _execute_run_command_body as execute_run_command_body
    from dagster._core.code_pointer import ModuleCodePointer
    from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
    from dagster._core.definitions.selector import JobSubsetSelector
    from dagster._core.events import StepFailureData
    from dagster._core.execution.plan.step import ExecutionStep
    from dagster._core.execution.retries import RetryMode
    from dagster._core.instance.ref import InstanceRef
    from dagster._core.launcher.base import LaunchRunContext
    from dagster._core.loader import LoadingContextForTest
    from dagster._core.remote_representation.code_location import (
        InProcessCodeLocation,
        InProcessCodeLocationOrigin,
    )
    from dagster._core.remote_representation.external import RemoteRepository, RemoteSchedule, RemoteSensor
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
        INDEX_SHARD_NAME,
        SqliteEventLogStorage,
    )
    from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
    from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
    from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
    from dagster._core.storage.sqlite_storage import DagsterSqliteStorage
    from dagster._core.storage.sqlite_storage import _event_logs_directory as event_logs_directory
    from dagster._core.storage.sqlite_storage import _runs_directory as runs_directory
    from dagster._core.storage.sqlite_storage import _schedule_directory as schedule_directory
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import ModuleTarget, WorkspaceFileTarget
    from dagster._serdes import ConfigurableClassData
    from dagster._utils.interrupts import capture_interrupts

__all__ = [
    "INDEX_SHARD_NAME",
    "PRIVATE",
    "SQLITE_BUSY_TIMEOUT_SECONDS",
    "CachingStaleStatusResolver",
    "ConfigurableClassData",
    "DagsterSqliteStorage",
    "ExecutionStep",
    "InProcessCodeLocation",
    "InProcessCodeLocationOrigin",
    "InstanceRef",
    "JobSubsetSelector",
    "LaunchRunContext",
    "LoadableTargetOrigin",
    "LoadingContextForTest",
    "ModuleCodePointer",
    "ModuleTarget",
    "Private",
    "RemoteRepository",
    "RemoteSchedule",
    "RemoteSensor",
    "RetryMode",
    "SqliteEventLogStorage",
    "SqliteRunStorage",
    "SqliteScheduleStorage",
    "StaleStatus",
    "StepFailureData",
    "WorkspaceFileTarget",
    "WorkspaceProcessContext",
    "event_logs_directory",
    "execute_run_command_body",
    "runs_directory",
    "schedule_directory",
    "capture_interrupts",
]


def __getattr__(name: str) -> Any:
    """Import ``name`` from where Dagster keeps it, the first time it is asked for."""
    entry = PRIVATE.get(name)
    if entry is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(entry.module), entry.dagster_name(name))
    except (ImportError, AttributeError) as exc:
        raise ImportError(
            f"Dagster no longer has {entry.module}.{entry.dagster_name(name)}, which Omniva uses for {entry.used_for}; "
            f"see omniva_resources/dagster_internals.py and tests/unit/test_dagster_internals.py"
        ) from exc
    globals()[name] = value
    return value
