"""Horizon's goals (``config/horizon.yaml``) and the pure arithmetic over them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "config" / "horizon.yaml"


@dataclass(frozen=True)
class Goals:
    project: str = "omniva-demo"
    channel: str = "omniva-demo"
    daily_quota: int = 5
    weekly_cadence: int = 21
    content_mix: Mapping[str, float] = field(default_factory=dict)
    topics: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    weights: Mapping[str, float] = field(default_factory=dict)
    quorum: float = 0.5
    banned_words: tuple[str, ...] = ()
    tone: str = "plain"


@cache
def load_goals(path: str | None = None) -> Goals:
    """The goals in ``path``; None: ``config/horizon.yaml`` (the ``horizon`` resource names
    another file, from ``OMNIVA_HORIZON_FILE``)."""
    file = Path(path or DEFAULT_FILE)
    data = yaml.safe_load(file.read_text()) or {}
    pantheon = data.get("pantheon") or {}
    return Goals(
        project=data.get("project", "omniva-demo"),
        channel=data.get("channel", "omniva-demo"),
        daily_quota=int(data.get("daily_quota", 5)),
        weekly_cadence=int(data.get("weekly_cadence", 21)),
        content_mix={k: float(v) for k, v in (data.get("content_mix") or {}).items()},
        topics={k: tuple(str(w) for w in v) for k, v in (data.get("topics") or {}).items()},
        weights={k: float(v) for k, v in (pantheon.get("weights") or {}).items()},
        quorum=float(pantheon.get("quorum", 0.5)),
        banned_words=tuple(str(w).lower() for w in pantheon.get("banned_words") or ()),
        tone=(data.get("chorus") or {}).get("tone", "plain"),
    )


def topic_of(similarities: Mapping[str, float], baseline: float) -> str | None:
    """The goal topic a clip is closest to (cosine of its embedding to each topic's examples),
    or None when it is closer to the off-topic examples (``baseline``) than to any topic."""
    if not similarities:
        return None
    best = max(sorted(similarities), key=lambda t: similarities[t])
    return best if similarities[best] > baseline else None


def mix_gap(goals: Goals, counts: Mapping[str, int]) -> dict[str, float]:
    """Target share minus actual share per topic (positive: the channel needs more of it)."""
    total = sum(counts.get(t, 0) for t in goals.content_mix) or 0
    return {
        t: round(share - (counts.get(t, 0) / total if total else 0.0), 3)
        for t, share in goals.content_mix.items()
    }


def progress(goals: Goals, uploads_this_week: int, counts: Mapping[str, int]) -> dict[str, Any]:
    return {
        "weekly_uploads": uploads_this_week,
        "weekly_target": goals.weekly_cadence,
        "cadence_progress": round(uploads_this_week / goals.weekly_cadence, 3)
        if goals.weekly_cadence
        else None,
        "mix_actual": dict(counts),
        "mix_target": dict(goals.content_mix),
        "mix_gap": mix_gap(goals, counts),
    }
