"""Prosody and delivery on real recordings (tests/fixtures/media), decoded by ffmpeg."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from omniva.delivery import ProsodyTrack, delivery_score, laugh_bouts, laughter, span_delivery
from omniva_resources.media.prosody import prosody_track


@pytest.fixture(scope="module")
def tracks(fixtures: Path) -> dict[str, ProsodyTrack]:
    out = {}
    for name in ("physicsworks.wav", "jfk.flac", "mfa_laughter.flac", "whisper2.flac"):
        out[name] = prosody_track(fixtures / name)
    return out


def whole(track):
    return span_delivery(track, 0.0, track.duration_s)


@pytest.mark.parametrize("name", ["physicsworks.wav", "jfk.flac"])
def test_speech_is_voiced_at_a_human_pitch(tracks, name):
    track = tracks[name]
    d = whole(track)
    assert d["voiced_ratio"] > 0.3, d
    assert 70.0 <= d["pitch_median_hz"] <= 350.0, d
    pitch = np.array(track.pitch_hz)
    voiced = pitch[pitch > 0]
    # the bulk of the voiced frames lies in a speaking range, not at the search limits
    assert np.percentile(voiced, 10) >= 70.0 and np.percentile(voiced, 90) <= 350.0
    assert -40.0 < d["loudness_db"] < -5.0
    assert d["pitch_movement_st"] > 1.0 and d["loudness_movement_db"] > 2.0
    assert 0.0 < delivery_score(d) <= 1.0


def test_track_shape(tracks):
    track = tracks["physicsworks.wav"]
    assert track.hop_s == 0.05
    assert len(track.rms_db) == len(track.pitch_hz) == 4066  # 203.28 s in 50 ms frames
    assert track.duration_s == pytest.approx(203.3, abs=0.1)
    assert all(v == round(v, 1) for v in track.rms_db[:200])
    # (no wall-clock bound: a loaded machine is slow, not wrong; speed is for bench/)


def test_whispered_speech_has_no_pitch(tracks):
    d = whole(tracks["whisper2.flac"])
    assert d["voiced_ratio"] < 0.05


def test_laughter_scores_higher_on_the_laughing_recording(fixtures, tracks):
    laughing, speech = tracks["mfa_laughter.flac"], tracks["jfk.flac"]
    words_laughing = (fixtures / "mfa_laughter.txt").read_text().split()
    words_speech = (fixtures / "jfk.txt").read_text().split()
    with_text = laughter(words_laughing, laughing, 0.0, laughing.duration_s)
    assert with_text > 0.9
    assert laughter(words_speech, speech, 0.0, speech.duration_s) == 0.0
    # the audio cue alone (no transcript) still tells them apart
    audio_only = laughter([], laughing, 0.0, laughing.duration_s)
    assert audio_only > 0.3
    assert laughter([], speech, 0.0, speech.duration_s) == 0.0
    # found where the laughs are: around 0.9-1.3 s and 4.0-4.6 s
    starts = [b[0] * laughing.hop_s for b in laugh_bouts(laughing, 0.0, laughing.duration_s)]
    assert starts and all(0.8 <= s <= 1.4 or 3.9 <= s <= 4.7 for s in starts)


def test_no_laugh_bouts_in_a_lecture(tracks):
    lecture = tracks["physicsworks.wav"]
    assert laugh_bouts(lecture, 0.0, lecture.duration_s) == []


def test_a_file_without_audio_gives_an_empty_track(tmp_path):
    silent_video = tmp_path / "picture_only.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=c=blue:s=64x64:d=1:r=10"]
        + ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-an", str(silent_video)],
        check=True,
    )
    track = prosody_track(silent_video)
    assert track.rms_db == () and track.pitch_hz == ()
    assert whole(track)["voiced_ratio"] == 0.0
    assert delivery_score(span_delivery(track, 0.0, 1.0)) == 0.0
