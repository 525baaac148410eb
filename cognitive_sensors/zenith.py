"""Zenith: which partitions run next, and why. Pure functions; the sensors wrap them.

Every decision carries a reason, so the Dagster UI's run request list (and the
tick history) explains what was asked for and what was skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decision:
    partition_key: str
    action: str  # "request" | "skip"
    reason: str


def decide_partitions(
    candidates: Iterable[str],
    materialized: set[str],
    quarantined: set[str] = frozenset(),
) -> list[Decision]:
    """Request each candidate once; skip what is done or quarantined."""
    out, seen = [], set()
    for key in candidates:
        if key in seen:
            continue
        seen.add(key)
        if key in quarantined:
            out.append(Decision(key, "skip", "quarantined by Eclipse"))
        elif key in materialized:
            out.append(Decision(key, "skip", "already materialized"))
        else:
            out.append(Decision(key, "request", "new"))
    return out


def new_partition_keys(wanted: Sequence[str], existing: set[str]) -> list[str]:
    return [k for k in dict.fromkeys(wanted) if k not in existing]
