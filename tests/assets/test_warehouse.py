"""Warehouse: idempotent partition writes, views that work before any data, named queries."""

import duckdb
import pytest

from omniva.records import stable_id
from omniva_resources.warehouse import QUERIES_DIR, Warehouse


def _row(name):
    return {
        "creator_id": stable_id("c", name),
        "platform": "other",
        "username": name,
        "profile_url": "http://x",
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
    }


def test_partition_rewrite_is_idempotent(tmp_path):
    wh = Warehouse(tmp_path / "wh", tmp_path / "db.duckdb")
    for _ in range(3):
        wh.write_partition("creators", "a", [_row("a")])
    wh.write_partition("creators", "b", [_row("b")])
    assert wh.query("SELECT count(*) n FROM creators")[0]["n"] == 2
    wh.write_partition("creators", "b", [])
    assert [r["username"] for r in wh.query("SELECT username FROM creators")] == ["a"]


def test_views_exist_before_data_and_refresh_twice(tmp_path):
    wh = Warehouse(tmp_path / "wh", tmp_path / "db.duckdb")
    wh.refresh_views()
    wh.write_partition("creators", "a", [_row("a")])
    wh.refresh_views()
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM clip_lineage").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM creators").fetchone() == (1,)


def test_unknown_columns_are_refused(tmp_path):
    wh = Warehouse(tmp_path / "wh", tmp_path / "db.duckdb")
    with pytest.raises(KeyError, match="nope"):
        wh.write_partition("creators", "a", [_row("a") | {"nope": 1}])


@pytest.mark.parametrize("name", sorted(p.stem for p in QUERIES_DIR.glob("*.sql")))
def test_every_named_query_binds_to_the_schema(tmp_path, name):
    """Each ``sql/queries`` file names only tables and columns the schema has (checked by
    preparing it against the empty views, so no parameter values are needed)."""
    wh = Warehouse(tmp_path / "wh", tmp_path / "db.duckdb")
    con = duckdb.connect(str(wh.refresh_views()), read_only=True)
    con.execute(f"PREPARE q AS {(QUERIES_DIR / f'{name}.sql').read_text()}")


def test_named_queries_bind_parameters_and_unknown_names_are_refused(tmp_path):
    wh = Warehouse(tmp_path / "wh", tmp_path / "db.duckdb")
    wh.write_partition("creators", "a", [_row("a")])
    assert wh.query_file("quarantined_partitions") == []
    assert wh.query_file("summary_videos", [["v1"]]) == [
        {"video_key": "v1", "title": None, "duration_seconds": None, "clips": 0}
    ]
    with pytest.raises(KeyError, match="no named query 'nope'"):
        wh.query_file("nope")
