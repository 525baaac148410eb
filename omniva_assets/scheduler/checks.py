"""The Scheduler's check: Paradox on the publish plan."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from cognitive_sensors.horizon import PlanRules, double_booked
from omniva.records import PublishPlan

NO_DOUBLE_BOOKING = dg.AssetCheckSpec(
    "no_double_booking",
    asset="publish_plan",
    blocking=True,
    description="Paradox: one upload per slot per channel, daily quota kept",
)


def no_double_booking(
    plan: PublishPlan,
    rules: PlanRules,
    by_channel: Mapping[str, PlanRules] | None = None,
    committed: Collection[str] = (),
) -> dg.AssetCheckResult:
    """One upload per slot per channel; no day over its channel's cadence (the project's own,
    #29, else the deployment's) among the days this plan placed a clip on (slots planned
    before a cadence was lowered never move, so their days are not counted against it)."""
    by_channel = by_channel or {}
    problems = []
    for channel in sorted({s.channel for s in plan.slots}):
        own = by_channel.get(channel, rules)
        mine = tuple(s for s in plan.slots if s.channel == channel)
        found = double_booked(PublishPlan(mine, own.daily_quota, own.slot_times_utc), own.time_zone)
        new_days = {_day(s.publish_at, own.time_zone) for s in mine if s.clip_key not in committed}
        problems += [p for p in found if " share " in p or any(f" on {d} " in p for d in new_days)]
    return dg.AssetCheckResult(
        check_name=NO_DOUBLE_BOOKING.name,
        passed=not problems,
        description="; ".join(problems) or "every slot holds one upload",
    )


def _day(publish_at: str, zone: str) -> str:
    return (
        datetime.fromisoformat(publish_at.replace("Z", "+00:00"))
        .astimezone(ZoneInfo(zone))
        .date()
        .isoformat()
    )
