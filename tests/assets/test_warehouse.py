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


def _video_and_transcript(wh, creator, key, language, probability):
    wh.write_partition(
        "videos",
        key,
        [
            {
                "video_id": stable_id("v", key),
                "post_id": stable_id("p", key),
                "video_key": key,
                "creator": creator,
                "source_url": "http://x",
                "file_path": "/x.mp4",
                "checksum": key,
                "created_at": "2025-01-01T00:00:00Z",
            }
        ],
    )
    wh.write_partition(
        "transcripts",
        key,
        [
            {
                "video_id": stable_id("v", key),
                "video_key": key,
                "language": language,
                "language_probability": probability,
                "model": "m",
                "word_timing": "w",
                "text": "t",
                "word_count": 1,
                "words": [],
                "created_at": "2025-01-01T00:00:00Z",
            }
        ],
    )


def test_a_creators_usual_language_counts_only_its_other_confident_videos(tmp_path):
    from omniva_resources import asr

    wh = Warehouse(tmp_path / "wh", tmp_path / "db.duckdb")
    for i in range(3):
        _video_and_transcript(wh, "ana", f"ana-{i}", "en", 0.97)
    _video_and_transcript(wh, "ana", "ana-unsure", "nl", 0.55)  # not confident: does not count
    _video_and_transcript(wh, "ana", "ana-pinned", "de", None)  # pinned: no probability, does not count
    _video_and_transcript(wh, "bo", "bo-0", "fr", 0.99)  # another creator

    def usual(creator, key):
        rows = wh.query_file("creator_languages", [creator, key])
        return asr.usual_language_of([(r["language"], int(r["videos"])) for r in rows])

    assert usual("ana", "ana-new") == "en"
    assert usual("ana", "ana-0") is None  # its own transcript is not history: two are too few
    assert usual("bo", "bo-1") is None  # one video is no habit
    assert usual("cy", "cy-0") is None  # a new creator


def test_usual_language_needs_enough_videos_that_agree():
    from omniva_resources import asr

    assert asr.usual_language_of([]) is None
    assert asr.usual_language_of([("en", 3)]) == "en"
    assert asr.usual_language_of([("en", 2)]) is None
    assert asr.usual_language_of([("en", 8), ("es", 2)]) == "en"  # 80% in one language
    assert asr.usual_language_of([("en", 5), ("es", 4)]) is None  # a bilingual creator: no habit
