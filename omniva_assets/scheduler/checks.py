"""The Scheduler's check: Paradox on the publish plan."""

from __future__ import annotations

import dagster as dg

from cognitive_sensors.horizon import double_booked
from omniva.records import PublishPlan

NO_DOUBLE_BOOKING = dg.AssetCheckSpec(
    "no_double_booking",
    asset="publish_plan",
    blocking=True,
    description="Paradox: one upload per slot per channel, daily quota kept",
)


def no_double_booking(plan: PublishPlan, time_zone: str = "UTC") -> dg.AssetCheckResult:
    problems = double_booked(plan, time_zone)
    return dg.AssetCheckResult(
        check_name=NO_DOUBLE_BOOKING.name,
        passed=not problems,
        description="; ".join(problems) or "every slot holds one upload",
    )
