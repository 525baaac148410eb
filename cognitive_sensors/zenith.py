"""Zenith: which partitions run next, and why. Pure functions; sensors, CLI and API wrap them.

Every decision carries a reason, so the Dagster UI's run request list (and the
tick history, and ``zenith_decisions`` in the warehouse) explains what was asked for
and what was skipped.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

QUARANTINED = "quarantined by Eclipse"
DONE = "already materialized"


@dataclass(frozen=True, slots=True)
class Decision:
    partition_key: str
    action: str  # "request" | "skip" | "defer"
    reason: str


def decide_partitions(
    candidates: Iterable[str],
    materialized: Collection[str] = frozenset(),
    quarantined: Collection[str] = frozenset(),
    *,
    crisis: str | None = None,
    requested: str = "new",
) -> list[Decision]:
    """Zenith's gate, the one rule every launcher applies.

    Each candidate is decided once: skipped when Eclipse quarantined it, skipped when it is
    already materialized, deferred (with the crisis as the reason) while its stage is in
    crisis, otherwise requested with the reason ``requested``. Pass no ``materialized`` to
    request again what exists (a forced or explicit re-run).
    """
    out, seen = [], set()
    for key in candidates:
        if key in seen:
            continue
        seen.add(key)
        if key in quarantined:
            out.append(Decision(key, "skip", QUARANTINED))
        elif key in materialized:
            out.append(Decision(key, "skip", DONE))
        elif crisis:
            out.append(Decision(key, "defer", crisis))
        else:
            out.append(Decision(key, "request", requested))
    return out


def requested_keys(decisions: Iterable[Decision]) -> list[str]:
    return [d.partition_key for d in decisions if d.action == "request"]


def new_partition_keys(wanted: Sequence[str], existing: Collection[str]) -> list[str]:
    return [k for k in dict.fromkeys(wanted) if k not in existing]
