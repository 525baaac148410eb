"""The embedded instance's SQLite storage with its fixed costs cut (``dagster.yaml``:
``instance_class: omniva_resources.instance_storage.OmnivaInstance``).

Dagster's own SQLite storage, the same files and the same schema, read and written by the same
code; two things differ, both measured in ``bench/step_cost.py`` and ``bench/e2e.py`` (#20):

- **One SQLAlchemy engine per database file, its connection kept** (at most ``ENGINES`` files
  open, the least recently used closed), where Dagster builds an engine for every statement,
  opens a connection, and closes both afterwards; closing the last connection to a WAL database
  checkpoints it and removes its WAL file, so a statement cost about 1.5 ms instead of 0.4 ms,
  and a run writes 100-200 events and reads its inputs' records. Every statement is still its
  own transaction (WAL: readers see each commit; other processes write as before); the kept
  connections are closed on ``wipe``/``dispose`` and never used across a fork.
- **A new run's event-log database is a copy of a template** made once per Dagster version with
  Dagster's own initialisation (its tables, WAL mode, the Alembic stamp), instead of creating the
  tables and stamping them again for every run (about 60-85 ms a run, and every run launched by
  the daemon is a process of its own). The copy is put in place atomically (hard link of a
  finished file); if the file already exists, Dagster's own initialisation checks it as before.

PostgreSQL (``deploy/dagster.yaml``, production) is untouched.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
import yaml
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool, QueuePool

from omniva_resources.dagster_internals import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    ConfigurableClassData,
    DagsterSqliteStorage,
    InstanceRef,
    SqliteEventLogStorage,
    SqliteRunStorage,
    SqliteScheduleStorage,
    event_logs_directory,
    runs_directory,
    schedule_directory,
)

ENGINES = 32
TEMPLATE_DIR = ".omniva-template"
SQLITE_HEADER = b"SQLite format 3\x00"


class _Engines:
    """SQLAlchemy engines by connection string, the least recently used dropped past ``size``."""

    def __init__(self, size: int = ENGINES):
        self.size = size
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._inherited: list[Engine] = []

    def get(self, conn_string: str, **kwargs: object) -> Engine:
        with self._lock:
            if os.getpid() != self._pid:
                # A forked child: its parent's connections are left alone (SQLite forbids using
                # them across a fork, and closing them here could checkpoint under the parent).
                self._inherited += self._engines.values()
                self._engines = OrderedDict()
                self._pid = os.getpid()
            engine = self._engines.get(conn_string)
            if engine is None:
                engine = _engine(conn_string, **kwargs)
                self._engines[conn_string] = engine
                while len(self._engines) > self.size:
                    self._engines.popitem(last=False)[1].dispose()
            else:
                self._engines.move_to_end(conn_string)
            return engine

    def drop(self) -> None:
        with self._lock:
            if os.getpid() == self._pid:
                for engine in self._engines.values():
                    engine.dispose()
            self._engines.clear()


def _engine(conn_string: str, **kwargs: Any) -> Engine:
    """A file database's engine keeping one idle connection (more while threads overlap)."""
    return create_engine(conn_string, poolclass=QueuePool, pool_size=1, max_overflow=8, **kwargs)


class OmnivaSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's run-sharded SQLite event log: engines kept, new run shards copied from a template."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines = _Engines()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, str]
    ) -> OmnivaSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engines.get(
                self.conn_string_for_shard(shard), connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
            )
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        engine = self._engines.get(
            self.conn_string_for_shard(INDEX_SHARD_NAME),
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
        )
        with engine.connect() as conn:
            return bool(engine.dialect.has_table(conn, table_name))

    def _initdb(self, engine: Engine, for_index_shard: bool = False) -> None:
        path = engine.url.database
        if for_index_shard or not path or os.path.exists(path) or not self._place_from_template(path):
            super()._initdb(engine, for_index_shard=for_index_shard)

    def template_path(self) -> str:
        return os.path.join(self._base_dir, TEMPLATE_DIR, f"run-shard-dagster-{dg.__version__}.sqlite")

    def _template(self) -> str | None:
        """The initialised, empty run-shard database for this Dagster version, made once."""
        path = self.template_path()
        if _is_sqlite_file(path):
            return path
        os.makedirs(os.path.dirname(path), exist_ok=True)
        scratch = f"{path}.{uuid.uuid4().hex}.tmp"
        engine = create_engine(f"sqlite:///{scratch}", poolclass=NullPool)
        try:
            super()._initdb(engine)
        finally:
            engine.dispose()
        for leftover in (f"{scratch}-wal", f"{scratch}-shm"):
            if os.path.exists(leftover):  # every connection closed: SQLite has checkpointed
                os.unlink(scratch)
                return None
        os.replace(scratch, path)
        return path

    def _place_from_template(self, path: str) -> bool:
        """Copy the template to ``path`` if nothing is there yet; False to initialise it as Dagster does."""
        try:
            template = self._template()
        except OSError:
            return False
        if template is None:
            return False
        scratch = f"{path}.{uuid.uuid4().hex}.tmp"
        try:
            shutil.copyfile(template, scratch)
            os.link(scratch, path)  # atomic, and refuses a file another process put there first
        except OSError:
            return False
        finally:
            if os.path.exists(scratch):
                os.unlink(scratch)
        return True

    def wipe(self) -> None:
        self._engines.drop()  # the run files are deleted: close what is open on them first
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._engines.drop()


class OmnivaSqliteRunStorage(SqliteRunStorage):
    """Dagster's SQLite run storage, its engine and connection kept."""

    _engines: _Engines | None = None

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, str]
    ) -> OmnivaSqliteRunStorage:
        return cls.from_local(inst_data=inst_data, **config_value)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        if self._engines is None:
            self._engines = _Engines(size=1)
        with self._engines.get(self._conn_string).connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        super().dispose()
        if self._engines is not None:
            self._engines.drop()


class OmnivaSqliteStorage(DagsterSqliteStorage):
    """Dagster's unified SQLite storage with the two subclasses above (same folders, same files)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self.base_dir = base_dir
        self._run_storage = OmnivaSqliteRunStorage.from_local(runs_directory(base_dir))
        self._event_log_storage = OmnivaSqliteEventLogStorage(event_logs_directory(base_dir))
        self._schedule_storage = SqliteScheduleStorage.from_local(schedule_directory(base_dir))
        self._inst_data = inst_data
        super(DagsterSqliteStorage, self).__init__()

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData, config_value: dict[str, str]
    ) -> OmnivaSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)


class OmnivaInstance(dg.DagsterInstance):
    """The embedded instance (``dagster.yaml``: ``instance_class``): Dagster's instance whose
    default storage, when ``dagster.yaml`` names none, is ``OmnivaSqliteStorage`` in the
    instance's own folder (wherever it is opened from: ``DAGSTER_HOME`` or a path), where
    Dagster's default is ``DagsterSqliteStorage`` there. A configured storage (PostgreSQL) is
    used as configured."""

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, ConfigurableClassData | None]:
        defaults = dict(InstanceRef.config_defaults(base_dir))
        module = __name__

        def data(cls: str, folder: str) -> ConfigurableClassData:
            return ConfigurableClassData(
                module, cls, yaml.dump({"base_dir": folder}, default_flow_style=False)
            )

        defaults["storage"] = data("OmnivaSqliteStorage", base_dir)
        defaults["run_storage"] = data("OmnivaSqliteRunStorage", runs_directory(base_dir))
        defaults["event_log_storage"] = data("OmnivaSqliteEventLogStorage", event_logs_directory(base_dir))
        return defaults

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        return {}


def _is_sqlite_file(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False
