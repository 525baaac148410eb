"""Horizon's first duty: a publish plan that honours the cadence and YouTube's limits, one upload per slot.

Pure function: given the clips ready to publish (with priorities) and the slots
already committed, assign each new clip the earliest free slot. Committed slots
never move, so re-planning is stable and idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from omniva.records import PlannedSlot, PublishPlan


@dataclass(frozen=True, slots=True)
class ReadyClip:
    clip_id: str
    clip_key: str
    channel: str
    priority: float


@dataclass(frozen=True, slots=True)
class PlanRules:
    """The project's cadence (``daily_quota`` clips a day per channel at ``slot_times_utc``)
    and what YouTube allows: ``project_daily_uploads`` publications a day for the whole
    Google Cloud project (its quota buckets; None: unbounded), named by ``project_limit``
    (e.g. "the videos.insert bucket (100 calls a day)"), and ``channel_daily_uploads``
    uploads a day per channel (YouTube's per-channel limit; 0: not known)."""

    daily_quota: int = 5
    slot_times_utc: tuple[str, ...] = ("14:00", "16:00", "18:00", "20:00", "22:00")
    horizon_days: int = 60
    lead_time: timedelta = timedelta(hours=1)
    project_daily_uploads: int | None = None
    project_limit: str = "the project's YouTube quota"
    channel_daily_uploads: int = 0
    #: The zone ``slot_times_utc`` are read in and days are counted in (the project's
    #: audience); "UTC" keeps the field's name true.
    time_zone: str = "UTC"


def _zone(name: str) -> tzinfo:
    if name in ("", "UTC"):
        return UTC
    return ZoneInfo(name)


def _local_day(iso: str, rules: PlanRules) -> str:
    """The day (in the plan's zone) a ``publish_at`` falls on."""
    return _parse(iso).astimezone(_zone(rules.time_zone)).date().isoformat()


def _slots(day: datetime, rules: PlanRules) -> list[datetime]:
    """The cadence's slots on ``day``'s date in the plan's zone, as UTC datetimes."""
    zone = _zone(rules.time_zone)
    times = sorted(time.fromisoformat(t) for t in rules.slot_times_utc)[: rules.daily_quota]
    return [datetime.combine(day.date(), t, tzinfo=zone).astimezone(UTC) for t in times]


def slot_times(day: datetime, rules: PlanRules) -> list[datetime]:
    """The cadence's slots on ``day``'s date in the plan's zone, as UTC datetimes (the calendar's
    free slots, and the slots a clip may be moved to)."""
    return _slots(day, rules)


def plan_publish(
    ready: Sequence[ReadyClip],
    committed: Iterable[PlannedSlot],
    now: datetime,
    rules: PlanRules = PlanRules(),
) -> PublishPlan:
    """Fill the cadence's slots from the ranked clips, earliest first.

    Each channel gets at most ``daily_quota`` clips a day (its cadence). A day is also closed
    to a clip when the project's quota for it (counted per Pacific quota day, the day each
    clip is assumed uploaded) or the channel's upload limit is reached: the clip goes to a
    later day and its reason says which limit moved it. A clip with no day left within
    ``horizon_days`` is deferred with the limits that filled the window.
    """
    committed = list(committed)
    taken = {(s.channel, s.publish_at) for s in committed}
    known = {s.clip_key for s in committed}
    per_day: dict[tuple[str, str], int] = {}
    per_project: dict[str, int] = {}
    for s in committed:
        key = (s.channel, _local_day(s.publish_at, rules))
        per_day[key] = per_day.get(key, 0) + 1
        qday = quota_day(_parse(s.publish_at))
        per_project[qday] = per_project.get(qday, 0) + 1
    channel_cap = rules.channel_daily_uploads or None
    cadence = min(rules.daily_quota, channel_cap) if channel_cap else rules.daily_quota
    slots = list(committed)
    deferred: list[tuple[str, str]] = []
    earliest = now + rules.lead_time
    start = earliest.astimezone(_zone(rules.time_zone))
    for clip in sorted(ready, key=lambda c: (-c.priority, c.clip_key)):
        if clip.clip_key in known:
            continue
        placed = None
        moved: dict[str, str] = {}  # limit -> first day it closed for this clip
        for offset in range(rules.horizon_days):
            day = start + timedelta(days=offset)
            if per_day.get((clip.channel, day.date().isoformat()), 0) >= cadence:
                if channel_cap and cadence < rules.daily_quota:
                    moved.setdefault(
                        f"channel {clip.channel}'s daily upload limit ({channel_cap})", day.date().isoformat()
                    )
                continue
            for at in _slots(day, rules):
                iso = at.strftime("%Y-%m-%dT%H:%M:%SZ")
                if at < earliest or (clip.channel, iso) in taken:
                    continue
                qday = quota_day(at)
                if (
                    rules.project_daily_uploads is not None
                    and per_project.get(qday, 0) >= rules.project_daily_uploads
                ):
                    moved.setdefault(
                        f"{rules.project_limit}: {rules.project_daily_uploads} publication(s) a day", qday
                    )
                    continue
                placed = (at, iso)
                break
            if placed:
                break
        if placed is None:
            why = f"no free slot within {rules.horizon_days} days"
            if moved:
                why += " (full: " + "; ".join(f"{limit} from {d}" for limit, d in moved.items()) + ")"
            deferred.append((clip.clip_key, why))
            continue
        at, iso = placed
        local = _local_day(iso, rules)
        taken.add((clip.channel, iso))
        per_day[(clip.channel, local)] = per_day.get((clip.channel, local), 0) + 1
        per_project[quota_day(at)] = per_project.get(quota_day(at), 0) + 1
        reason = (
            f"priority {clip.priority:.2f}: earliest free slot on {local} "
            f"({per_day[(clip.channel, local)]}/{rules.daily_quota} that day)"
        )
        if moved:
            reason += "; moved past " + "; ".join(f"{limit} (full on {d})" for limit, d in moved.items())
        slots.append(PlannedSlot(clip.clip_id, clip.clip_key, clip.channel, iso, clip.priority, reason))
    slots.sort(key=lambda s: (s.publish_at, s.channel))
    return PublishPlan(tuple(slots), rules.daily_quota, rules.slot_times_utc, tuple(deferred))


def _parse(iso: str) -> datetime:
    at = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def double_booked(plan: PublishPlan, time_zone: str = "UTC") -> list[str]:
    """Paradox: slots used twice on one channel, and days (in the plan's zone) over quota."""
    zone = _zone(time_zone)
    seen: dict[tuple[str, str], str] = {}
    problems = []
    per_day: dict[tuple[str, str], int] = {}
    for s in plan.slots:
        key = (s.channel, s.publish_at)
        if key in seen:
            problems.append(f"{s.clip_key} and {seen[key]} share {s.publish_at} on {s.channel}")
        seen[key] = s.clip_key
        day = _parse(s.publish_at).astimezone(zone).date().isoformat()
        per_day[(s.channel, day)] = per_day.get((s.channel, day), 0) + 1
    problems += [
        f"{c} has {n} uploads on {d} (quota {plan.daily_quota})"
        for (c, d), n in per_day.items()
        if n > plan.daily_quota
    ]
    return problems


# ----------------------------------------------------------------- quota days
#: YouTube's daily quota resets at midnight Pacific time (PST/PDT, DST included).
QUOTA_TIMEZONE = "America/Los_Angeles"


def _pacific() -> tzinfo:
    try:
        return ZoneInfo(QUOTA_TIMEZONE)
    except Exception:  # pragma: no cover - no tz database: PST, one hour off in summer
        return timezone(timedelta(hours=-8))


def quota_day(now: datetime) -> str:
    """The YouTube quota day (``YYYY-MM-DD``, Pacific) that ``now`` falls in."""
    return now.astimezone(_pacific()).date().isoformat()


def next_quota_reset(now: datetime) -> datetime:
    """The next midnight Pacific time after ``now``, as an aware UTC datetime."""
    tz = _pacific()
    local = now.astimezone(tz)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz)
    return midnight.astimezone(UTC)


def fits_quota(used: int, cost: int, budget: int) -> bool:
    """Whether spending ``cost`` more units keeps the day's total within ``budget``."""
    return used + cost <= budget


def effective_publish_at(
    planned: str | None, now: datetime, min_lead: timedelta = timedelta(minutes=15)
) -> tuple[str | None, str]:
    """The ``publishAt`` to send for a planned slot, and why.

    A slot that is still ahead (by at least ``min_lead``) is kept. A slot that has passed
    (the upload was deferred past it, e.g. by the API quota) is not moved to a far day,
    which would break the plan's order: the clip goes out as soon as YouTube allows a
    scheduled publish, ``min_lead`` from now, rounded up to the minute.
    """
    if not planned:
        return None, "no slot: publish on upload"
    at = datetime.fromisoformat(planned.replace("Z", "+00:00"))
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    if at - now >= min_lead:
        return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), f"planned slot {planned}"
    late = (now + min_lead).astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    iso = late.strftime("%Y-%m-%dT%H:%M:%SZ")
    return iso, f"planned slot {planned} has passed: publishing late at {iso}"
