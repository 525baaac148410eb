"""The whole pipeline on the bundled sample creator, through Dagster, twice.

Real yt-dlp against the loopback creator site, real whisperx, spaCy and ffmpeg, the
real google-api-python-client against the loopback YouTube emulator.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from omniva_resources import media
from tests.conftest import run_demo as _demo

pytestmark = pytest.mark.slow


def _db(demo):
    return duckdb.connect(str(demo["home"] / "omniva.duckdb"), read_only=True)


def _rows(con, sql):
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def test_summary_lists_videos_clips_and_scheduled_uploads(demo):
    out = demo["first"].stdout
    assert "VIDEOS" in out and "CLIPS" in out and "SCHEDULED" in out
    assert "warehouse:" in out and "renders:" in out


def test_renders_meet_the_shorts_spec(demo):
    con = _db(demo)
    renders = _rows(con, "SELECT * FROM renders")
    assert len(renders) >= 2
    for r in renders:
        f = media.probe(Path(r["file_path"]))
        assert (f.width, f.height) == (1080, 1920)
        assert (f.video_codec, f.audio_codec) == ("h264", "aac")
        assert 5.0 <= f.duration_s <= 120.0
        assert f.size_bytes <= 60 * 1024 * 1024
        loud = media.measure_loudness(Path(r["file_path"]))
        assert abs(loud.integrated_lufs - (-14.0)) <= 1.0, (r["file_path"], loud)
        assert media.sha256_file(Path(r["file_path"])) == r["checksum"]


def test_at_least_two_clips_come_from_one_real_speech_video(demo):
    con = _db(demo)
    most = con.execute("SELECT max(n) FROM (SELECT count(*) n FROM clips GROUP BY video_key)").fetchone()[0]
    assert most >= 2


def test_every_upload_traces_back_to_its_source_url_and_checksum(demo):
    con = _db(demo)
    uploads = _rows(con, "SELECT * FROM upload_jobs")
    lineage = {r["clip_id"]: r for r in _rows(con, "SELECT * FROM upload_sources")}
    assert uploads
    for u in uploads:
        row = lineage[u["clip_id"]]
        assert row["source_url"].startswith("http://127.0.0.1:")
        assert row["yt_video_id"] == u["yt_video_id"] and len(u["yt_video_id"]) == 11
        assert media.sha256_file(Path(row["source_path"])) == row["source_checksum"]
        assert row["creator"] == "sample"
        assert u["scheduled_time"] is not None and u["privacy_status"] == "private"
    # The publish plan keeps the daily quota and uses every slot once.
    slots = con.execute("SELECT final_scheduled_time, count(*) FROM schedules GROUP BY 1").fetchall()
    assert all(n == 1 for _, n in slots)
    per_day = con.execute(
        "SELECT max(n) FROM (SELECT count(*) n FROM schedules GROUP BY CAST(final_scheduled_time AS DATE))"
    ).fetchone()[0]
    assert per_day <= 5


def test_clip_lineage_is_a_complete_chain_with_matching_checksums(demo):
    """``clip_lineage`` walks Dagster's own event log (mirrored): each materialization names the
    exact parent materializations (storage ids) it was made from, back to the creator."""
    con = _db(demo)
    uploads = _rows(con, "SELECT clip_id FROM upload_jobs")
    steps = [
        "upload",
        "render",
        "copy",
        "plan",
        "clip",
        "selection",
        "candidates",
        "analysis",
        "transcript",
        "video",
        "post",
        "creator",
    ]
    for u in uploads:
        chain = _rows(con, f"SELECT * FROM clip_lineage WHERE clip_id = '{u['clip_id']}' ORDER BY step_order")
        assert [r["step"] for r in chain] == steps
        by_step = {r["step"]: r for r in chain}
        for step in ("render", "video"):
            assert media.sha256_file(Path(by_step[step]["location"])) == by_step[step]["checksum"], step
        assert by_step["post"]["location"].startswith("http://127.0.0.1:")
        # Each step is a real materialization event of a real run, with its Stardust packet.
        assert all(r["run_id"] and r["storage_id"] and r["stardust_id"] and r["packet"] for r in chain)
        video = by_step["video"]["partition_key"]
        assert by_step["clip"]["partition_key"].endswith(f"|{video}")
        assert by_step["transcript"]["partition_key"] == video
        creator, _, day = by_step["post"]["partition_key"].partition("|")
        assert by_step["creator"]["partition_key"] == creator == "sample" and len(day) == 10


def test_dagster_lineage_agrees_with_the_warehouse_joins_for_every_clip(demo):
    con = _db(demo)
    clips = _rows(con, "SELECT CAST(clip_id AS VARCHAR) AS clip_id FROM upload_jobs")
    assert clips
    for c in clips:
        q = "SELECT * FROM {} WHERE CAST(clip_id AS VARCHAR) = '{}' ORDER BY step_order"
        dagster = {r["step"]: r for r in _rows(con, q.format("clip_lineage", c["clip_id"]))}
        joins = {r["step"]: r for r in _rows(con, q.format("clip_lineage_joins", c["clip_id"]))}
        for step in ("render", "video"):
            assert dagster[step]["location"] == joins[step]["location"], step
            assert dagster[step]["checksum"] == joins[step]["checksum"], step
        assert dagster["upload"]["location"] == joins["upload"]["location"]  # the YouTube id
        assert dagster["clip"]["partition_key"].split("|", 1)[1] == joins["clip"]["location"]  # video key
        assert dagster["creator"]["partition_key"] == joins["creator"]["detail"]
        posted = joins["post"]["detail"].removeprefix("posted ")[:10]
        assert dagster["post"]["partition_key"].endswith(posted) or posted == "None"


def test_only_selected_clips_are_partitions(demo):
    """The clip-level assets' partitions are exactly the clips Pantheon selected."""
    con = _db(demo)
    selected = {f"{r['rank']}|{r['video_key']}" for r in _rows(con, "SELECT rank, video_key FROM clips")}
    os.environ["DAGSTER_HOME"] = str(demo["home"] / "dagster")
    try:
        instance = dg.DagsterInstance.get()
        assert set(instance.get_dynamic_partitions("clips")) == selected
        assert instance.get_materialized_partitions(dg.AssetKey("renders")) <= selected
    finally:
        os.environ.pop("DAGSTER_HOME", None)


