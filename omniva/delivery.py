"""Delivery: how lively a span sounds, from a prosody track and the span's words.

A flat read makes a weak Short; speech whose pitch and loudness move, with stressed
words and laughter, makes a better one. Everything here is pure (numpy over a
``ProsodyTrack``, which ``omniva_resources.media.prosody`` measures from the audio).

Frame ``i`` of a track stands for ``[i * hop_s, (i + 1) * hop_s)``; a frame is voiced
when its pitch is above 0. A span takes the frames whose middle lies inside it.

``span_delivery`` -> features (all over the span's voiced frames; zeros when none):

- ``loudness_db``: median RMS level, dBFS;
- ``loudness_movement_db``: interquartile range of that level (a flat read: about
  4-6 dB; animated speech: 8-12 dB);
- ``pitch_movement_st``: standard deviation of pitch in semitones around the span's
  median, after clipping each frame to the span's 5th-95th percentiles and to one octave
  (a tracker's octave errors are single frames a full 12 semitones off; clipping keeps
  them from dominating). Monotone speech: under 2 st; lively: 3-5 st;
- ``pitch_median_hz``: median pitch (for sanity checks and the speaker's range);
- ``voiced_ratio``: voiced frames / frames in the span;
- ``emphasis``: share of voiced frames more than ``EMPHASIS_DB`` (6 dB) above the
  span's median level (stressed words stand out from the read).

``laughter`` -> 0..1, see its docstring; ``delivery_score`` -> 0..1 from the features.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class ProsodyTrack:
    """Per-frame loudness (RMS, dBFS) and pitch (Hz, 0 when unvoiced), one value per hop."""

    hop_s: float
    rms_db: tuple[float, ...]
    pitch_hz: tuple[float, ...]

    @property
    def duration_s(self) -> float:
        return len(self.rms_db) * self.hop_s

    def frames(self, start_s: float, end_s: float) -> tuple[int, int]:
        """[first, last) frame indices whose middle lies in [start_s, end_s)."""
        n = len(self.rms_db)
        if n == 0 or self.hop_s <= 0 or end_s <= start_s:
            return 0, 0
        lo = math.ceil(start_s / self.hop_s - 0.5)
        hi = math.ceil(end_s / self.hop_s - 0.5)
        return min(max(lo, 0), n), min(max(hi, 0), n)


EMPHASIS_DB = 6.0
OCTAVE_ST = 12.0

FEATURE_KEYS = (
    "loudness_db",
    "loudness_movement_db",
    "pitch_movement_st",
    "pitch_median_hz",
    "voiced_ratio",
    "emphasis",
)


def span_delivery(track: ProsodyTrack, start_s: float, end_s: float) -> dict[str, float]:
    """Loudness, its movement, pitch movement, voicing and emphasis over [start_s, end_s)."""
    lo, hi = track.frames(start_s, end_s)
    zeros = dict.fromkeys(FEATURE_KEYS, 0.0)
    if hi <= lo:
        return zeros
    rms = np.asarray(track.rms_db[lo:hi], dtype=np.float64)
    pitch = np.asarray(track.pitch_hz[lo:hi], dtype=np.float64)
    voiced = pitch > 0
    if not voiced.any():
        return zeros
    level = rms[voiced]
    median_db = float(np.median(level))
    q75, q25 = np.percentile(level, [75, 25])
    return {
        "loudness_db": round(median_db, 1),
        "loudness_movement_db": round(float(q75 - q25), 2),
        "pitch_movement_st": round(pitch_movement_st(pitch[voiced]), 2),
        "pitch_median_hz": round(float(np.median(pitch[voiced])), 1),
        "voiced_ratio": round(float(voiced.mean()), 3),
        "emphasis": round(float(np.mean(level > median_db + EMPHASIS_DB)), 3),
    }


def pitch_movement_st(pitch_hz: np.ndarray) -> float:
    """Standard deviation of voiced pitch in semitones, robust to octave errors: each value
    is clipped to the 5th-95th percentiles and to one octave around the median."""
    f0 = np.asarray(pitch_hz, dtype=np.float64)
    f0 = f0[f0 > 0]
    if len(f0) < 2:
        return 0.0
    st = 12.0 * np.log2(f0 / np.median(f0))
    p5, p95 = np.percentile(st, [5, 95])
    st = np.clip(st, max(p5, -OCTAVE_ST), min(p95, OCTAVE_ST))
    return float(np.std(st))


# ---------------------------------------------------------------- laughter

_LAUGH_TEXT = re.compile(
    "|".join(
        (
            r"[(\[*（【]\s*(?:laugh\w*|chuckl\w*|giggl\w*|rires?|rit|risas?|ríe|lachen|lacht|risate|笑\w*)\s*[)\]*）】]",
            r"\b(?:ha){2,}h?\b",  # haha, hahaha
            r"\bha(?:[\s,.!-]+ha)+\b",  # ha ha, ha, ha!
            r"\b(?:he){3,}\b",  # hehehe
            r"\b(?:ja){2,}\b",  # jaja (Spanish)
            r"\b(?:lol|lmao|mdr|ptdr|kkkk+|rsrs+)\b",  # chat-style markers (French mdr, Portuguese kkkk)
            r"(?<![\w.])[wｗ]{3,}(?![\w.])",  # Japanese www (not a web address)
            r"哈{2,}",  # Chinese haha
            r"[(（\[【]\s*笑\s*[)）\]】]",  # Japanese (笑); a bare 笑 is the ordinary verb "laugh/smile"
        )
    ),
    re.IGNORECASE,
)

# Audio cue: a laugh is a train of short "ha" pulses, about 4-6 a second, each one or two
# frames long with deep dips on both sides, either breathy (unvoiced) or voiced well above
# the speaker's usual pitch; a bout is LAUGH_MIN_PULSES such pulses within LAUGH_MAX_GAP_S
# of each other, at least one of them voiced high.
LAUGH_PULSE_DIP_DB = 8.0
LAUGH_PULSE_MAX_FRAMES = 2
LAUGH_HIGH_PITCH = 1.4  # times the track's median voiced pitch
LAUGH_MIN_PULSES = 3
LAUGH_MAX_GAP_S = 0.4
LAUGH_FULL_PULSES = 6  # pulses in bouts that make the audio cue 1.0
LAUGH_AUDIO_WEIGHT = 0.6  # the audio cue alone reaches at most this


def laughter_markers(words: Sequence[str]) -> int:
    """How many laughter markers the words carry ("(laughs)", "[laughter]", "haha", "ha ha",
    "jaja", "mdr", "www", "哈哈", "（笑）", ...). A single string counts as one text."""
    text = words if isinstance(words, str) else " ".join(words)
    return len(_LAUGH_TEXT.findall(text))


def laughter(words: Sequence[str], track: ProsodyTrack, start_s: float, end_s: float) -> float:
    """Evidence of laughter in a span, 0..1.

    Text: ``1 - exp(-markers)`` (one marker 0.63, two 0.86, three 0.95). Transcripts from
    Whisper rarely write laughter down, so this is reliable when present, rarely present.

    Audio (best effort): bouts of laugh pulses (see ``laugh_pulses``), scored
    ``LAUGH_AUDIO_WEIGHT * min(1, pulses_in_bouts / LAUGH_FULL_PULSES)``. How good it is,
    measured on the repository's fixtures at the default 50 ms hop: in ``mfa_laughter.flac``
    it finds 2 of its 4 laughs (6 pulses: audio cue 0.6); in about 350 s of laugh-free speech
    (a lecture, a broadcast speech, a phone call, read speech in six languages, whispered
    speech) it finds none. That is a small sample: treat the cue as a hint that lifts a
    score, never as proof; breathy laughs with no voiced pulse and laughs under speech are
    missed. The speaker's usual level and pitch are taken over the whole track, so with
    several speakers a high-voiced one's ordinary syllables can pass for "high" pulses (they
    still need the short, deeply dipped shape). The two combine as independent evidence:
    ``1 - (1 - text) * (1 - audio)``.
    """
    text = 1.0 - math.exp(-laughter_markers(words))
    pulses = sum(len(b) for b in laugh_bouts(track, start_s, end_s))
    audio = LAUGH_AUDIO_WEIGHT * min(1.0, pulses / LAUGH_FULL_PULSES)
    return round(1.0 - (1.0 - text) * (1.0 - audio), 3)


def laugh_bouts(track: ProsodyTrack, start_s: float, end_s: float) -> list[list[int]]:
    """Bouts of laugh pulses in [start_s, end_s): lists of frame indices."""
    pulses = laugh_pulses(track, start_s, end_s)
    pitch = track.pitch_hz
    ref = reference_levels(track)
    if ref is None:
        return []
    ref_pitch = ref[1]
    max_gap = max(1, round(LAUGH_MAX_GAP_S / track.hop_s))
    bouts: list[list[int]] = []
    current: list[int] = []
    for i in [*pulses, None]:
        if i is not None and current and i - current[-1] <= max_gap:
            current.append(i)
            continue
        voiced_high = any(_voiced_high(pitch, j, ref_pitch) for j in current)
        if len(current) >= LAUGH_MIN_PULSES and voiced_high:
            bouts.append(current)
        current = [i] if i is not None else []
    return bouts


def laugh_pulses(track: ProsodyTrack, start_s: float, end_s: float) -> list[int]:
    """Frames that peak in loudness for at most ``LAUGH_PULSE_MAX_FRAMES`` frames, with dips of
    ``LAUGH_PULSE_DIP_DB`` on both sides, no quieter than 12 dB under the speaker's level,
    and either unvoiced or voiced at ``LAUGH_HIGH_PITCH`` times the speaker's median pitch."""
    ref = reference_levels(track)
    if ref is None:
        return []
    speech_db, ref_pitch = ref
    lo, hi = track.frames(start_s, end_s)
    rms = np.asarray(track.rms_db, dtype=np.float64)
    pitch = np.asarray(track.pitch_hz, dtype=np.float64)
    n = len(rms)
    reach = LAUGH_PULSE_MAX_FRAMES + 1
    out: list[int] = []
    for i in range(max(lo, 1), min(hi, n - 1)):
        peak = rms[i]
        if peak < rms[i - 1] or peak < rms[i + 1] or peak < speech_db - 12.0:
            continue
        near = peak - LAUGH_PULSE_DIP_DB
        a = i
        while a > 0 and rms[a - 1] > near and i - a < reach:
            a -= 1
        b = i
        while b < n - 1 and rms[b + 1] > near and b - i < reach:
            b += 1
        if b - a + 1 > LAUGH_PULSE_MAX_FRAMES:
            continue
        if peak - rms[max(0, i - reach) : i].min() < LAUGH_PULSE_DIP_DB:
            continue
        if peak - rms[i + 1 : i + 1 + reach].min() < LAUGH_PULSE_DIP_DB:
            continue
        f0 = pitch[a : b + 1].max()
        if f0 == 0 or f0 >= LAUGH_HIGH_PITCH * ref_pitch:
            out.append(i)
    return out


