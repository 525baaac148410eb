"""Clip candidates: windows of whole sentences, 5-120 s, with features and a score.

Pure functions over the analysis; nothing here touches media or Dagster.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from omniva.records import Candidate, Sentence, Word

HOOK_PATTERNS = re.compile(
    r"\b(you|your|why|how|what|secret|never|always|imagine|here's|the reason|did you know)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class CandidateRules:
    min_s: float = 5.0
    max_s: float = 120.0
    target_s: float = 35.0
    lead_in_s: float = 0.15  # start a little before the first word
    tail_s: float = 0.35  # end a little after the last word
    max_candidates: int = 40
    cut_gap_s: float = 0.75  # autocut removes silences longer than this ...
    cut_margin_s: float = 0.2  # ... keeping this much air on each side


def overlap_s(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def extract_candidates(
    video_key: str,
    sentences: Sequence[Sentence],
    words: Sequence[Word],
    silences: Sequence[tuple[float, float]],
    keywords: Sequence[str],
    duration_s: float,
    rules: CandidateRules = CandidateRules(),
) -> list[Candidate]:
    """Every run of consecutive sentences whose span fits [min_s, max_s], scored.

    Starting and ending on sentence boundaries is what keeps a clip from cutting
    into a thought; the lead-in/tail keep the first and last word whole.
    """
    keyword_set = {k.lower() for k in keywords}
    found: list[Candidate] = []
    for i, first in enumerate(sentences):
        for j in range(i, len(sentences)):
            last = sentences[j]
            start = max(0.0, first.start - rules.lead_in_s)
            end = min(duration_s, last.end + rules.tail_s)
            length = end - start
            if length > rules.max_s:
                break
            if length < rules.min_s:
                continue
            span_sentences = sentences[i : j + 1]
            span_words = words[first.first_word : last.last_word + 1]
            features = window_features(span_sentences, span_words, silences, keyword_set, start, end, rules)
            # What the viewer gets is the window after autocut: it must still fit the limits.
            if features["edited_s"] < rules.min_s:
                continue
            text = " ".join(s.text for s in span_sentences)
            found.append(
                Candidate(
                    video_key=video_key,
                    start_time=round(start, 3),
                    end_time=round(end, 3),
                    text=text,
                    features=features,
                    score=score_window(features),
                    semantic_tags=tuple(sorted({k for k in keyword_set if k in text.lower()}))[:8],
                )
            )
    found.sort(key=lambda c: (-c.score, c.start_time))
    return found[: rules.max_candidates]


def window_features(
    sentences: Sequence[Sentence],
    words: Sequence[Word],
    silences: Sequence[tuple[float, float]],
    keyword_set: set[str],
    start: float,
    end: float,
    rules: CandidateRules,
) -> dict:
    length = end - start
    silent = sum(overlap_s((start, end), s) for s in silences)
    cut = sum(
        o - 2 * rules.cut_margin_s
        for o in (overlap_s((start, end), s) for s in silences)
        if o > rules.cut_gap_s
    )
    tokens = [re.sub(r"[^\w']", "", w.word).lower() for w in words]
    kw_hits = sum(1 for t in tokens if t in keyword_set)
    first_text = sentences[0].text.strip()
    last_text = sentences[-1].text.strip()
    return {
        "duration_s": round(length, 3),
        "edited_s": round(length - cut, 3),
        "sentences": len(sentences),
        "words": len(words),
        "words_per_s": round(len(words) / length, 3) if length else 0.0,
        "silence_ratio": round(min(1.0, silent / length), 3) if length else 1.0,
        "keyword_density": round(kw_hits / max(1, len(words)), 3),
        "hook": bool(HOOK_PATTERNS.search(first_text)) or first_text.endswith("?"),
        "ends_complete": last_text.endswith((".", "!", "?")),
        "length_fit": round(max(0.0, 1.0 - abs(length - cut - rules.target_s) / rules.target_s), 3),
    }


def score_window(features: dict) -> float:
    """A transparent 0..1 score; Pantheon's agents weigh the same features their own way."""
    pace = min(1.0, features["words_per_s"] / 2.5)
    score = (
        0.30 * features["length_fit"]
        + 0.20 * pace
        + 0.20 * min(1.0, features["keyword_density"] * 6)
        + 0.15 * (1.0 - features["silence_ratio"])
        + 0.10 * float(features["hook"])
        + 0.05 * float(features["ends_complete"])
    )
    return round(max(0.0, min(1.0, score)), 4)


@dataclass(frozen=True, slots=True)
class VideoScores:
    """A whole video's heuristic scores (the ``analysis`` row): how much of it is speech, how
    lively the speech is, how much it is about something."""

    speech_ratio: float
    virality: float
    relevance: float


def video_scores(
    duration_s: float,
    silences: Sequence[tuple[float, float]],
    words: int,
    entities: int,
    keywords: int,
) -> VideoScores:
    """Speech ratio (1 - silent share); virality from pace (words per spoken second against
    2.5), speech ratio and named entities; relevance from the number of keywords (12 is 1.0).
    Engagement data is not used yet."""
    silent = sum(overlap_s((0, duration_s), s) for s in silences)
    speech_ratio = round(max(0.0, 1 - silent / duration_s), 3) if duration_s else 0.0
    wps = words / max(1.0, duration_s * speech_ratio)
    virality = round(
        min(1.0, 0.5 * min(1.0, wps / 2.5) + 0.3 * speech_ratio + 0.2 * min(1.0, entities / 5)), 3
    )
    return VideoScores(speech_ratio, virality, round(min(1.0, keywords / 12), 3))
