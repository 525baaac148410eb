"""The embedded instance's storage (omniva_resources/instance_storage.py, the repo's dagster.yaml):
Dagster's SQLite files and schema, engines and connections kept, new run shards from a template."""

import os
import shutil
import sqlite3
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from omniva.settings import REPO_ROOT
from omniva_resources import instance_storage
from omniva_resources.instance_storage import (
    OmnivaInstance,
    OmnivaSqliteEventLogStorage,
    OmnivaSqliteRunStorage,
)


@dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a", "b"]))
def numbers(context: dg.AssetExecutionContext) -> list[int]:
    return [1, 2, 3] if context.partition_key == "a" else [4]


@dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a", "b"]))
def total(context: dg.AssetExecutionContext, numbers: list[int]) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"total": sum(numbers)})


JOB = dg.define_asset_job("numbers_job", [numbers, total])
DEFS = dg.Definitions(assets=[numbers, total], jobs=[JOB])


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A DAGSTER_HOME seeded with the repo's dagster.yaml, as ``ensure_dagster_home`` does."""
    home = tmp_path / "dagster"
    home.mkdir()
    shutil.copyfile(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def _schema(path: Path) -> tuple[list[tuple[str, str]], list[tuple[str]], str]:
    con = sqlite3.connect(path)
    try:
        tables = con.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
        revision = con.execute("SELECT version_num FROM alembic_version").fetchall()
        mode = con.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        con.close()
    return tables, revision, mode


def test_runs_on_the_repo_instance_read_back_like_dagsters(home: Path) -> None:
    instance = dg.DagsterInstance.get()
    assert isinstance(instance, OmnivaInstance)
    storage = instance.event_log_storage
    assert isinstance(storage, OmnivaSqliteEventLogStorage)
    assert isinstance(instance.run_storage, OmnivaSqliteRunStorage)
    results = [
        DEFS.resolve_job_def("numbers_job").execute_in_process(instance=instance, partition_key=key)
        for key in ("a", "b")
    ]
    assert all(r.success for r in results)

    # The same files where Dagster keeps them; every run's events there and in the index.
    runs_dir = home / "history" / "runs"
    for result in results:
        assert (runs_dir / f"{result.run_id}.db").exists()
        kinds = [
            e.dagster_event.event_type_value for e in instance.all_logs(result.run_id) if e.dagster_event
        ]
        assert (
            kinds.count("ASSET_MATERIALIZATION") == 2 and kinds[-1] == "PIPELINE_SUCCESS"
        )  # RUN_SUCCESS by its stored name
    assert instance.get_materialized_partitions(dg.AssetKey("total")) == {"a", "b"}
    latest = instance.get_latest_materialization_event(dg.AssetKey("total"))
    assert latest is not None and latest.asset_materialization is not None
    assert latest.asset_materialization.metadata["total"].value in (6, 4)

    # Dagster's own storage reads the files the same (a stock process beside Omniva's).
    stock = SqliteEventLogStorage(str(runs_dir))
    assert [e.message for e in stock.get_logs_for_run(results[0].run_id)] == [
        e.message for e in instance.all_logs(results[0].run_id)
    ]
    instance.dispose()


def test_an_instance_opened_from_its_folder_uses_that_folder(home: Path, tmp_path: Path, monkeypatch) -> None:
    instance = dg.DagsterInstance.get()
    run_id = (
        DEFS.resolve_job_def("numbers_job").execute_in_process(instance=instance, partition_key="a").run_id
    )
    instance.dispose()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(elsewhere))  # another instance's home in the environment
    opened = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    assert isinstance(opened, OmnivaInstance) and isinstance(opened.run_storage, OmnivaSqliteRunStorage)
    run = opened.get_run_by_id(run_id)
    assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
    assert not list(elsewhere.iterdir())
    # Each storage Dagster may rehydrate on its own from the reference is Omniva's, in that folder.
    ref = opened.get_ref()
    for data in (ref.storage_data, ref.run_storage_data, ref.event_storage_data):
        storage = data.rehydrate(object)
        assert type(storage).__module__ == "omniva_resources.instance_storage", storage
        assert str(home) in yaml.safe_load(data.config_yaml)["base_dir"]
    opened.dispose()


def test_a_run_shard_from_the_template_is_the_one_dagster_makes(tmp_path: Path) -> None:
    ours = OmnivaSqliteEventLogStorage(str(tmp_path / "ours"))
    with ours.run_connection("run-1"):
        pass
    assert Path(ours.template_path()).exists()
    stock = SqliteEventLogStorage(str(tmp_path / "stock"))
    with stock.run_connection("run-1"):
        pass
    copied, made = _schema(tmp_path / "ours" / "run-1.db"), _schema(tmp_path / "stock" / "run-1.db")
    assert copied == made
    assert copied[2] == "wal" and copied[1]  # WAL mode and an Alembic stamp
    # Nothing half-written is left beside the run files, and no scratch file counts as a run.
    assert sorted(p.name for p in (tmp_path / "ours").glob("*.tmp")) == []
    assert ours.get_all_run_ids() == ["run-1"]
    ours.dispose()
    stock.dispose()


def test_a_shard_another_process_made_first_is_checked_as_dagster_does(tmp_path: Path) -> None:
    first = SqliteEventLogStorage(str(tmp_path))
    with first.run_connection("run-2"):
        pass
    ours = OmnivaSqliteEventLogStorage(str(tmp_path))
    assert ours._place_from_template(str(tmp_path / "run-2.db")) is False  # refuses to overwrite
    with ours.run_connection("run-2") as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM event_logs").scalar() == 0
    assert not list(tmp_path.glob("*.tmp"))
    first.dispose()
    ours.dispose()


def test_a_broken_template_is_made_again(tmp_path: Path) -> None:
    ours = OmnivaSqliteEventLogStorage(str(tmp_path))
    template = Path(ours.template_path())
    template.parent.mkdir(parents=True, exist_ok=True)
    template.write_bytes(b"not a database")
    with ours.run_connection("run-3") as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM event_logs").scalar() == 0
    assert template.read_bytes().startswith(instance_storage.SQLITE_HEADER)
    ours.dispose()


def test_wipe_closes_what_it_deletes_and_runs_go_on(home: Path) -> None:
    instance = dg.DagsterInstance.get()
    job = DEFS.resolve_job_def("numbers_job")
    assert job.execute_in_process(instance=instance, partition_key="a").success
    instance.wipe()
    assert not list((home / "history" / "runs").glob("*-*.db"))
    again = job.execute_in_process(instance=instance, partition_key="b")
    assert again.success
    assert instance.get_materialized_partitions(dg.AssetKey("total")) == {"b"}
    instance.dispose()


def test_engines_are_bounded_and_never_shared_across_a_fork(tmp_path: Path) -> None:
    engines = instance_storage._Engines(size=2)
    urls = [f"sqlite:///{tmp_path / f'{i}.db'}" for i in range(3)]
    first = engines.get(urls[0])
    assert engines.get(urls[0]) is first
    engines.get(urls[1])
    engines.get(urls[2])
    assert engines.get(urls[0]) is not first  # the least recently used was closed
    kept = engines.get(urls[0])
    engines._pid = os.getpid() + 1  # as a forked child sees it
    assert engines.get(urls[0]) is not kept
    assert kept in engines._inherited
