"""The private Dagster APIs Omniva uses (``omniva_resources/dagster_internals.py``) are still
where and what Omniva expects (#25). Each failure names the symbol, what Omniva uses it for, and
what changed, so a Dagster upgrade that moves or changes one says so here, not in a run."""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from omniva_resources import dagster_internals as di

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("omniva", "cognitive_sensors", "omniva_resources", "omniva_assets", "omniva_app", "omniva_devkit")


def _say(name: str, what: str) -> str:
    entry = di.PRIVATE[name]
    return (
        f"Dagster changed {entry.module}.{entry.dagster_name(name)}: {what}. Omniva uses it for {entry.used_for}. "
        f"Update omniva_resources/dagster_internals.py and its users."
    )


def _get(name: str) -> Any:
    entry = di.PRIVATE[name]
    try:
        module = importlib.import_module(entry.module)
    except ImportError as exc:
        pytest.fail(_say(name, f"its module no longer imports ({exc})"))
    if not hasattr(module, entry.dagster_name(name)):
        pytest.fail(_say(name, "it is no longer in that module"))
    return getattr(module, entry.dagster_name(name))


def _has(name: str, *attributes: str) -> Any:
    obj = _get(name)
    missing = [a for a in attributes if not hasattr(obj, a)]
    assert not missing, _say(name, f"it has no {', '.join(missing)}")
    return obj


def _params(name: str, fn: Callable[..., Any], *expected: str, label: str = "") -> None:
    try:
        have = set(inspect.signature(fn).parameters)
    except (TypeError, ValueError) as exc:
        pytest.fail(_say(name, f"no signature for {label or name} ({exc})"))
    missing = [p for p in expected if p not in have]
    assert not missing, _say(name, f"{label or name} takes no {', '.join(missing)} (it takes {sorted(have)})")


@pytest.mark.parametrize("name", sorted(di.PRIVATE))
def test_each_private_name_is_where_omniva_expects_it(name: str) -> None:
    value = _get(name)
    assert getattr(di, name) is value, _say(name, "the adapter gives another object")


def test_the_adapter_and_its_type_checking_imports_name_the_same_symbols() -> None:
    """``PRIVATE`` (what runs) and the ``TYPE_CHECKING`` imports (what mypy sees) agree."""
    tree = ast.parse((ROOT / "omniva_resources" / "dagster_internals.py").read_text())
    typed: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom) and imp.module
                typed.update({a.asname or a.name: f"{imp.module}.{a.name}" for a in imp.names})
    assert typed == {n: f"{e.module}.{e.dagster_name(n)}" for n, e in di.PRIVATE.items()}
    assert set(di.__all__) == set(di.PRIVATE) | {"PRIVATE", "Private"}


def test_no_other_module_imports_dagster_privately() -> None:
    """Every ``dagster._...`` import of Omniva's packages goes through the adapter."""
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "dagster_internals.py" and path.parent.name == "omniva_resources":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                offenders += [
                    f"{path.relative_to(ROOT)}:{node.lineno} {n}"
                    for n in names
                    if n.startswith("dagster._") or n.startswith("dagster_shared._")
                ]
    assert not offenders, "import these through omniva_resources/dagster_internals.py: " + "; ".join(
        offenders
    )


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        di.NotADagsterThing  # noqa: B018


def test_a_moved_name_fails_with_what_omniva_uses_it_for(monkeypatch: pytest.MonkeyPatch) -> None:
    moved = di.Private("dagster._core.no_such_module", "the test's own purpose", "none")
    monkeypatch.setitem(di.PRIVATE, "Moved", moved)
    with pytest.raises(
        ImportError, match=r"no_such_module\.Moved, which Omniva uses for the test's own purpose"
    ):
        di.Moved  # noqa: B018


# ------------------------------------------------------------------ staleness
def test_stale_status_resolver() -> None:
    resolver = _has("CachingStaleStatusResolver", "get_status", "get_stale_causes")
    _params(
        "CachingStaleStatusResolver",
        resolver.__init__,
        "instance",
        "asset_graph",
        "loading_context",
        label="CachingStaleStatusResolver(...)",
    )
    for method in ("get_status", "get_stale_causes"):
        _params("CachingStaleStatusResolver", getattr(resolver, method), "key", "partition_key", label=method)
    status = _has("StaleStatus", "STALE")
    assert status.STALE.value == "STALE", _say("StaleStatus", "STALE is no longer the value 'STALE'")
    _params("LoadingContextForTest", _get("LoadingContextForTest").__init__, "instance")


# ------------------------------------------------------------------ the embedded instance's storage
def test_instance_ref() -> None:
    ref = _has("InstanceRef", "from_dir", "config_defaults")
    _params("InstanceRef", ref.from_dir, "base_dir", label="InstanceRef.from_dir")
    _params("InstanceRef", ref.config_defaults, "base_dir", label="InstanceRef.config_defaults")
    defaults = ref.config_defaults("/tmp/omniva-instance")
    missing = {"storage", "run_storage", "event_log_storage"} - set(defaults)
    assert not missing, _say("InstanceRef", f"config_defaults has no {sorted(missing)}")