def test_packet_walk_reaches_the_source_file_by_parents_alone(demo):
    con = _db(demo)
    clip_id = _rows(con, "SELECT CAST(clip_id AS VARCHAR) AS c FROM upload_jobs LIMIT 1")[0]["c"]
    walk = json.loads(_cli(demo, "lineage", clip_id, "--packets", "--json").stdout)
    assets = [p["asset_key"] for p in walk]
    assert assets[0] == "uploads" and {
        "renders",
        "clips",
        "transcripts",
        "videos",
        "posts",
        "creators",
    } <= set(assets)
    video = next(p for p in walk if p["asset_key"] == "videos")
    ((name, sha),) = video["outputs"].items()
    source = next(
        Path(r[0]) for r in con.execute("SELECT file_path FROM videos WHERE checksum = ?", [sha]).fetchall()
    )
    assert source.name == name and media.sha256_file(source) == sha
    # Every packet names its parents but the creator's (the root) and the publish plan's (made
    # from every render, it names the clips it placed in its own metadata instead).
    assert all(p["_meta_parents"] for p in walk if p["asset_key"] not in ("creators", "publish_plan"))


def test_pantheon_votes_and_reasons_are_stored(demo):
    con = _db(demo)
    votes = _rows(con, "SELECT * FROM clip_votes WHERE selected_rank IS NOT NULL")
    assert {v["agent"] for v in votes} >= {"strategist", "editor", "guardian"}
    assert all(v["reason"] for v in votes)


