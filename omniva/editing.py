"""Edit decision lists: which spans of the source a clip keeps, and why others go.

Autocut, from the audio and the word timestamps:

- **silences** longer than ``max_gap_s`` inside the clip are cut, keeping ``margin_s``
  of air on each side, never inside a word;
- **filler words** ("um", "uh", "erm", ... configurable) are cut by their word times
  when the transcript has them. Whisper models often leave fillers out of the text (the
  faster-whisper ``tiny.en`` default drops all three of ``acoustic_corpus.wav``'s), so
- **filled pauses** are also found acoustically: a voiced stretch of at least
  ``filled_pause_min_s`` with an almost flat pitch (F0 spread <= ``filled_pause_max_f0_cv``)
  lying mostly in a gap between transcript words. Flat pitch over a quarter second is the
  classic filled-pause cue (Goto, Itou & Hayamizu 1999), with words within a second on
  both sides (a hesitation inside speech, not a hum between takes). Such a cut
  may take the head or the tail of a neighbouring word's ASR span (whisper stretches the
  words next to a filler it left out over it), at most ``max_word_overlap`` of that span;
  never its middle.

Cut boundaries are snapped to the source's frame grid (half a frame off the frames, so
audio and video segments have the same length), and consecutive kept spans are joined
with a one-frame equal-power audio crossfade (the video loses the same frame), so cuts
neither click nor drift out of sync. ``output_time`` maps a source time to the rendered
clip's timeline (captions, SRT).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from omniva import copytext
from omniva.records import EditDecisionList, RankedClip, Word

DEFAULT_FILLERS = ("um", "uh", "erm", "er", "umm", "uhm", "uhh", "hmm", "mm")


def fillers_for(language: str) -> tuple[str, ...]:
    """The filler words autocut removes in ``language``: English's, plus the language's own
    hesitation sounds (``copytext.HESITATIONS``: "euh", "äh", "えー", "嗯", ...)."""
    lang = copytext.base_language(language or "en")
    return (
        tuple(dict.fromkeys(DEFAULT_FILLERS + copytext.HESITATIONS.get(lang, ())))
        if lang != "en"
        else DEFAULT_FILLERS
    )


@dataclass(frozen=True, slots=True)
class AutocutRules:
    max_gap_s: float = 0.75  # silences longer than this are shortened
    margin_s: float = 0.2  # air kept on each side of a cut silence
    min_keep_s: float = 0.3  # shorter kept pieces are dropped
    remove_fillers: bool = True
    fillers: tuple[str, ...] = DEFAULT_FILLERS
    language: str = ""  # the speech's language (its fillers above; its captions' script)
    acoustic_fillers: bool = True  # also find filled pauses the transcript left out
    filled_pause_min_s: float = 0.25
    filled_pause_max_f0_cv: float = 0.03
    filled_pause_min_uncovered: float = 0.4  # share of the run outside transcript words
    filler_pad_s: float = 0.04  # taken beyond a filler's own edges
    word_guard_s: float = 0.05  # air always left next to a kept word at a filler cut
    # A filler the transcript names starts before its flat-pitch core (the gliding onset of
    # "um" after a word): its cut reaches back this far before the core, words permitting.
    filler_onset_s: float = 0.1
    max_word_overlap: float = 0.4  # share of a word's ASR span a filled pause may take (an end only)
    frame_rate: float | None = None  # snap cuts to this frame grid (source fps)


@dataclass(frozen=True, slots=True)
class FilledPause:
    start: float
    end: float
    f0_hz: float
    f0_cv: float
    uncovered: float  # share of the run not covered by any transcript word
    cut_start: float = 0.0  # where a cut begins and ends: the run, widened through quiet frames
    cut_end: float = 0.0


@dataclass(frozen=True, slots=True)
class EditPlan:
    keep: list[tuple[float, float]]
    removed: list[tuple[float, float, str]]
    filled_pauses: list[FilledPause] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)  # kept words, boundaries as protected


def normalize_word(text: str) -> str:
    return re.sub(r"[^a-z']", "", text.lower())


def is_filler(word: Word, fillers: Sequence[str]) -> bool:
    return normalize_word(word.word) in set(fillers)


# ---------------------------------------------------------------- acoustic filled pauses

_HOP = 0.01


def _pitch_track(samples: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per 10 ms frame: energy (dB), voicing (normalised autocorrelation peak), F0 (Hz)."""
    hop, win = int(sr * _HOP), int(sr * 0.04)
    if len(samples) < win + hop:
        z = np.zeros(0)
        return z, z, z
    frames = np.lib.stride_tricks.sliding_window_view(samples, win)[::hop].astype(np.float64)
    frames = frames - frames.mean(axis=1, keepdims=True)
    energy = 10 * np.log10((frames**2).mean(axis=1) + 1e-10)
    nfft = 1 << (2 * win - 1).bit_length()
    spec = np.abs(np.fft.rfft(frames * np.hanning(win), nfft)) ** 2
    ac = np.fft.irfft(spec)[:, :win]
    ac = ac / (ac[:, :1] + 1e-12)
    lo, hi = sr // 300, sr // 65  # 65-300 Hz
    lag = ac[:, lo:hi].argmax(axis=1) + lo
    voicing = ac[:, lo:hi].max(axis=1)
    return energy, voicing, sr / lag


