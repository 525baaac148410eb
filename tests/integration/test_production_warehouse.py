"""The warehouse under concurrency (docs/deployment.md): several processes writing partitions, one
refreshing the DuckDB views and one reading, all at once, as runs on several workers do."""

import multiprocessing as mp
import time
import traceback
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import duckdb
import pytest

from omniva_resources.warehouse import Warehouse

pytestmark = pytest.mark.slow

WRITERS = 4
PARTITIONS_PER_WRITER = 40
OVERLAP = 20  # each writer's first 20 partitions are also the previous writer's last 20
ROWS_PER_PARTITION = 3
REWRITES = 2


def _rows(key: str) -> list[dict]:
    return [
        {
            "log_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{key}#{i}")),
            "source": key,
            "level": "INFO",
            "message": f"row {i} of {key}",
            "metadata": {"i": i},
            "created_at": "2025-07-01T00:00:00Z",
        }
        for i in range(ROWS_PER_PARTITION)
    ]


def _keys(writer: int) -> list[str]:
    start = writer * (PARTITIONS_PER_WRITER - OVERLAP)
    return [f"run-{n:04d}" for n in range(start, start + PARTITIONS_PER_WRITER)]


def _writer(root: str, db: str, writer: int) -> int:
    wh = Warehouse(Path(root), Path(db))
    for _ in range(REWRITES):
        for key in _keys(writer):
            wh.write_partition("logs", key, _rows(key))
    return len(_keys(writer)) * REWRITES


def _refresher(root: str, db: str, stop_file: str) -> int:
    wh = Warehouse(Path(root), Path(db))
    n = 0
    while not Path(stop_file).exists() or n < 3:
        wh.refresh_views()
        n += 1
    return n


def _reader(root: str, db: str, stop_file: str) -> list[str]:
    """Query while the others write: every answer is consistent (no row twice, whole partitions)."""
    wh = Warehouse(Path(root), Path(db))
    problems = []
    n = 0
    while not Path(stop_file).exists() or n < 3:
        n += 1
        try:
            r = wh.query(
                "SELECT count(*) AS n, count(DISTINCT log_id) AS d, count(DISTINCT source) AS p FROM logs"
            )[0]
        except Exception:  # noqa: BLE001 - reported to the test
            problems.append(traceback.format_exc(limit=1))
            continue
        if r["n"] != r["d"] or r["n"] != r["p"] * ROWS_PER_PARTITION:
            problems.append(f"inconsistent read {r}")
    return problems


def _analyst(db: str, stop_file: str) -> list[str]:
    """Open the DuckDB file read-only the way the README tells analysts to."""
    problems = []
    n = 0
    while not Path(stop_file).exists() or n < 3:
        n += 1
        try:
            con = duckdb.connect(db, read_only=True)
            con.execute("SELECT count(*) FROM logs").fetchone()
            con.close()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            problems.append(str(exc).splitlines()[0])
        time.sleep(0.01)
    return problems


def _run_all(tmp_path: Path, with_analyst: bool, writers: int = WRITERS) -> dict:
    root, db, stop = tmp_path / "wh", tmp_path / "omniva.duckdb", tmp_path / "stop"
    Warehouse(root, db).refresh_views()
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(max_workers=writers + 3, mp_context=ctx) as pool:
        refresher = pool.submit(_refresher, str(root), str(db), str(stop))
        reader = pool.submit(_reader, str(root), str(db), str(stop))
        analyst = pool.submit(_analyst, str(db), str(stop)) if with_analyst else None
        jobs = [pool.submit(_writer, str(root), str(db), w) for w in range(writers)]
        written = sum(f.result(timeout=180) for f in jobs)
        stop.touch()
        out = {
            "written": written,
            "refreshes": refresher.result(timeout=60),
            "reader_problems": reader.result(timeout=60),
            "analyst_problems": analyst.result(timeout=60) if analyst else [],
        }
    out["wh"] = Warehouse(root, db)
    out["root"] = root
    out["db"] = db
    return out


def test_concurrent_writers_refresh_and_reader_lose_and_duplicate_nothing(tmp_path):
    result = _run_all(tmp_path, with_analyst=False)
    expected_partitions = {k for w in range(WRITERS) for k in _keys(w)}
    assert result["written"] == WRITERS * PARTITIONS_PER_WRITER * REWRITES
    assert result["refreshes"] >= 3
    assert result["reader_problems"] == []
    wh = result["wh"]
    got = wh.query("SELECT count(*) AS n, count(DISTINCT log_id) AS d FROM logs")[0]
    assert got["n"] == got["d"] == len(expected_partitions) * ROWS_PER_PARTITION
    assert {r["source"] for r in wh.query("SELECT DISTINCT source FROM logs")} == expected_partitions
    assert not list(result["root"].rglob("*.partial"))  # no half-written file left behind
    con = duckdb.connect(str(result["db"]), read_only=True)  # the views see the same
    assert con.execute("SELECT count(*) FROM logs").fetchone()[0] == got["n"]


def test_analyst_connections_never_meet_a_lock_during_refresh(tmp_path):
    result = _run_all(tmp_path, with_analyst=True, writers=1)
    assert result["analyst_problems"] == [], sorted(set(result["analyst_problems"]))[:3]
