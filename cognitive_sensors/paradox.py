"""Paradox: duplicates and contradictions, as pure functions the blocking checks call."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from omniva.candidates import overlap_s
from omniva.records import Selection


def clip_conflicts(spans: Sequence[tuple[float, float]], duration_s: float) -> list[str]:
    """Empty, reversed, out-of-bounds or overlapping clips."""
    problems = []
    for i, (start, end) in enumerate(spans):
        if start >= end:
            problems.append(f"rank {i + 1} starts at {start:.2f}s, not before its end {end:.2f}s")
        if start < 0 or end > duration_s + 0.01:
            problems.append(
                f"rank {i + 1} ({start:.2f}–{end:.2f}s) lies outside the video (0–{duration_s:.2f}s)"
            )
        problems += [
            f"ranks {i + 1} and {j} overlap"
            for j, other in enumerate(spans[i + 1 :], i + 2)
            if overlap_s((start, end), other) > 0
        ]
    return problems


def quorum_violations(selection: Selection, weights: Mapping[str, float]) -> list[str]:
    """Selected clips without quorum, or with a veto that was overridden."""
    problems = []
    for clip in selection.clips:
        total = sum(weights.get(v.agent, 1.0) for v in clip.votes) or 1.0
        yes = sum(weights.get(v.agent, 1.0) for v in clip.votes if v.vote == "yes")
        if yes / total < selection.quorum:
            problems.append(f"rank {clip.rank}: {yes / total:.0%} yes is below quorum {selection.quorum:.0%}")
        problems += [
            f"rank {clip.rank}: veto by {v.agent} overridden ({v.reason})"
            for v in clip.votes
            if v.vote == "veto"
        ]
    return problems


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {tuple(words[i : i + n]) for i in range(max(0, len(words) - n + 1))}


def near_duplicates(
    text: str, others: Mapping[str, str], threshold: float = 0.6, n: int = 5
) -> list[tuple[str, float]]:
    """Other transcripts that say the same thing (Jaccard similarity of word n-grams ≥ threshold).

    Catches the same speech re-uploaded by another creator or re-encoded, where the file
    checksum differs but the words do not.
    """
    mine = shingles(text, n)
    if len(mine) < 3:
        return []
    out = []
    for key, other in others.items():
        theirs = shingles(other, n)
        if theirs:
            sim = len(mine & theirs) / len(mine | theirs)
            if sim >= threshold:
                out.append((key, round(sim, 3)))
    return sorted(out, key=lambda t: -t[1])


def titles_in_use(title: str, used: Mapping[str, str]) -> list[str]:
    """Clips on the channel that already carry this title (case and spacing ignored)."""
    return [clip for clip, t in used.items() if _norm(t) == _norm(title)]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())
