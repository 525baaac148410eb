"""Warehouse: idempotent partition writes, views that work before any data."""

import duckdb

from omniva.records import stable_id
from omniva_resources.warehouse import Warehouse


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
    import pytest

    wh = Warehouse(tmp_path / "wh", tmp_path / "db.duckdb")
    with pytest.raises(KeyError, match="nope"):
        wh.write_partition("creators", "a", [_row("a") | {"nope": 1}])