def reference_levels(track: ProsodyTrack) -> tuple[float, float] | None:
    """The speaker's usual level (median dBFS) and pitch (median Hz) over the whole track's
    voiced frames; None when nothing is voiced."""
    pitch = np.asarray(track.pitch_hz, dtype=np.float64)
    voiced = pitch > 0
    if not voiced.any():
        return None
    rms = np.asarray(track.rms_db, dtype=np.float64)
    return float(np.median(rms[voiced])), float(np.median(pitch[voiced]))


def _voiced_high(pitch: Sequence[float], i: int, ref_pitch: float) -> bool:
    window = pitch[max(0, i - LAUGH_PULSE_MAX_FRAMES + 1) : i + LAUGH_PULSE_MAX_FRAMES]
    return any(f >= LAUGH_HIGH_PITCH * ref_pitch for f in window)


# ---------------------------------------------------------------- score

# Each feature is mapped to 0..1 between a "flat read" and a "lively" level, then weighted.
# The levels come from the fixtures: read commands and a flat explainer (cards-00x,
# example.mp4) move 0.9-1.9 st in pitch with a loudness IQR of 3.7-6.4 dB; a lecture, an
# oration, read sentences and a laughing take move 2.5-6.5 st and 4.4-12.8 dB. Whole-file
# scores: cards 0.0-0.22, example.mp4 0.05, ja read 0.19, acoustic_corpus 0.24, jfk 0.35,
# physicsworks 0.40, pt read 0.58, mfa_laughter 0.61 (its laughter from the audio cue alone).
DELIVERY_WEIGHTS: Mapping[str, float] = {
    "pitch_movement_st": 0.35,
    "loudness_movement_db": 0.25,
    "emphasis": 0.15,
    "laughter": 0.25,
}
DELIVERY_RANGES: Mapping[str, tuple[float, float]] = {
    "pitch_movement_st": (1.5, 4.5),
    "loudness_movement_db": (4.0, 10.0),
    "emphasis": (0.02, 0.15),
    "laughter": (0.0, 1.0),
}
MIN_VOICED_RATIO = 0.15  # spans with less voicing than this are scaled down (mostly silence)


def delivery_score(d: Mapping[str, float]) -> float:
    """0..1: weighted movement (pitch 0.35, loudness 0.25), emphasis (0.15) and laughter
    (0.25), each scaled linearly between its ``DELIVERY_RANGES`` (flat -> 0, lively -> 1);
    scaled down when under ``MIN_VOICED_RATIO`` of the span is voiced. ``d`` is a
    ``span_delivery`` dict, optionally with a ``laughter`` value."""
    total = 0.0
    for key, weight in DELIVERY_WEIGHTS.items():
        low, high = DELIVERY_RANGES[key]
        value = float(d.get(key, 0.0))
        total += weight * min(1.0, max(0.0, (value - low) / (high - low)))
    voiced = float(d.get("voiced_ratio", 0.0))
    total *= min(1.0, voiced / MIN_VOICED_RATIO)
    return round(total, 3)
