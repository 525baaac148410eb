"""Topic segments of a transcript: TextTiling (Hearst, 1997) over sentence embeddings.

At every gap between two sentences, compare the block of ``block`` sentences before it with the
block after it (cosine of their centroids). A topic shift is a gap whose similarity dips well
below its neighbourhood: its *depth* (how far the similarity climbs back on each side) is above
the cut-off mean + std of all depths (stricter than Hearst's mean - std/2: a Short wants whole
topics, not paragraphs) and above an absolute floor, so a talk that never changes subject is
one segment. A long pause strengthens a gap. Clip
candidates are built inside segments: a clip never spans two topics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from omniva.vectors import centroid


@dataclass(frozen=True, slots=True)
class TopicRules:
    block: int = 3  # sentences each side of a gap
    min_depth: float = 0.05  # a dip shallower than this is never a topic shift
    pause_s: float = 1.5  # a pause this long before a sentence ...
    pause_bonus: float = 0.02  # ... adds this much depth to its gap
    min_sentences: int = 3  # the fewest sentences in a segment


def gap_similarities(vectors: np.ndarray, block: int) -> list[float]:
    """Similarity across each gap i (between sentence i-1 and i), for i in 1..n-1."""
    sims = []
    for i in range(1, len(vectors)):
        left = centroid(vectors[max(0, i - block) : i])
        right = centroid(vectors[i : i + block])
        sims.append(float(np.dot(left, right)))
    return sims


def depth_scores(sims: Sequence[float]) -> list[float]:
    """Hearst's depth: climb from each gap to the nearest peak on each side."""
    depths = []
    for i, s in enumerate(sims):
        lp = s
        for v in reversed(sims[:i]):
            if v < lp:
                break
            lp = v
        rp = s
        for v in sims[i + 1 :]:
            if v < rp:
                break
            rp = v
        depths.append((lp - s) + (rp - s))
    return depths


def segment(
    vectors: np.ndarray,
    starts: Sequence[float],
    ends: Sequence[float],
    rules: TopicRules = TopicRules(),
) -> tuple[tuple[int, int], ...]:
    """Segments as (first, last) sentence indexes, inclusive, covering all sentences in order.

    ``starts``/``ends``: each sentence's times (for pauses)."""
    n = len(vectors)
    if n == 0:
        return ()
    if n < 2 * rules.min_sentences:
        return ((0, n - 1),)
    sims = gap_similarities(vectors, rules.block)
    depths = depth_scores(sims)
    for i in range(len(depths)):
        if starts[i + 1] - ends[i] >= rules.pause_s:
            depths[i] += rules.pause_bonus
    arr = np.asarray(depths)
    cutoff = max(rules.min_depth, float(arr.mean() + arr.std()))
    # Strongest gaps first; keep one only if both sides keep enough sentences.
    chosen: list[int] = []  # gap index g: a boundary before sentence g + 1
    for g in sorted(range(len(depths)), key=lambda g: -depths[g]):
        if depths[g] < cutoff:
            break
        cut = g + 1
        edges = sorted([0, *[c + 1 for c in chosen], cut, n])
        if all(b - a >= rules.min_sentences for a, b in zip(edges, edges[1:], strict=False)):
            chosen.append(g)
    cuts = sorted(c + 1 for c in chosen)
    edges = [0, *cuts, n]
    return tuple((a, b - 1) for a, b in zip(edges, edges[1:], strict=False))