def _median5(x: np.ndarray) -> np.ndarray:
    if len(x) < 5:
        return x
    padded = np.pad(x, 2, mode="edge")
    median: np.ndarray = np.median(np.lib.stride_tricks.sliding_window_view(padded, 5), axis=1)
    return median


def detect_filled_pauses(
    samples: np.ndarray,
    sample_rate: int,
    offset_s: float,
    words: Sequence[Word],
    rules: AutocutRules = AutocutRules(),
) -> list[FilledPause]:
    """Flat-pitch voiced runs that lie mostly between transcript words (source seconds).

    ``samples`` is mono audio starting at ``offset_s`` in the source.
    """
    return _analyse(samples, sample_rate, offset_s, words, rules)[0]


def _analyse(
    samples: np.ndarray,
    sample_rate: int,
    offset_s: float,
    words: Sequence[Word],
    rules: AutocutRules,
) -> tuple[list[FilledPause], list[tuple[float, float]]]:
    """(filled pauses, quiet runs >= max_gap_s relative to the clip's own noise floor)."""
    energy, voicing, f0 = _pitch_track(samples, sample_rate)
    n = len(energy)
    if n == 0:
        return [], []
    f0 = _median5(f0)
    floor = float(np.percentile(energy, 10))
    active = (energy > floor + 6.0) & (voicing > 0.3)
    covered = np.zeros(n, bool)
    for w in words:
        a = int(math.floor((w.start - offset_s) / _HOP))
        b = int(math.ceil((w.end - offset_s) / _HOP))
        covered[max(0, a) : max(0, min(n, b))] = True
    out: list[FilledPause] = []
    min_frames = int(round(rules.filled_pause_min_s / _HOP))
    i = 0
    while i < n:
        if not active[i]:
            i += 1
            continue
        j, k = i, i + 1
        while k < n and k - j <= 3:  # bridge up to 2 odd frames (octave errors, dips)
            if active[k] and abs(f0[k] - f0[j]) < 0.06 * f0[j]:
                j = k
            k += 1
        if j - i + 1 >= min_frames:
            run = f0[i : j + 1][active[i : j + 1]]
            cv = float(run.std() / run.mean())
            uncovered = 1.0 - float(covered[i : j + 1].mean())
            med = float(np.median(run))
            edge = med < 68 or med > 290  # pinned to the search range: not a pitch
            if (
                cv <= rules.filled_pause_max_f0_cv
                and uncovered >= rules.filled_pause_min_uncovered
                and not edge
            ):
                # The cut runs on into the quiet lead-in and tail (the soft "m" of "um"), to
                # the middle of that quiet stretch (at most 250 ms), leaving air before the
                # next sound; straight into speech it stops short instead, since the next
                # word's onset often carries the filler's pitch.
                k = i - 1
                while k >= max(0, i - 25) and not active[k]:
                    k -= 1
                lo = (k + 1 + i) / 2 if k + 1 < i else i + 6
                k = j + 1
                while k < min(n, j + 26) and not active[k]:
                    k += 1
                hi = (j + k - 1) / 2 if k - 1 > j else j - 3
                out.append(
                    FilledPause(
                        round(offset_s + i * _HOP + 0.015, 3),  # frame centres (a frame is 40 ms)
                        round(offset_s + j * _HOP + 0.025, 3),
                        round(float(np.median(run)), 1),
                        round(cv, 4),
                        round(uncovered, 2),
                        round(offset_s + lo * _HOP + 0.02, 3),
                        round(offset_s + hi * _HOP + 0.02, 3),
                    )
                )
        i = j + 1
    quiet = energy < floor + 6.0
    quiet_runs, i = [], 0
    min_quiet = int(rules.max_gap_s / _HOP)
    while i < n:
        if quiet[i]:
            j = i
            while j + 1 < n and (quiet[j + 1] or (j + 3 < n and quiet[j + 2] and quiet[j + 3])):
                j += 1
            if j - i + 1 >= min_quiet:
                quiet_runs.append(
                    (round(offset_s + i * _HOP + 0.02, 3), round(offset_s + j * _HOP + 0.02, 3))
                )
            i = j + 1
        else:
            i += 1
    return out, quiet_runs


