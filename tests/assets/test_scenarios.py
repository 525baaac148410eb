"""The spec's walkthroughs through real materializations (Cognitive Architecture, section 5):
a duplicate is detected and blocked (Paradox), a failing source is retried then quarantined
and released by an operator (Eclipse), and Zenith skips what is quarantined."""

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from omniva_devkit.sample_site import SampleItem, SampleSite
from omniva_resources import media
from tests.conftest import free_port, omniva_cli

pytestmark = pytest.mark.slow
DAY = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)


YT_PORT = free_port()


def _omniva(home: Path, *args: str) -> subprocess.CompletedProcess:
    return omniva_cli(home, YT_PORT, *args)


@pytest.fixture(scope="module")
def world(tmp_path_factory, fixtures):
    home = tmp_path_factory.mktemp("scenario-home")
    site = home / "site"
    videos = site / "videos"
    videos.mkdir(parents=True)
    shutil.copyfile(fixtures / "example.mp4", videos / "talk.mp4")
    shutil.copyfile(fixtures / "example.mp4", videos / "talk-copy.mp4")  # same bytes, other post
    # Same speech, different file: the first 20 s re-encoded (a re-upload by someone else).
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(fixtures / "example.mp4"),
            "-t",
            "20",
            "-c:v",
            "libx264",
            "-crf",
            "35",
            "-preset",
            "ultrafast",
            "-c:a",
            "aac",
            "-b:a",
            "64k",
            str(videos / "talk-reupload.mp4"),
        ],
        check=True,
    )
    media.make_sample_video(videos / "flaky.mp4", fixtures / "jfk.flac")
    (videos / "flaky.mp4.unavailable").touch()
    items = tuple(
        SampleItem(f"scn-{name}", name, f"{name}.mp4", DAY, name)
        for name in ("talk", "talk-copy", "talk-reupload", "flaky")
    )
    with SampleSite(site, port=0, items=items) as served:
        add = _omniva(home, "creators", "add", "scn", served.feed_url)
        assert add.returncode == 0, add.stderr
        runs = []
        for _ in range(3):
            runs.append(
                _omniva(home, "run", "--creator", "scn", "--since", "2025-07-01", "--until", "2025-07-01")
            )
        quarantine = _omniva(home, "quarantine", "list")
        skipped = _omniva(home, "run", "--creator", "scn", "--since", "2025-07-01", "--until", "2025-07-01")
        flaky_key = next(line.split("\t")[0] for line in quarantine.stdout.splitlines() if "flaky" in line)
        released = _omniva(home, "quarantine", "release", flaky_key)
        (videos / "flaky.mp4.unavailable").unlink()
        healed = _omniva(home, "run", "--creator", "scn", "--since", "2025-07-01", "--until", "2025-07-01")
    return {
        "home": home,
        "runs": runs,
        "quarantine": quarantine,
        "skipped": skipped,
        "released": released,
        "healed": healed,
        "flaky_key": flaky_key,
    }


def _q(world, sql):
    con = duckdb.connect(str(world["home"] / "omniva.duckdb"), read_only=True)
    return con.execute(sql).fetchall()


def test_every_cli_run_finished_and_the_good_video_was_published(world):
    for r in [*world["runs"], world["skipped"], world["healed"]]:
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert _q(world, "SELECT count(*) FROM upload_jobs WHERE yt_video_id IS NOT NULL")[0][0] >= 1
    assert "crisis" not in "".join(r.stdout for r in world["runs"])


def test_exact_duplicate_is_blocked_before_transcription(world):
    checks = _q(
        world,
        "SELECT partition_key, description FROM dagster_checks "
        "WHERE check_name = 'unique_source_checksum' AND NOT passed",
    )
    assert any("talk-copy" in p and "duplicate of" in d for p, d in checks)
    transcribed = {r[0] for r in _q(world, "SELECT video_key FROM transcripts")}
    assert not any("talk-copy" in k for k in transcribed)
    # Eclipse quarantines what Paradox blocked, and crisis mode does not count it.
    held = _q(world, "SELECT partition_key, failure_class FROM quarantine WHERE released_at IS NULL")
    assert {c for p, c in held if "talk-copy" in p or "talk-reupload" in p} == {"conflict"}


def test_near_duplicate_speech_is_blocked_before_analysis(world):
    checks = _q(
        world,
        "SELECT partition_key, description FROM dagster_checks "
        "WHERE check_name = 'no_near_duplicate_speech' AND NOT passed",
    )
    assert any("talk-reupload" in p and "same speech as" in d for p, d in checks), checks
    analysed = {r[0] for r in _q(world, "SELECT video_key FROM analysis")}
    assert not any("talk-reupload" in k for k in analysed)
    assert any("scn-talk-" in k and "copy" not in k and "reupload" not in k for k in analysed)


def test_failing_source_is_retried_then_quarantined_then_released(world):
    decisions = _q(
        world,
        "SELECT failure_class, action, failures FROM eclipse_decisions "
        "WHERE partition_key LIKE '%flaky%' ORDER BY failures",
    )
    assert [d[0] for d in decisions] == ["transient"] * 3
    assert [d[1] for d in decisions] == ["retry", "retry", "quarantine"]
    assert world["flaky_key"] in world["quarantine"].stdout
    assert f"skip {world['flaky_key']}: quarantined by Eclipse" in world["skipped"].stdout
    assert "released" in world["released"].stdout
    healed = _q(world, "SELECT count(*) FROM videos WHERE video_key LIKE '%flaky%'")[0][0]
    assert healed == 1
    assert not _q(
        world, "SELECT * FROM quarantine WHERE partition_key LIKE '%flaky%' AND released_at IS NULL"
    )


def test_zenith_records_its_decisions(world):
    actions = {r[0] for r in _q(world, "SELECT DISTINCT action FROM zenith_decisions")}
    assert {"request", "skip"} <= actions
    reasons = {r[0] for r in _q(world, "SELECT DISTINCT reason FROM zenith_decisions")}
    assert "quarantined by Eclipse" in reasons
