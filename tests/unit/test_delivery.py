"""Delivery features on synthetic signals built in numpy: pitch estimates, movement, laughter."""

from __future__ import annotations

import numpy as np
import pytest

from omniva.delivery import (
    ProsodyTrack,
    delivery_score,
    laughter,
    laughter_markers,
    pitch_movement_st,
    span_delivery,
)
from omniva_resources.media.prosody import analyse_samples

SR = 16000


def voiced(f0_hz: np.ndarray | float, seconds: float, seed: int = 0) -> np.ndarray:
    """A voice-like signal: 8 harmonics with falling amplitudes on an instantaneous F0 (constant
    or one value per sample), a little noise, at about -12 dBFS."""
    n = int(seconds * SR)
    f0 = np.broadcast_to(np.asarray(f0_hz, dtype=np.float64), (n,))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, 9))
    x = 0.25 * x / np.max(np.abs(x))
    return (x + 0.003 * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


def whole(track: ProsodyTrack) -> dict[str, float]:
    return span_delivery(track, 0.0, track.duration_s)


@pytest.mark.parametrize("f0", [150.0, 220.0, 95.0, 310.0])
def test_pitch_estimate_is_within_three_percent_of_a_synthetic_voice(f0):
    track = analyse_samples(voiced(f0, 2.0))
    pitch = np.array(track.pitch_hz)
    inner = pitch[2:-2]  # the first and last frames see the signal's edges
    assert (inner > 0).all(), "a steady voiced signal is voiced in every frame"
    assert np.all(np.abs(inner - f0) / f0 < 0.03), inner
    assert whole(track)["pitch_median_hz"] == pytest.approx(f0, rel=0.01)


def test_a_pure_sine_is_tracked_too():
    t = np.arange(int(1.5 * SR)) / SR
    track = analyse_samples((0.3 * np.sin(2 * np.pi * 180.0 * t)).astype(np.float32))
    assert whole(track)["pitch_median_hz"] == pytest.approx(180.0, rel=0.02)


def test_rms_is_in_dbfs():
    t = np.arange(SR) / SR
    track = analyse_samples((0.5 * np.sin(2 * np.pi * 200.0 * t)).astype(np.float32))
    # a sine of amplitude 0.5 has RMS 0.354: -9.0 dBFS
    assert np.median(track.rms_db) == pytest.approx(-9.0, abs=0.2)
    assert track.hop_s == 0.05 and len(track.rms_db) == len(track.pitch_hz) == 20


def test_a_glide_moves_the_pitch_far_more_than_a_flat_tone():
    seconds = 3.0
    n = int(seconds * SR)
    glide_f0 = 120.0 * 2 ** (np.arange(n) / n)  # one octave up over the span
    flat = whole(analyse_samples(voiced(150.0, seconds)))
    glide = whole(analyse_samples(voiced(glide_f0, seconds)))
    assert flat["pitch_movement_st"] < 0.2
    # a linear sweep over 12 semitones has a standard deviation of 12 / sqrt(12) = 3.5 st
    assert glide["pitch_movement_st"] > 2.5
    assert glide["pitch_movement_st"] > 10 * max(flat["pitch_movement_st"], 0.05)
    assert flat["voiced_ratio"] > 0.9 and glide["voiced_ratio"] > 0.9


def test_loudness_movement_and_emphasis_follow_the_envelope():
    steady = voiced(150.0, 4.0)
    envelope = np.ones_like(steady)
    quarter = len(steady) // 8
    for k in range(0, 8, 2):  # alternate 0 dB and -12 dB every half second
        envelope[k * quarter : (k + 1) * quarter] = 0.25
    accents = steady.copy()
    accents[: len(steady) // 10] *= 4.0  # one stressed stretch, 12 dB up, a tenth of the span
    flat_d = whole(analyse_samples(steady))
    moving_d = whole(analyse_samples(steady * envelope))
    accent_d = whole(analyse_samples(accents))
    assert flat_d["loudness_movement_db"] < 0.5 and flat_d["emphasis"] == 0.0
    assert moving_d["loudness_movement_db"] > 10.0
    assert accent_d["emphasis"] == pytest.approx(0.1, abs=0.03)
    expected_db = 20 * np.log10(np.sqrt(np.mean(steady.astype(np.float64) ** 2)))
    assert flat_d["loudness_db"] == pytest.approx(expected_db, abs=0.3)


def test_silence_gives_zeros_and_an_empty_track_too():
    silent = analyse_samples(np.zeros(2 * SR, np.float32))
    assert all(p == 0 for p in silent.pitch_hz)
    assert whole(silent) == dict.fromkeys(whole(silent), 0.0)
    assert set(whole(silent)) >= {
        "loudness_db",
        "loudness_movement_db",
        "pitch_movement_st",
        "voiced_ratio",
        "emphasis",
    }
    assert delivery_score(whole(silent)) == 0.0
    empty = ProsodyTrack(hop_s=0.05, rms_db=(), pitch_hz=())
    assert whole(empty)["voiced_ratio"] == 0.0
    assert laughter([], empty, 0.0, 10.0) == 0.0
    assert delivery_score(span_delivery(empty, 0.0, 10.0)) == 0.0


def test_noise_is_not_voiced():
    noise = 0.1 * np.random.default_rng(1).standard_normal(2 * SR).astype(np.float32)
    assert whole(analyse_samples(noise))["voiced_ratio"] < 0.05


def test_a_span_reads_only_its_own_frames():
    track = analyse_samples(np.concatenate([np.zeros(2 * SR, np.float32), voiced(200.0, 2.0)]))
    assert span_delivery(track, 0.0, 1.9)["voiced_ratio"] == 0.0
    assert span_delivery(track, 2.1, 3.9)["voiced_ratio"] == 1.0
    assert span_delivery(track, 5.0, 9.0)["voiced_ratio"] == 0.0  # past the end
    assert track.frames(1.0, 2.0) == (20, 40)


def test_octave_errors_do_not_pass_for_movement():
    f0 = np.full(200, 150.0)
    f0[::25] = 300.0  # 4% of frames an octave off, as a tracker's errors are
    assert pitch_movement_st(f0) < 0.5
    assert pitch_movement_st(150.0 * 2 ** (np.linspace(-4, 4, 200) / 12)) > 2.0


def test_laughter_markers_in_many_languages():
    assert laughter_markers(["that", "was", "great", "(laughs)", "really"]) == 1
    assert laughter_markers(["[Laughter]"]) == 1
    assert laughter_markers(["haha", "no"]) == 1
    assert laughter_markers(["Ha", "ha,", "ha!"]) == 1
    assert laughter_markers(["jajaja", "qué"]) == 1
    assert laughter_markers(["c'est", "nul", "mdr"]) == 1
    assert laughter_markers(["すごい", "www"]) == 1
    assert laughter_markers(["哈哈哈"]) == 1
    assert laughter_markers(["面白い（笑）"]) == 1
    # ordinary words are no laughter
    for text in (
        "what a shame",
        "he laughs at the idea",
        "ha, I see",
        "see www.example.com",
        "ja ja",
        "微笑",
    ):
        assert laughter_markers(text.split()) == 0, text


def test_laughter_from_text_combines_with_the_audio_cue():
    flat = analyse_samples(voiced(150.0, 3.0))
    assert laughter([], flat, 0.0, 3.0) == 0.0
    assert laughter(["(laughs)"], flat, 0.0, 3.0) == pytest.approx(0.632, abs=0.001)
    assert laughter(["haha", "[laughter]", "(laughs)"], flat, 0.0, 3.0) > 0.9


def test_laugh_pulses_score_without_a_transcript():
    """A train of short high-pitched "ha" pulses, five a second, after a stretch of normal speech
    at 120 Hz, is heard as laughter; the normal speech alone is not."""
    speech = voiced(120.0, 3.0)
    pulse = voiced(300.0, 0.07, seed=2)
    gap = np.zeros(int(0.13 * SR), np.float32)
    laugh = np.concatenate([np.concatenate([pulse, gap]) for _ in range(8)])
    track = analyse_samples(np.concatenate([speech, laugh]))
    assert laughter([], track, 0.0, 3.0) == 0.0
    assert laughter([], track, 3.0, track.duration_s) >= 0.5


def test_delivery_score_orders_lively_over_flat():
    flat = {"pitch_movement_st": 1.0, "loudness_movement_db": 3.0, "emphasis": 0.0, "voiced_ratio": 0.5}
    lively = {"pitch_movement_st": 4.0, "loudness_movement_db": 9.0, "emphasis": 0.1, "voiced_ratio": 0.5}
    assert delivery_score(flat) == 0.0
    assert 0.5 < delivery_score(lively) < 1.0
    assert delivery_score({**lively, "laughter": 1.0}) > delivery_score(lively)
    top = {
        "pitch_movement_st": 9,
        "loudness_movement_db": 20,
        "emphasis": 1,
        "voiced_ratio": 1,
        "laughter": 1,
    }
    assert delivery_score(top) == 1.0
    assert delivery_score({**lively, "voiced_ratio": 0.03}) < delivery_score(lively) / 3