# ---------------------------------------------------------------- planning


def _neighbours(words: Sequence[Word], a: float, b: float) -> tuple[Word | None, Word | None]:
    prev = max((w for w in words if w.end <= b and w.start < a), key=lambda w: w.end, default=None)
    nxt = min((w for w in words if w.start >= a and w.end > b), key=lambda w: w.start, default=None)
    return prev, nxt


def _clear_of_words(
    a: float, b: float, protected: Sequence[tuple[float, float]], guard: float
) -> tuple[float, float] | None:
    """Shrink (a, b) so it keeps ``guard`` seconds away from every protected word."""
    for ws, we in protected:
        lo, hi = ws - guard, we + guard
        if lo < b and hi > a:
            if lo - a >= b - hi:
                b = min(b, lo)
            else:
                a = max(a, hi)
        if b <= a:
            return None
    return a, b


def plan_edit(
    start: float,
    end: float,
    words: Sequence[Word],
    silences: Sequence[tuple[float, float]],
    rules: AutocutRules = AutocutRules(),
    audio: np.ndarray | None = None,
    sample_rate: int = 16000,
    audio_offset_s: float = 0.0,
) -> EditPlan:
    """Kept and removed spans of [start, end], with reasons; see the module docstring."""
    inside = sorted((w for w in words if w.end > start and w.start < end), key=lambda w: w.start)
    fillers = [w for w in inside if rules.remove_fillers and is_filler(w, rules.fillers)]
    kept_words = [w for w in inside if w not in fillers]
    protected = {id(w): (w.start, w.end) for w in kept_words}
    candidates: list[tuple[float, float, str]] = []

    runs: list[FilledPause] = []
    silences = list(silences)
    if audio is not None and rules.remove_fillers and len(audio):
        runs, quiet = _analyse(audio, sample_rate, audio_offset_s, kept_words, rules)
        runs = [r for r in runs if r.end > start and r.start < end]
        silences = [*silences, *quiet]

    used_runs: set[int] = set()
    for fw in fillers:
        prev, nxt = _neighbours(kept_words, fw.start, fw.end)
        lo = prev.end if prev else start
        hi = nxt.start if nxt else end
        a, b = fw.start, fw.end
        found = [k for k, r in enumerate(runs) if r.start < hi and r.end > lo]
        if found:  # ASR times of a filler are loose (often zero-length): the flat-pitch run is it
            a, b = min(runs[k].cut_start for k in found), max(runs[k].cut_end for k in found)
            a = min(a, min(runs[k].start for k in found) - rules.filler_onset_s)
            used_runs.update(found)
        else:
            a, b = a - rules.filler_pad_s, b + rules.filler_pad_s
        a = max(lo + rules.word_guard_s, a)
        b = min(hi - rules.word_guard_s, b)
        if b > a:
            candidates.append((a, b, f"filler {normalize_word(fw.word)!r}"))

    if rules.acoustic_fillers:
        for k, r in enumerate(runs):
            if k in used_runs:
                continue
            a, b = r.cut_start, r.cut_end
            before = [w for w in kept_words if w.start < r.start]
            after = [w for w in kept_words if w.end > r.end]
            if not before or not after or min(w.start for w in after) - r.end > 1.0:
                continue  # a hesitation sits inside speech: words on both sides, close by
            if r.start - max(w.end for w in before) > 1.0:
                continue
            heads: dict[int, tuple[float, float]] = {}
            ok = True
            for w in kept_words:  # may take the head or the tail of a word's ASR span, not its middle
                if w.start < r.end and w.end > r.start:
                    span = w.end - w.start
                    if r.start <= w.start and r.end - w.start <= rules.max_word_overlap * span:
                        # (the quiet frames the cut widens through may take up to 70%)
                        cut_to = min(max(b, r.end), w.start + 0.7 * span)
                        heads[id(w)] = (cut_to + rules.word_guard_s, w.end)
                    elif r.end >= w.end and w.end - r.start <= rules.max_word_overlap * span:
                        cut_from = max(min(a, r.start), w.end - 0.7 * span)
                        heads[id(w)] = (w.start, cut_from - rules.word_guard_s)
                    else:
                        ok = False
                        break
            if ok:
                protected.update(heads)
                candidates.append((a, b, f"filled pause (acoustic, flat pitch {r.f0_hz:.0f} Hz)"))

    for s0, s1 in silences:
        a, b = max(start, s0) + rules.margin_s, min(end, s1) - rules.margin_s
        if b - a >= rules.max_gap_s - 2 * rules.margin_s and b > a:
            candidates.append((a, b, f"silence {s1 - s0:.2f}s"))

    guarded = sorted(protected.values())
    removed: list[tuple[float, float, str]] = []
    for a, b, why in sorted(candidates):
        clear = _clear_of_words(max(a, start), min(b, end), guarded, rules.word_guard_s)
        if clear is None:
            continue
        a, b = clear
        if why.startswith("silence") and b - a < rules.max_gap_s - 2 * rules.margin_s:
            continue
        if b - a < 0.05:
            continue
        removed.append((a, b, why))
    removed = _merge(removed)
    keep = _keep_from_removed(start, end, removed, rules.min_keep_s, guarded)
    if rules.frame_rate:
        keep = snap_to_frames(keep, rules.frame_rate)
        removed = _gaps_with_reasons(start, end, keep, removed)
    else:
        keep = [(round(a, 3), round(b, 3)) for a, b in keep]
        removed = [(round(a, 3), round(b, 3), why) for a, b, why in removed]
    final_words = [
        Word(w.word, *protected[id(w)], w.probability) if protected[id(w)] != (w.start, w.end) else w
        for w in kept_words
    ]
    return EditPlan(keep, removed, runs, final_words)


