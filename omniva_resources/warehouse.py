"""The one place that opens DuckDB.

Writes: each asset partition replaces its own Parquet file per table. Rows are typed
by the DDL in ``sql/schema.sql`` (an in-memory DuckDB validates and converts them),
then written to a temporary file and renamed, so a reader never sees half a file
and two runs writing different partitions never contend.

Reads: ``omniva.duckdb`` holds views over those files (``refresh_views``), created
by one process at a time under a file lock, since DuckDB allows one writer. Code reads
through named queries, ``sql/queries/<name>.sql`` with bound parameters (``query_file``);
the only SQL built here is the DDL and the views generated from ``sql/schema*.sql``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow.parquet as pq

from omniva.errors import StorageFullError

if TYPE_CHECKING:
    import pandas as pd

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
QUERIES_DIR = SQL_DIR / "queries"


@cache
def table_ddl() -> dict[str, str]:
    text = "\n".join(p.read_text() for p in sorted(SQL_DIR.glob("schema*.sql")))
    text = re.sub(r"--[^\n]*", "", text)
    out = {}
    for stmt in text.split(";"):
        m = re.search(r"CREATE TABLE (\w+)", stmt)
        if m:
            out[m.group(1)] = stmt.strip()
    return out


def table_schema(table: str) -> tuple[tuple[str, str], ...]:
    """(column, DuckDB type) of ``table`` as sql/schema.sql declares it."""
    return schemas()[table]


@cache
def schemas() -> dict[str, tuple[tuple[str, str], ...]]:
    """Every table's columns in order, read once from one catalog (one connection and one query,
    where a connection and a DESCRIBE per table cost about 15 ms each on a process's first
    writes). The connection is closed again: nothing of DuckDB's stays open in a process that
    only asked for the schema (the daemon's warm run starter forks after asking)."""
    out: dict[str, list[tuple[str, str]]] = {table: [] for table in table_ddl()}
    con = duckdb.connect()
    try:
        for ddl in table_ddl().values():
            con.execute(ddl)
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE schema_name = 'main' ORDER BY table_name, column_index"
        ).fetchall()
    finally:
        con.close()
    for table, column, kind in rows:
        if table in out:
            out[table].append((column, kind))
    return {table: tuple(columns) for table, columns in out.items()}


def table_columns(table: str) -> tuple[str, ...]:
    return tuple(name for name, _ in table_schema(table))


# Rows per INSERT: one statement with many rows costs about a tenth of executemany's row-by-row
# binding (200 rows: 10 ms against 105 ms here).
_ROWS_PER_INSERT = 500


@lru_cache(maxsize=64)  # a few row counts recur (one row: every packet); the rest are one-offs
def _insert_sql(table: str, rows: int) -> str:
    """``INSERT INTO table VALUES (...), ...`` for ``rows`` rows, each parameter cast to its
    column's type (as executemany binds them), so the rows never have to agree on a type."""
    one = "(" + ", ".join(f"CAST(? AS {kind})" for _, kind in table_schema(table)) + ")"
    return f"INSERT INTO {table} VALUES " + ", ".join([one] * rows)  # table and types from schema.sql


@cache
def named_query(name: str) -> str:
    """The text of ``sql/queries/<name>.sql``."""
    path = QUERIES_DIR / f"{name}.sql"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in QUERIES_DIR.glob("*.sql")))
        raise KeyError(f"no named query {name!r} in {QUERIES_DIR} (known: {known})")
    return path.read_text()


