"""Warehouse.df: DataFrames for analysts, and the named query that feeds Lattice's clip priority."""

from datetime import UTC, datetime

import pytest

from omniva.records import stable_id
from omniva_resources.warehouse import Warehouse


def _candidate(video_key, n, rank, consensus, topic):
    return {
        "candidate_id": stable_id("cand", video_key, n),
        "video_id": stable_id("video", video_key),
        "video_key": video_key,
        "start_time": 10.0 * n,
        "end_time": 10.0 * n + 8,
        "score": 0.5,
        "consensus": consensus,
        "selected_rank": rank,
        "features": {"goal_topic": topic} if topic else {},
    }


def _post(video_key, listed_on, posted_at):
    return {
        "post_id": stable_id("post", video_key, listed_on),
        "creator_id": stable_id("c", "alice"),
        "creator": "alice",
        "platform_post_id": video_key,
        "url": f"http://x/{video_key}",
        "posted_at": posted_at,
        "listed_on": listed_on,
        "video_key": video_key,
    }


@pytest.fixture
def warehouse(tmp_path):
    wh = Warehouse(tmp_path / "wh", tmp_path / "db.duckdb")
    wh.write_partition(
        "clip_candidates",
        "v",
        [
            _candidate("v", 0, 1, 0.9, "physics"),
            _candidate("v", 1, 2, 0.4, None),
            _candidate("v", 2, None, 0.2, None),
        ],
    )
    wh.write_partition("clip_candidates", "w", [_candidate("w", 0, 1, 0.7, "music")])
    wh.write_partition(
        "posts",
        "alice|2025-01-02",
        [_post("v", "2025-01-01", "2024-12-31T10:00:00Z"), _post("v", "2025-01-02", "2024-12-31T12:00:00Z")],
    )
    return wh


def test_df_returns_the_same_rows_as_query_for_sql_and_named_queries(warehouse):
    sql = "SELECT video_key, count(*) AS n FROM clip_candidates GROUP BY video_key ORDER BY video_key"
    frame = warehouse.df(sql)
    assert list(frame.columns) == ["video_key", "n"]
    assert frame.to_dict("records") == warehouse.query(sql)
    named = warehouse.df("clip_priority_inputs", [["1|v"]])
    assert named["clip_key"].tolist() == ["1|v"]
    with pytest.raises(KeyError, match="no named query 'nope'"):
        warehouse.df("nope")


def test_clip_priority_inputs_gives_consensus_topic_and_the_latest_listings_post_time(warehouse):
    rows = warehouse.query_file("clip_priority_inputs", [["2|v", "1|v", "1|w", "3|v", "9|nowhere"]])
    assert [(r["clip_key"], r["consensus"], r["topic"]) for r in rows] == [
        ("1|v", 0.9, "physics"),
        ("1|w", 0.7, "music"),
        ("2|v", 0.4, None),
    ]
    posted = {r["clip_key"]: r["posted_at"] for r in rows}
    assert posted["1|v"] == posted["2|v"] == datetime(2024, 12, 31, 12, tzinfo=UTC)
    assert posted["1|w"] is None  # no post recorded: Lattice treats the age as unknown
