"""Edit decision lists: which spans of the source a clip keeps, and why others go.

First pass of autocut: silences longer than ``max_gap_s`` inside the clip are cut,
keeping ``margin_s`` of air on each side, and never inside a word.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from omniva.records import Word


@dataclass(frozen=True, slots=True)
class AutocutRules:
    max_gap_s: float = 0.75
    margin_s: float = 0.2
    min_keep_s: float = 0.3


def plan_keep_spans(
    start: float,
    end: float,
    words: Sequence[Word],
    silences: Sequence[tuple[float, float]],
    rules: AutocutRules = AutocutRules(),
) -> tuple[list[tuple[float, float]], list[tuple[float, float, str]]]:
    """Return (keep, removed) spans inside [start, end]."""
    inside = [w for w in words if w.end > start and w.start < end]
    removed: list[tuple[float, float, str]] = []
    for s0, s1 in silences:
        a, b = max(start, s0) + rules.margin_s, min(end, s1) - rules.margin_s
        if b - a < rules.max_gap_s - 2 * rules.margin_s or b <= a:
            continue
        # Never cut into a word whose timing overlaps the silence (ASR word ends are loose).
        for w in inside:
            if w.start < b and w.end > a:
                if w.start - a >= b - w.end:
                    b = min(b, w.start)
                else:
                    a = max(a, w.end)
        if b - a >= rules.max_gap_s - 2 * rules.margin_s and b > a:
            removed.append((round(a, 3), round(b, 3), f"silence {s1 - s0:.2f}s"))
    keep: list[tuple[float, float]] = []
    cursor = start
    for a, b, _ in sorted(removed):
        if a - cursor >= rules.min_keep_s:
            keep.append((round(cursor, 3), round(a, 3)))
        cursor = b
    if end - cursor >= rules.min_keep_s or not keep:
        keep.append((round(cursor, 3), round(end, 3)))
    return keep, removed
