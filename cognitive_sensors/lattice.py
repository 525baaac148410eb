"""Lattice: run priority and routing tags per partition. Pure functions.

Dagster runs higher ``dagster/priority`` first in the queued run coordinator; the
``omniva/lane`` tag groups work for concurrency limits in ``dagster.yaml`` (one upload
at a time per channel, GPU work limited to the GPUs there are).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from omniva.vectors import percentile_ranks

STAGE_BASE = {"posts": 10, "video": 20, "clip": 30, "publish_plan": 40, "upload": 50}


def route(
    stage: str,
    priority: float = 0.5,
    gpu: bool = False,
    channel: str | None = None,
    posted_at: datetime | None = None,
    now: datetime | None = None,
    creator: str | None = None,
) -> dict[str, str]:
    """Tags for one run: later stages first (finish what is started), then by value and freshness."""
    freshness = 0.0
    if posted_at is not None:
        age_days = ((now or datetime.now(UTC)) - posted_at).total_seconds() / 86400
        freshness = max(0.0, 1.0 - age_days / 7)  # a week-old post has no freshness bonus
    score = STAGE_BASE.get(stage, 0) + round(10 * max(0.0, min(1.0, priority))) + round(5 * freshness)
    tags = {"dagster/priority": str(score), "omniva/stage": stage, "omniva/lane": "gpu" if gpu else "cpu"}
    if stage == "upload" and channel:
        tags["omniva/channel"] = channel
    if creator:
        tags["omniva/creator"] = creator  # fairness: dagster.yaml limits runs per creator
    return tags


def engagement_priorities(engagement: Mapping[str, tuple[int | None, int | None]]) -> dict[str, float]:
    """Each video's priority (0..1) from its views and likes (``key -> (views, likes)``), ranked
    within the batch: 0.7 x the views' percentile + 0.3 x the like rate's. Videos without counts
    stay at 0.5 (neutral); so does a batch with a single counted video."""
    counted = {k: (views, likes or 0) for k, (views, likes) in engagement.items() if views}
    out = {k: 0.5 for k in engagement}
    if len(counted) < 2:
        return out
    keys = sorted(counted)
    views = percentile_ranks([float(counted[k][0]) for k in keys])
    rates = percentile_ranks([counted[k][1] / counted[k][0] for k in keys])
    for k, v, r in zip(keys, views, rates, strict=True):
        out[k] = round(0.7 * v + 0.3 * r, 4)
    return out
