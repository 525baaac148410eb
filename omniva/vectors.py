"""Embedding vectors in records, and the arithmetic over them (pure numpy).

Records carry vectors as float16 bytes (``to_bytes``/``from_bytes``): compact, picklable and
hashable for data versions. Rows are L2-normalised, so cosine similarity is a dot product.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def to_bytes(vectors: np.ndarray) -> bytes:
    return np.asarray(vectors, dtype=np.float16).tobytes()


def from_bytes(blob: bytes, dim: int) -> np.ndarray:
    if not blob or not dim:
        return np.zeros((0, max(dim, 1)), dtype=np.float32)
    return np.frombuffer(blob, dtype=np.float16).astype(np.float32).reshape(-1, dim)


def normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    if v.ndim == 1:
        n = float(np.linalg.norm(v))
        return v / n if n > 0 else v
    n = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.where(n > 0, n, 1.0)


def centroid(vectors: np.ndarray) -> np.ndarray:
    """The normalised mean of some rows (a zero vector for none)."""
    if len(vectors) == 0:
        return np.zeros(vectors.shape[1] if vectors.ndim == 2 else 1, dtype=np.float32)
    return normalise(vectors.mean(axis=0))


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(normalise(a), normalise(b)))


def percentile_ranks(values: Sequence[float]) -> list[float]:
    """Each value's rank among ``values`` in 0..1 (ties share their mean rank; one value: 0.5).
    What "calibrated within the video" means for a candidate's feature."""
    n = len(values)
    if n == 0:
        return []
    if n == 1:
        return [0.5]
    order = sorted(range(n), key=lambda i: values[i])
    ranks = [0.0] * n
    i = 0
    while i < n:
        j = i
        while j + 1 < n and values[order[j + 1]] == values[order[i]]:
            j += 1
        mean_rank = (i + j) / 2 / (n - 1)
        for k in range(i, j + 1):
            ranks[order[k]] = round(mean_rank, 4)
        i = j + 1
    return ranks