def test_zenith_keeps_the_decisions_of_every_stage(demo):
    """The clip and upload gates decide on the same partitions: both stages' decisions stay."""
    rows = _rows(
        _db(demo), "SELECT stage, partition_key, action FROM zenith_decisions WHERE source = 'omniva-cli'"
    )
    assert {"video", "clip", "upload"} <= {r["stage"] for r in rows}, rows
    for stage in ("clip", "upload"):
        requested = {r["partition_key"] for r in rows if r["stage"] == stage and r["action"] == "request"}
        assert len(requested) >= demo["counts"]["renders"], (stage, requested)


def test_bad_inputs_fail_alone_with_clear_messages(demo):
    out = demo["first"].stdout
    expectations = {
        "sample-omniva-sample-corrupt": "not a readable media file",
        "sample-omniva-sample-no-audio": "has no audio stream",
        "sample-omniva-sample-silent": "no speech found",
        "sample-omniva-sample-deleted": "the link is dead",
    }
    lines = out.splitlines()
    for key, reason in expectations.items():
        assert any(key in line and reason in line for line in lines), (key, reason)
    con = _db(demo)
    logged = " ".join(r[0] for r in con.execute("SELECT message FROM logs WHERE level = 'ERROR'").fetchall())
    for reason in expectations.values():
        assert reason in logged
    media_dir = demo["home"] / "media"
    assert not [p for p in media_dir.rglob("*") if ".partial" in p.name or p.name.startswith(".download-")]
    dead = [p for p in (media_dir / "videos").iterdir() if p.name.startswith("sample-omniva-sample-deleted")]
    assert not any(list(d.glob("*.mp4")) for d in dead)
    corrupt = [
        p for p in (media_dir / "videos").iterdir() if p.name.startswith("sample-omniva-sample-corrupt")
    ]
    assert not any(list(d.glob("*.mp4")) for d in corrupt)


def test_the_dagster_instance_shows_the_runs(demo):
    os.environ["DAGSTER_HOME"] = str(demo["home"] / "dagster")
    try:
        instance = dg.DagsterInstance.get()
        renders = instance.get_materialized_partitions(dg.AssetKey("renders"))
        uploads = instance.get_materialized_partitions(dg.AssetKey("uploads"))
        assert len(renders) >= 2 and uploads == renders
        assert instance.get_materialized_partitions(dg.AssetKey("clip_explanations")) == uploads
        failed = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
        assert {r.tags.get("dagster/partition", "")[:28] for r in failed} >= {
            "sample-omniva-sample-corrupt",
            "sample-omniva-sample-deleted",
        }

        from omniva_assets.analyzer.sensors import video_sensor
        from omniva_resources.resources import OmnivaStore, resources_from_env

        resources = {**resources_from_env(), "store": OmnivaStore(home=str(demo["home"]))}
        ctx = dg.build_sensor_context(instance=instance, cursor="0", resources=resources)
        result = video_sensor(ctx)
        # Everything is done or quarantined (bad input): the sensor asks for nothing new.
        assert not result.run_requests
        assert int(result.cursor) > 0
    finally:
        os.environ.pop("DAGSTER_HOME", None)


def test_rerun_is_idempotent(demo):
    emulator_state = demo["home"] / "youtube-emulator"
    before = sorted(p.name for p in (emulator_state / "videos").glob("*.mp4"))
    second = _demo(demo["home"], *demo["ports"])
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    con = _db(demo)
    for table, n in demo["counts"].items():
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == n, table
    after = sorted(p.name for p in (emulator_state / "videos").glob("*.mp4"))
    assert after == before, "a clip was uploaded twice"
    ledger = [json.loads(p.read_text()) for p in (demo["home"] / "uploads").glob("*.json")]
    assert ledger and all(e["state"] == "done" for e in ledger)


