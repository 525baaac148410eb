"""A creator who speaks German, end to end: the language is detected, the clip is cut, captioned
and titled in German, and the upload carries the language fields. A second creator pinned to
Portuguese skips detection."""

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import cv2
import duckdb
import numpy as np
import pytest

from omniva import captions
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
    home = tmp_path_factory.mktemp("languages-home")
    out = {"home": home}
    for creator, fixture, pin in (
        ("de-talk", "de_fleurs_004.ogg", None),
        ("pt-talk", "pt_fleurs_002.ogg", "pt"),
    ):
        site = home / f"site-{creator}"
        (site / "videos").mkdir(parents=True)
        media.make_sample_video(site / "videos" / "talk.mp4", fixtures / fixture)
        items = (SampleItem(f"{creator}-1", "Ein Vortrag", "talk.mp4", DAY, "talk"),)
        with SampleSite(site, port=0, items=items) as served:
            extra = ["--language", pin] if pin else []
            add = _omniva(home, "creators", "add", creator, served.feed_url, *extra)
            assert add.returncode == 0, add.stderr
            out[creator] = _omniva(
                home, "run", "--creator", creator, "--since", "2025-07-01", "--until", "2025-07-01"
            )
    return out


def _q(world, sql):
    con = duckdb.connect(str(world["home"] / "omniva.duckdb"), read_only=True)
    return con.execute(sql).fetchall()


def test_runs_finish(world):
    for creator in ("de-talk", "pt-talk"):
        r = world[creator]
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]


def test_language_detected_or_pinned_and_stored(world):
    rows = dict(_q(world, "SELECT video_key, language FROM transcripts"))
    de = next(k for k in rows if k.startswith("de-talk"))
    pt = next(k for k in rows if k.startswith("pt-talk"))
    assert rows[de] == "de" and rows[pt] == "pt"
    prob = dict(_q(world, "SELECT video_key, language_probability FROM transcripts"))
    assert prob[de] is not None and prob[de] > 0.8  # detected
    assert prob[pt] is None  # pinned: no detection
    models = dict(_q(world, "SELECT video_key, model FROM transcripts"))
    assert "tiny.en" not in models[de]


def test_german_clip_is_titled_captioned_and_uploaded_in_german(world):
    (title, description, language), *_ = _q(
        world,
        "SELECT cc.title, cc.description, cc.language FROM clip_copy cc JOIN clips c USING (clip_id) "
        "WHERE c.video_key LIKE 'de-talk%'",
    )
    assert language == "de"
    german = {"die", "der", "des", "von", "und", "ist", "sich", "auf", "eines", "welt", "höhle", "berge"}
    assert german & set(title.lower().replace(",", " ").split()), title
    assert german & set(description.lower().split()), description
    # The burned-in captions are the German words (the sidecar SRT the render burned in).
    (srt,) = _q(
        world,
        "SELECT r.srt_path FROM renders r JOIN clips c USING (clip_id) WHERE c.video_key LIKE 'de-talk%'",
    )[0]
    assert srt and german & set(Path(srt).read_text().lower().split())
    # The upload asked YouTube for German title and audio (the emulator keeps what it was sent).
    sent = [json.loads(p.read_text()) for p in (world["home"] / "youtube-emulator" / "videos").glob("*.json")]
    german_uploads = [v for v in sent if v.get("snippet", {}).get("title") == title]
    assert german_uploads, [v.get("snippet", {}).get("title") for v in sent]
    snippet = german_uploads[0]["snippet"]
    assert snippet.get("defaultLanguage") == "de" and snippet.get("defaultAudioLanguage") == "de"


def _caption_frame(ass: Path, at: float, out: Path) -> np.ndarray:
    """The pipeline's own caption file burned onto a plain background, one frame at ``at`` s."""
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"color=c=0x204060:s=1080x1920:d={at + 1:.2f}",
            "-vf",
            f"ass=filename='{ass}'",
            "-ss",
            f"{at:.2f}",
            "-frames:v",
            "1",
            str(out),
        ],
        check=True,
    )
    return cv2.cvtColor(cv2.imread(str(out)), cv2.COLOR_BGR2RGB).astype(int)


def test_german_captions_are_drawn_from_the_renders_caption_file(world, tmp_path):
    (path,) = _q(
        world,
        "SELECT r.file_path FROM renders r JOIN clips c USING (clip_id) WHERE c.video_key LIKE 'de-talk%'",
    )[0]
    ass = Path(path).with_suffix(".ass")  # what the render burned in, beside it
    cues = captions.parse_srt(Path(path).with_suffix(".srt").read_text())
    assert ass.is_file() and len(cues) >= 2
    background = np.array([0x20, 0x40, 0x60])
    inks = []
    for i, (start, end, _) in enumerate(cues[:2]):
        frame = _caption_frame(ass, (start + end) / 2, tmp_path / f"cue{i}.png")
        ink = (np.abs(frame - background).sum(axis=2) > 150) & (frame.min(axis=2) > 150)  # bright letters
        inks.append(ink)
        assert ink[1000:].sum() > 2000, ink.sum()  # the cue's text drawn, low in the frame
    # Above: only what stays for the whole clip (an audiogram's title and creator, #31), the
    # same in both frames; below: two different lines, different glyphs, not one box repeated.
    top = (inks[0][:1000] ^ inks[1][:1000]).sum()
    assert top < 50, top
    low = [i[1000:] for i in inks]
    overlap = (low[0] & low[1]).sum() / max(1, (low[0] | low[1]).sum())
    assert overlap < 0.5, overlap