def partition_file_name(partition_key: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", partition_key)[:80]
    return f"{safe}-{hashlib.sha1(partition_key.encode()).hexdigest()[:8]}.parquet"


def _jsonable(value):
    if isinstance(value, dict | list) and not (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    ):
        return json.dumps(value, default=str, sort_keys=True)
    if isinstance(value, tuple):
        return list(value)
    return value


class Warehouse:
    def __init__(self, root: Path, duckdb_path: Path):
        self.root = Path(root)
        self.duckdb_path = Path(duckdb_path)

    def table_dir(self, table: str) -> Path:
        return self.root / table

    def write_partition(self, table: str, partition_key: str, rows: Sequence[dict]) -> Path:
        """Replace this partition's rows of ``table`` (no rows: remove the file)."""
        if table not in table_ddl():
            raise KeyError(f"unknown warehouse table {table!r}")
        path = self.table_dir(table) / partition_file_name(partition_key)
        if not rows:
            path.unlink(missing_ok=True)
            return path
        columns = table_columns(table)
        unknown = set().union(*(r.keys() for r in rows)) - set(columns)
        if unknown:
            raise KeyError(f"{table}: unknown columns {sorted(unknown)}")
        con = _writer()
        values = [[_jsonable(r.get(c)) for c in columns] for r in rows]
        try:
            for i in range(0, len(values), _ROWS_PER_INSERT):
                batch = values[i : i + _ROWS_PER_INSERT]
                con.execute(_insert_sql(table, len(batch)), [v for row in batch for v in row])
            arrow = con.sql(f"SELECT * FROM {table}").to_arrow_table()
        finally:
            con.execute(f"DELETE FROM {table}")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            pq.write_table(arrow, tmp)
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            if exc.errno == 28:
                raise StorageFullError(
                    f"disk full writing {table} for {partition_key} under {self.root}; free space and rerun"
                ) from exc
            raise
        return path

    def _reader(self) -> duckdb.DuckDBPyConnection:
        """In-memory connection with one view per table over the Parquet files.

        Creating the views costs ~70 ms, so each thread keeps its connection per warehouse and
        makes it again only when a table gains its first file or loses its last (a view over a
        glob sees files added later by itself)."""
        key = (str(self.root), os.getpid(), threading.get_ident())
        filled = self._tables_with_files()
        cached = _READERS.get(key)
        if cached is not None and cached[0] == filled:
            return cached[1]
        con = duckdb.connect()
        _create_views(con, self.root)
        _READERS[key] = (filled, con)
        if cached is not None:
            cached[1].close()
        return con

    def _tables_with_files(self) -> frozenset[str]:
        out = set()
        for table in table_ddl():
            try:
                with os.scandir(self.root / table) as entries:
                    if any(e.name.endswith(".parquet") for e in entries):
                        out.add(table)
            except FileNotFoundError:
                continue
        return frozenset(out)

    def query(self, sql: str, params: Sequence = ()) -> list[dict]:
        con = self._reader()
        cur = con.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def query_file(self, name: str, params: Sequence = ()) -> list[dict]:
        """Rows of the named query ``sql/queries/<name>.sql``, with ``params`` bound in order."""
        return self.query(named_query(name), params)

    def df(self, sql_or_query_name: str, params: Sequence = ()) -> pd.DataFrame:
        """The rows as a pandas DataFrame, built by DuckDB column by column (analysts' helper;
        pandas is imported by DuckDB on first use). A bare name runs ``sql/queries/<name>.sql``;
        anything else is SQL, with ``params`` bound in order either way."""
        sql = named_query(sql_or_query_name) if re.fullmatch(r"\w+", sql_or_query_name) else sql_or_query_name
        return self._reader().execute(sql, list(params)).df()

    def refresh_views(self) -> Path:
        """(Re)create the analyst database: views over every table and the derived views."""
        self.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(self.duckdb_path.with_suffix(".lock")):
            # Build the new database beside the old one and swap it in: an analyst holding
            # the old file open (DuckDB locks it) neither blocks nor breaks the refresh.
            tmp = self.duckdb_path.with_name(f".{self.duckdb_path.name}.{os.getpid()}.partial")
            tmp.unlink(missing_ok=True)
            con = duckdb.connect(str(tmp))
            try:
                _create_views(con, self.root)
            finally:
                con.close()
            os.replace(tmp, self.duckdb_path)
        return self.duckdb_path


# thread id -> an in-memory connection holding one empty table per warehouse table, where
# rows are typed by the schema before they become Parquet (a new connection costs ~10 ms).
_WRITERS: dict[tuple[int, int], duckdb.DuckDBPyConnection] = {}


def _writer() -> duckdb.DuckDBPyConnection:
    key = (os.getpid(), threading.get_ident())  # never a connection inherited through fork
    con = _WRITERS.get(key)
    if con is None:
        con = duckdb.connect()
        for ddl in table_ddl().values():
            con.execute(ddl)
        _WRITERS[key] = con
    return con


# (warehouse root, process, thread) -> (tables that had files, the reader connection)
_READERS: dict[tuple[str, int, int], tuple[frozenset[str], duckdb.DuckDBPyConnection]] = {}


def _create_views(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS ddl")
    for table, ddl in table_ddl().items():
        con.execute(ddl.replace(f"CREATE TABLE {table}", f"CREATE OR REPLACE TABLE ddl.{table}", 1))
        files = sorted((root / table).glob("*.parquet"))
        if files:
            # DDL takes no bound parameters; the glob is our own folder, quoted.
            glob = str(root / table / "*.parquet").replace("'", "''")
            con.execute(
                f"CREATE OR REPLACE VIEW main.{table} AS "
                f"SELECT * FROM read_parquet('{glob}', union_by_name = true)"
            )
        else:
            con.execute(f"CREATE OR REPLACE VIEW main.{table} AS SELECT * FROM ddl.{table}")
    for stmt in _statements((SQL_DIR / "views.sql").read_text()):
        con.execute(stmt)


def _statements(text: str) -> Iterable[str]:
    text = re.sub(r"--[^\n]*", "", text)
    return [s.strip() for s in text.split(";") if s.strip()]


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) between processes."""
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