def _cli(demo, *args):
    env = {**os.environ, "OMNIVA_HOME": str(demo["home"])}
    env.pop("DAGSTER_HOME", None)
    return subprocess.run(
        [sys.executable, "-m", "omniva_app.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_explain_and_lineage_for_a_published_clip(demo):
    con = _db(demo)
    clip_id, video_key, rank = con.execute(
        "SELECT CAST(clip_id AS VARCHAR), video_key, rank FROM clips ORDER BY video_key, rank LIMIT 1"
    ).fetchone()
    text = _cli(demo, "explain", f"{video_key}#{rank}")
    assert text.returncode == 0, text.stderr
    for needle in (
        "The moment:",
        "strategist",
        "guardian",
        "horizon",
        "Dissent:",
        "What autocut removed:",
        "Title:",
        "Scheduled:",
    ):
        assert needle in text.stdout, needle
    as_json = json.loads(_cli(demo, "explain", clip_id, "--json").stdout)
    assert as_json["clip"]["clip_id"] == clip_id and len(as_json["votes"]) == 5
    chain = json.loads(_cli(demo, "lineage", clip_id, "--json").stdout)
    assert [r["step"] for r in chain][0] == "upload" and chain[-1]["step"] == "creator"


def test_lineage_sync_is_idempotent(demo):
    con = _db(demo)
    tables = ("dagster_runs", "dagster_steps", "dagster_materializations", "dagster_checks")
    before = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    con.close()
    assert before["dagster_materializations"] > 0
    again = _cli(demo, "lineage", "sync")
    assert again.returncode == 0 and "mirrored 0 of" in again.stdout, again.stdout + again.stderr
    con = _db(demo)
    assert {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables} == before


STALE_SCRIPT = """
import json, sys
import dagster as dg
from omniva_resources.staleness import stale_partitions
from omniva_assets.definitions import defs
instance = dg.DagsterInstance.get()
out = {}
if sys.argv[1:] == ["refresh"]:
    from omniva_app.driver import Runner
    videos = sorted(instance.get_materialized_partitions(dg.AssetKey("clip_selections")))
    runner = Runner(defs, instance, echo=lambda _: None, refresh_stale=True)
    before = {r.dagster_run.run_id for r in instance.get_run_records()}
    runner.run_videos(videos)
    new = [r.dagster_run.run_id for r in instance.get_run_records() if r.dagster_run.run_id not in before]
    out["new_run_steps"] = sorted({s.step_key for run_id in new for s in instance.get_run_step_stats(run_id)})
for asset in ("transcripts", "analyses", "clip_selections", "renders", "uploads"):
    keys = sorted(instance.get_materialized_partitions(dg.AssetKey(asset)))
    out[asset] = {"materialized": len(keys), "stale": sorted(stale_partitions(instance, defs, asset, keys))}
print(json.dumps(out))
"""


def _stale(demo, *args, **env_extra):
    env = {
        **os.environ,
        "OMNIVA_HOME": str(demo["home"]),
        "DAGSTER_HOME": str(demo["home"] / "dagster"),
        **env_extra,
    }
    out = subprocess.run(
        [sys.executable, "-c", STALE_SCRIPT, *args], env=env, capture_output=True, text=True, timeout=900
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_changing_a_render_parameter_makes_only_renders_and_uploads_stale(demo):
    fresh = _stale(demo)
    assert all(not v["stale"] for v in fresh.values()), fresh
    changed = _stale(demo, OMNIVA_RENDER_CRF="21")
    assert (
        changed["renders"]["stale"] and len(changed["renders"]["stale"]) == changed["renders"]["materialized"]
    )
    assert changed["uploads"]["stale"] == changed["renders"]["stale"]
    for upstream in ("transcripts", "analyses", "clip_selections"):
        assert not changed[upstream]["stale"], upstream
    # Materializing the stale set re-renders without transcribing anything again.
    refreshed = _stale(demo, "refresh", OMNIVA_RENDER_CRF="21")
    assert "renders" in refreshed["new_run_steps"] and "transcripts" not in refreshed["new_run_steps"]
    assert not refreshed["renders"]["stale"] and not refreshed["transcripts"]["stale"]