def test_sqlite_storages() -> None:
    events = _has(
        "SqliteEventLogStorage",
        "_initdb",
        "_connect",
        "conn_string_for_shard",
        "has_table",
        "wipe",
        "dispose",
        "from_config_value",
    )
    _params("SqliteEventLogStorage", events.__init__, "base_dir", "inst_data", label="__init__")
    _params("SqliteEventLogStorage", events._initdb, "engine", "for_index_shard", label="_initdb")
    # OmnivaSqliteEventLogStorage takes over these, by their names in Dagster's source.
    source = inspect.getsource(events)
    for attr in ("_db_lock", "_initialized_dbs", "_base_dir"):
        assert attr in source, _say("SqliteEventLogStorage", f"it no longer has {attr}")
    assert isinstance(_get("INDEX_SHARD_NAME"), str)
    runs = _has("SqliteRunStorage", "from_local", "connect", "dispose", "from_config_value")
    _params("SqliteRunStorage", runs.from_local, "base_dir", "inst_data", label="from_local")
    assert "_conn_string" in inspect.getsource(runs), _say(
        "SqliteRunStorage", "it no longer has _conn_string"
    )
    _params("SqliteScheduleStorage", _has("SqliteScheduleStorage", "from_local").from_local, "base_dir")
    unified = _has("DagsterSqliteStorage", "from_local", "from_config_value")
    _params("DagsterSqliteStorage", unified.from_local, "base_dir", "inst_data", label="from_local")
    for name in ("runs_directory", "event_logs_directory", "schedule_directory"):
        folder = _get(name)("/base")
        assert isinstance(folder, str) and folder.startswith("/base"), _say(name, f"it gives {folder!r}")
    timeout = _get("SQLITE_BUSY_TIMEOUT_SECONDS")
    assert isinstance(timeout, int | float) and timeout > 0, _say(
        "SQLITE_BUSY_TIMEOUT_SECONDS", repr(timeout)
    )


def test_configurable_class_data() -> None:
    data = _get("ConfigurableClassData")("omniva_resources.instance_storage", "OmnivaSqliteStorage", "{}")
    for field in ("module_name", "class_name", "config_yaml"):
        assert hasattr(data, field), _say("ConfigurableClassData", f"it has no {field}")


# ------------------------------------------------------------------ failures, executors
def test_step_failure_data() -> None:
    _params("StepFailureData", _get("StepFailureData"), "error", "user_failure_data")


def test_execution_step_and_retry_mode() -> None:
    step = _has("ExecutionStep", "_replace", "tags", "pool", "key")
    fields = getattr(step, "_fields", ())
    assert {"tags", "pool", "key"} <= set(fields), _say("ExecutionStep", f"its fields are {fields}")
    retry = _has("RetryMode", "from_config")
    assert retry.from_config({"enabled": {}}) is not None, _say(
        "RetryMode", "from_config refuses {'enabled': {}}"
    )


# ------------------------------------------------------------------ queue, in-process code location
def test_workspace_targets() -> None:
    module = _get("ModuleTarget")(
        module_name="omniva_assets.definitions",
        attribute=None,
        working_directory="/tmp",
        location_name="omniva",
    )
    assert module.module_name == "omniva_assets.definitions", _say("ModuleTarget", "module_name is not kept")
    assert _get("WorkspaceFileTarget")(paths=["/tmp/workspace.yaml"]).paths == ["/tmp/workspace.yaml"]
    _params("WorkspaceProcessContext", _get("WorkspaceProcessContext"), "instance", "workspace_load_target")


def test_job_subset_selector() -> None:
    selector = _get("JobSubsetSelector")(
        location_name="omniva", repository_name="__repository__", job_name="video_job", op_selection=None
    )
    assert selector.job_name == "video_job", _say("JobSubsetSelector", "job_name is not kept")


def test_in_process_code_location() -> None:
    origin = _get("LoadableTargetOrigin")(module_name="omniva_assets.definitions", working_directory="/tmp")
    assert origin.module_name == "omniva_assets.definitions", _say("LoadableTargetOrigin", "module_name")
    location_origin = _get("InProcessCodeLocationOrigin")(origin, location_name="omniva")
    assert location_origin.location_name == "omniva", _say("InProcessCodeLocationOrigin", "location_name")
    location = _has("InProcessCodeLocation", "get_repositories")
    _params("InProcessCodeLocation", location, "origin", "instance")
    _has("RemoteRepository", "get_sensor", "get_schedule")
    _has("RemoteSensor", "selector_id", "get_current_instigator_state", "get_remote_origin_id")
    _has("RemoteSchedule", "selector_id", "get_current_instigator_state", "get_remote_origin_id")


# ------------------------------------------------------------------ warm run starts
def test_launch_run_context_and_code_pointer() -> None:
    _params("LaunchRunContext", _get("LaunchRunContext"), "dagster_run", "workspace")
    pointer = _get("ModuleCodePointer")(
        module="omniva_assets.definitions", fn_name="defs", working_directory="/"
    )
    assert pointer.module == "omniva_assets.definitions", _say("ModuleCodePointer", "module is not kept")


def test_execute_run_command_body() -> None:
    _params(
        "execute_run_command_body",
        _get("execute_run_command_body"),
        "run_id",
        "instance",
        "write_stream_fn",
        "set_exit_code_on_failure",
    )


def test_capture_interrupts() -> None:
    capture = _get("capture_interrupts")
    with capture():
        pass
