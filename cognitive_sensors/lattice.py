"""Lattice: run priority and routing tags per partition. Pure functions.

Dagster runs higher ``dagster/priority`` first in the queued run coordinator; the
``omniva/lane`` tag groups work for concurrency limits in ``dagster.yaml`` (one upload
at a time per channel, GPU work limited to the GPUs there are). A clip's priority
(``clip_priority``) weighs Pantheon's consensus, the post's age and Horizon's topic gap;
a stage takes the GPU lane only when its tool is configured for one (``gpu_lane``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from omniva.vectors import percentile_ranks

STAGE_BASE = {"posts": 10, "video": 20, "clip": 30, "publish_plan": 40, "upload": 50}
# The stages whose heavy step can run on a GPU: transcription (video) and the render (clip).
GPU_STAGES = frozenset({"video", "clip"})
GPU_ENCODER_SUFFIXES = ("_nvenc", "_cuda")
FRESHNESS_HALF_LIFE_H = 72.0  # a three-day-old post counts half as fresh as a new one
# Weights of the priority's terms; engagement, when the platform gave counts, takes its share
# from the others in proportion.
CLIP_WEIGHTS = {"consensus": 0.5, "freshness": 0.3, "gap": 0.2}
ENGAGEMENT_WEIGHT = 0.15


def gpu_lane(stage: str, encoder: str | None = None, asr_device: str | None = None) -> bool:
    """Whether ``stage`` belongs in the GPU lane: a render with a GPU encoder configured
    (``h264_nvenc``), a transcription with GPU ASR (device ``cuda`` or ``cuda:N``)."""
    if stage == "clip":
        return bool(encoder) and str(encoder).endswith(GPU_ENCODER_SUFFIXES)
    if stage == "video":
        return bool(asr_device) and str(asr_device).split(":")[0] == "cuda"
    return False


def freshness(post_age_h: float | None) -> float:
    """1 for a post made now, halving every ``FRESHNESS_HALF_LIFE_H``; 0.5 when the age is unknown."""
    if post_age_h is None:
        return 0.5
    return float(0.5 ** (max(0.0, post_age_h) / FRESHNESS_HALF_LIFE_H))


def clip_priority(
    consensus: float,
    post_age_h: float | None,
    horizon_gap: float,
    engagement: float | None = None,
) -> tuple[float, str]:
    """A clip's priority (0..1) and a one-line reason naming each term.

    Better consensus first (Pantheon's weighted yes, 0..1), newer posts first (``freshness``),
    topics Horizon is short of first (``horizon_gap``: target share minus this week's share of
    the clip's topic, -1..1; 0 when the clip has no goal topic), and, when given, the video's
    engagement priority (``engagement_priorities``, 0..1).
    """
    terms = {
        "consensus": _unit(consensus),
        "freshness": freshness(post_age_h),
        "gap": _unit(0.5 + horizon_gap),
    }
    weights = dict(CLIP_WEIGHTS)
    if engagement is not None:
        weights = {k: w * (1 - ENGAGEMENT_WEIGHT) for k, w in weights.items()}
        weights["engagement"] = ENGAGEMENT_WEIGHT
        terms["engagement"] = _unit(engagement)
    priority = round(sum(weights[k] * terms[k] for k in terms), 4)
    age = "post age unknown" if post_age_h is None else f"posted {post_age_h:.0f} h ago"
    parts = [
        f"consensus {terms['consensus']:.2f}",
        f"{age} (freshness {terms['freshness']:.2f})",
        f"Horizon gap {horizon_gap:+.0%}",
    ]
    if engagement is not None:
        parts.append(f"engagement {terms['engagement']:.2f}")
    return priority, f"priority {priority:.2f}: " + ", ".join(parts)


def _unit(x: float) -> float:
    return max(0.0, min(1.0, float(x)))


def route(
    stage: str,
    priority: float = 0.5,
    gpu: bool = False,
    channel: str | None = None,
    posted_at: datetime | None = None,
    now: datetime | None = None,
    creator: str | None = None,
) -> dict[str, str]:
    """Tags for one run: later stages first (finish what is started), then by value and freshness.

    ``gpu`` puts a GPU-capable stage (``GPU_STAGES``; decide it with ``gpu_lane``) in the GPU
    lane; other stages stay on the CPU whatever is passed, since nothing there uses a GPU."""
    freshness = 0.0
    if posted_at is not None:
        age_days = ((now or datetime.now(UTC)) - posted_at).total_seconds() / 86400
        freshness = max(0.0, 1.0 - age_days / 7)  # a week-old post has no freshness bonus
    score = STAGE_BASE.get(stage, 0) + round(10 * max(0.0, min(1.0, priority))) + round(5 * freshness)
    tags = {
        "dagster/priority": str(score),
        "omniva/stage": stage,
        "omniva/lane": "gpu" if gpu and stage in GPU_STAGES else "cpu",
    }
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