def _merge(spans: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    out: list[tuple[float, float, str]] = []
    for a, b, why in sorted(spans):
        if out and a <= out[-1][1] + 1e-6:
            pa, pb, pwhy = out[-1]
            reasons = pwhy if why in pwhy else f"{pwhy}; {why}"
            out[-1] = (pa, max(pb, b), reasons)
        else:
            out.append((a, b, why))
    return out


def _keep_from_removed(
    start: float,
    end: float,
    removed: Sequence[tuple[float, float, str]],
    min_keep: float,
    protected: Sequence[tuple[float, float]] = (),
) -> list[tuple[float, float]]:
    """The complement of ``removed``; pieces shorter than ``min_keep`` go unless they hold a word."""

    def worth(a: float, b: float) -> bool:
        return b - a >= min_keep or any(ws < b and we > a for ws, we in protected)

    keep: list[tuple[float, float]] = []
    cursor = start
    for a, b, _ in removed:
        if a > cursor and worth(cursor, a):
            keep.append((cursor, a))
        cursor = max(cursor, b)
    if (end > cursor and worth(cursor, end)) or not keep:
        keep.append((cursor, end))
    return keep


def snap_to_frames(spans: Sequence[tuple[float, float]], fps: float) -> list[tuple[float, float]]:
    """Boundaries half a frame off the frames (so a trim keeps whole frames), moved outward:
    a kept span only grows (by under a frame), so snapping never cuts into a word."""
    out: list[tuple[float, float]] = []
    for a, b in spans:
        fa = math.floor(a * fps + 0.5 + 1e-6)
        fb = math.ceil(b * fps + 0.5 - 1e-6)
        sa = max(0.0, (fa - 0.5) / fps)
        sb = (fb - 0.5) / fps
        if out and sa <= out[-1][1] + 2.0 / fps:
            out[-1] = (out[-1][0], round(sb, 4))
        else:
            out.append((round(sa, 4), round(sb, 4)))
    return out


def _gaps_with_reasons(
    start: float,
    end: float,
    keep: Sequence[tuple[float, float]],
    removed: Sequence[tuple[float, float, str]],
) -> list[tuple[float, float, str]]:
    """The removed spans after snapping: the gaps between kept spans, with their reasons."""
    out = []
    bounds = [(start, keep[0][0]), *((keep[i][1], keep[i + 1][0]) for i in range(len(keep) - 1))]
    bounds.append((keep[-1][1], end))
    for a, b in bounds:
        if b - a <= 1e-3:
            continue
        why = "; ".join(dict.fromkeys(r for ra, rb, r in removed if ra < b and rb > a)) or "too short to keep"
        out.append((round(a, 4), round(b, 4), why))
    return out


def plan_keep_spans(
    start: float,
    end: float,
    words: Sequence[Word],
    silences: Sequence[tuple[float, float]],
    rules: AutocutRules = AutocutRules(),
    audio: np.ndarray | None = None,
    sample_rate: int = 16000,
    audio_offset_s: float = 0.0,
) -> tuple[list[tuple[float, float]], list[tuple[float, float, str]]]:
    """Return (keep, removed) spans inside [start, end] (see ``plan_edit``)."""
    plan = plan_edit(start, end, words, silences, rules, audio, sample_rate, audio_offset_s)
    return plan.keep, plan.removed


# ---------------------------------------------------------------- timeline mapping


def output_duration(keep: Sequence[tuple[float, float]], crossfade_s: float) -> float:
    return sum(b - a for a, b in keep) - crossfade_s * max(0, len(keep) - 1)


def segment_starts(keep: Sequence[tuple[float, float]], crossfade_s: float) -> list[float]:
    """Where each kept span starts in the output (consecutive spans overlap by the crossfade)."""
    starts, t = [], 0.0
    for a, b in keep:
        starts.append(t)
        t += (b - a) - crossfade_s
    return starts


def output_time(t: float, keep: Sequence[tuple[float, float]], crossfade_s: float) -> float | None:
    """Output-timeline time of source time ``t``; None when ``t`` was cut."""
    for (a, b), t0 in zip(keep, segment_starts(keep, crossfade_s), strict=True):
        if a <= t <= b:
            return t0 + (t - a)
    return None


def source_time(t_out: float, keep: Sequence[tuple[float, float]], crossfade_s: float) -> float:
    """Source time shown at output time ``t_out`` (the picture's cut: video drops the crossfade)."""
    starts = segment_starts(keep, crossfade_s)
    for i in range(len(keep) - 1, -1, -1):
        if t_out >= starts[i]:
            a, b = keep[i]
            return min(b, a + (t_out - starts[i]))
    return keep[0][0]


def words_in_output(
    words: Sequence[Word], keep: Sequence[tuple[float, float]], crossfade_s: float
) -> list[Word]:
    """The words a viewer hears, in output time (words cut away are dropped)."""
    out = []
    for w in words:
        mid = (w.start + w.end) / 2
        span = next(((a, b) for a, b in keep if a <= mid <= b), None)
        if span is None:
            continue
        a, b = span
        s = output_time(max(w.start, a), keep, crossfade_s)
        e = output_time(min(w.end, b), keep, crossfade_s)
        if s is not None and e is not None:
            out.append(Word(w.word, round(s, 3), round(max(e, s), 3), w.probability))
    return out


def decision_list(
    clip: RankedClip,
    source_path: str,
    words: Sequence[Word],
    silences: Sequence[tuple[float, float]],
    rules: AutocutRules,
    audio: np.ndarray | None,
    sample_rate: int,
    timeline_path: str = "",
) -> EditDecisionList:
    """The clip's edit decision list: autocut (``plan_edit``) over its candidate's span, with
    ``audio`` decoded from the span's start. Cuts get a one-frame crossfade when every kept
    piece is longer than two frames (``rules.frame_rate``, default 30)."""
    cand = clip.candidate
    plan = plan_edit(
        cand.start_time, cand.end_time, words, silences, rules, audio, sample_rate, cand.start_time
    )
    keep, removed = plan.keep, plan.removed
    fps = rules.frame_rate or 30.0
    crossfade = 1.0 / fps if len(keep) > 1 and all(b - a > 2.0 / fps for a, b in keep) else 0.0
    return EditDecisionList(
        clip.clip_id,
        cand.video_key,
        clip.rank,
        source_path,
        tuple(keep),
        tuple(removed),
        tuple(w for w in words if w.end > cand.start_time and w.start < cand.end_time),
        crossfade_s=round(crossfade, 6),
        frame_rate=fps,
        rules={k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(rules).items()},
        filled_pauses=tuple((p.start, p.end, p.f0_hz) for p in plan.filled_pauses),
        timeline_path=timeline_path,
    )
