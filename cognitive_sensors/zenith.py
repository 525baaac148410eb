"""Zenith: which partitions run next, and why. Pure functions; sensors, CLI and API wrap them.

Every decision carries a reason, so the Dagster UI's run request list (and the
tick history, and ``zenith_decisions`` in the warehouse) explains what was asked for,
what was skipped, deferred or refused, and in which order by Lattice's priority.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

QUARANTINED = "quarantined by Eclipse"
DONE = "already materialized"

# A priority: Lattice's 0..1 value, or the value with its reason (``lattice.clip_priority``).
Priority = float | tuple[float, str]


@dataclass(frozen=True, slots=True)
class Decision:
    partition_key: str
    action: str  # "request" | "skip" | "defer" | "refuse"
    reason: str


def decide_partitions(
    candidates: Iterable[str],
    materialized: Collection[str] = frozenset(),
    quarantined: Collection[str] = frozenset(),
    *,
    crisis: str | None = None,
    requested: str = "new",
    priorities: Mapping[str, Priority] | None = None,
    selected: Mapping[str, Collection[int]] | None = None,
) -> list[Decision]:
    """Zenith's gate, the one rule every launcher applies.

    Each candidate is decided once, highest Lattice priority first (``priorities``: key ->
    0..1 or (value, reason); unlisted keys 0.5; ties keep their order): skipped when Eclipse
    quarantined it; for clip keys (``RANK|VIDEO_KEY``) when ``selected`` (video key -> the
    ranks Pantheon selected) is given, refused when Pantheon did not select it and deferred
    while Pantheon has not voted on its video; skipped when already materialized; deferred
    (with the crisis as the reason) while its stage is in crisis; otherwise requested with the reason
    ``requested`` and, when priorities are given, the priority's. Pass no ``materialized`` to
    request again what exists (a forced or explicit re-run).
    """
    ranked = _by_priority(list(dict.fromkeys(candidates)), priorities or {})
    out: list[Decision] = []
    for key in ranked:
        gate = _gate(key, materialized, quarantined, selected, crisis)
        if gate is not None:
            out.append(Decision(key, *gate))
            continue
        why = requested
        if priorities is not None:
            why = f"{requested}; {_priority_reason(priorities.get(key, 0.5))}"
        out.append(Decision(key, "request", why))
    return out


def _gate(
    key: str,
    materialized: Collection[str],
    quarantined: Collection[str],
    selected: Mapping[str, Collection[int]] | None,
    crisis: str | None,
) -> tuple[str, str] | None:
    """(action, reason) when ``key`` may not run now, else None."""
    if key in quarantined:
        return "skip", QUARANTINED
    if selected is not None:
        refusal = selection_refusal(key, selected)
        if refusal is not None:
            return refusal
    if key in materialized:
        return "skip", DONE
    if crisis:
        return "defer", crisis
    return None


def selection_refusal(key: str, selected: Mapping[str, Collection[int]]) -> tuple[str, str] | None:
    """Why the clip partition ``key`` (``RANK|VIDEO_KEY``) may not run under Pantheon's
    ``selected`` ranks per video: refused when not selected, deferred when its video has no
    selection yet; None when selected (or when ``key`` is not a clip key)."""
    rank, sep, video = key.partition("|")
    if not sep or not rank.isdigit() or not video:
        return None
    if video not in selected:
        return "defer", f"Pantheon has not voted on {video} yet"
    ranks = sorted(int(r) for r in selected[video])
    if int(rank) in ranks:
        return None
    chosen = f"it selected ranks {', '.join(map(str, ranks))}" if ranks else "it selected no clips"
    return "refuse", f"not selected by Pantheon for {video}: {chosen}"


def priority_value(priority: Priority) -> float:
    return float(priority[0] if isinstance(priority, tuple) else priority)


def _priority_reason(priority: Priority) -> str:
    if isinstance(priority, tuple):
        return priority[1]
    return f"priority {float(priority):.2f}"


def _by_priority(keys: list[str], priorities: Mapping[str, Priority]) -> list[str]:
    # sorted() is stable: equal priorities keep the order the launcher listed them in.
    return sorted(keys, key=lambda k: -priority_value(priorities.get(k, 0.5)))


def requested_keys(decisions: Iterable[Decision]) -> list[str]:
    return [d.partition_key for d in decisions if d.action == "request"]


def new_partition_keys(wanted: Sequence[str], existing: Collection[str]) -> list[str]:
    return [k for k in dict.fromkeys(wanted) if k not in existing]
