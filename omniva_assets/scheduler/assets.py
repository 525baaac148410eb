"""The Scheduler: the publish plan (quota and slots per channel)."""

import dataclasses
import json
from collections.abc import Collection, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg

from cognitive_sensors.horizon import PlanRules, ReadyClip, plan_publish
from omniva import contracts
from omniva.errors import ConfigError
from omniva.records import PlannedSlot, PublishPlan, stable_id
from omniva_assets.common import Lineage, recorded, with_user_errors
from omniva_assets.editor.assets import clip_copy, renders
from omniva_assets.scheduler import checks
from omniva_resources import projects
from omniva_resources.resources import OmnivaStore, PublishRules, YouTubeResource
from omniva_resources.warehouse import Warehouse
from omniva_resources.youtube import publication_units


@dg.asset(
    deps=[renders, clip_copy],
    group_name="publishing",
    kinds={"python"},
    # 2: each creator's project channel; 3: YouTube's quota buckets and channel limit;
    # 4: each project's own cadence, slots and time zone (#29)
    code_version="4",
    check_specs=[checks.NO_DOUBLE_BOOKING],
)
@with_user_errors
def publish_plan(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    publish_rules: PublishRules,
    youtube_api: YouTubeResource,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """When each rendered clip goes out: at most ``daily_quota`` a day per channel, one per slot.

    The cadence decides; YouTube's limits only bound it: the project's quota buckets
    (``youtube_api``'s model: how many publications a day they hold) and the channel's
    daily upload limit when known. A clip that a limit pushes off a day goes to a later
    day, and its reason (or its deferral) names the limit. A clip goes to its creator's
    project's channel (``omniva projects``), else to the default channel. Slots already
    planned never move, so re-planning only places new clips.
    """
    rejected = store.rejected()
    ready = ready_clips(store, publish_rules, rejected)
    committed = free_rejected_slots(context, store, rejected)
    rules = plan_rules(publish_rules, youtube_api)
    by_channel = channel_rules(rules, projects.channel_settings(store.layout), {c.channel for c in ready})
    plan = plan_channels(ready, committed, datetime.now(UTC), rules, by_channel)
    for key, why in plan.deferred:
        context.log.warning(f"{key} not planned: {why}")
    # Each slot is its own partition of ``schedules`` (the clip's key), written here.
    for s in plan.slots:
        store.record("schedules", s.clip_key, [s.row()])
    table = "\n".join(
        f"| {s.publish_at} | `{s.clip_key}` | {s.priority:.2f} | {s.reason} |" for s in plan.slots
    )
    lineage = Lineage(
        "schedules",
        stable_id("publish_plan", publish_rules.channel),
        stable_id("trace", "channel", publish_rules.channel),
        params={
            "daily_quota": rules.daily_quota,
            "slots": rules.slot_times_utc,
            "project_daily_uploads": rules.project_daily_uploads,
            "project_limit": rules.project_limit,
            "channel_daily_uploads": rules.channel_daily_uploads,
            "channels": sorted({c.channel for c in ready}),
            # the projects' own settings in force per channel (#29): what a change influenced
            "channel_rules": {
                c: {"daily_quota": r.daily_quota, "slots": list(r.slot_times_utc), "time_zone": r.time_zone}
                for c, r in sorted(by_channel.items())
            },
        },
        decision=f"{len(plan.slots)} slot(s), quota {rules.daily_quota}/day\n\n"
        f"| when | clip | priority | why |\n|---|---|---|---|\n{table}",
        contract=lambda trace, parents: [contracts.schedule_task(s, trace, parents) for s in plan.slots],
    )
    metadata = {
        "slots": len(plan.slots),
        "deferred": len(plan.deferred),
        "deferred_why": dg.MetadataValue.json([{"clip_key": k, "why": w} for k, w in plan.deferred]),
        "quota_limit": f"{rules.project_daily_uploads} a day: {rules.project_limit}",
        "clip_keys": dg.MetadataValue.json([s.clip_key for s in plan.slots]),
        "rejected": dg.MetadataValue.json(sorted(rejected)),
    }
    yield recorded(plan, lineage, None, metadata)
    yield checks.no_double_booking(plan, rules, by_channel, {s.clip_key for s in committed})


def own_cadence(rules: PlanRules, own: Mapping[str, Any]) -> PlanRules:
    """``rules`` with a project's own clips a day, slots and time zone (#29) where it sets them."""
    changes: dict[str, Any] = {}
    if own.get("daily_clips") is not None:
        changes["daily_quota"] = int(own["daily_clips"])
    if own.get("slot_times"):
        changes["slot_times_utc"] = tuple(str(t) for t in own["slot_times"])
    if own.get("time_zone"):
        changes["time_zone"] = str(own["time_zone"])
    return dataclasses.replace(rules, **changes) if changes else rules


def channel_rules(
    rules: PlanRules, own: Mapping[str, Mapping[str, Any]], channels: Collection[str]
) -> dict[str, PlanRules]:
    """The rules of each channel whose project sets its own cadence, slots or time zone (#29):
    the deployment's ``rules`` with those replaced. A channel without its own keeps ``rules``."""
    out = {}
    for channel in sorted(channels):
        mine = own_cadence(rules, own.get(channel) or {})
        if mine is not rules:
            out[channel] = mine
    return out


def plan_channels(
    ready: list[ReadyClip],
    committed: list[PlannedSlot],
    now: datetime,
    rules: PlanRules,
    by_channel: Mapping[str, PlanRules],
) -> PublishPlan:
    """``plan_publish`` for the channels on the deployment's rules together, then for each
    channel with its project's own rules, each seeing every slot placed before it (so the
    Google Cloud project's quota buckets, shared by all channels, are counted once)."""
    shared = [c for c in ready if c.channel not in by_channel]
    plan = plan_publish(shared, committed, now, rules)
    slots, deferred = list(plan.slots), list(plan.deferred)
    for channel, own in sorted(by_channel.items()):
        part = plan_publish([c for c in ready if c.channel == channel], slots, now, own)
        slots, deferred = list(part.slots), deferred + list(part.deferred)
    return PublishPlan(tuple(slots), rules.daily_quota, rules.slot_times_utc, tuple(deferred))


def ready_clips(
    store: OmnivaStore, publish_rules: PublishRules, rejected: Collection[str]
) -> list[ReadyClip]:
    """The rendered clips to place, each on its creator's project's channel (``omniva projects``,
    else the default channel); a rejected clip (#28) is never planned."""
    channels = projects.channels_by_creator(store.layout, publish_rules.channel)
    return [
        ReadyClip(
            r["clip_id"],
            r["clip_key"],
            channels.get(r["creator"], publish_rules.channel),
            float(r["priority"] or 0),
        )
        for r in store.warehouse.query_file("ready_clips")
        if r["clip_key"] not in rejected
    ]


def free_rejected_slots(
    context: dg.AssetExecutionContext, store: OmnivaStore, rejected: Collection[str]
) -> list[PlannedSlot]:
    """The slots already planned, less those of rejected clips not yet on YouTube (#28: review
    before publish): their slot is free again, so the next clip takes it. Unreviewed clips of a
    project with review "required" keep theirs; Zenith holds their upload until approved."""
    uploaded = {r["clip_key"] for r in store.warehouse.query_file("uploaded_clip_keys")}
    kept = []
    for s in committed_slots(store.warehouse):
        if s.clip_key in rejected and s.clip_key not in uploaded:
            store.record("schedules", s.clip_key, [])
            context.log.info(f"{s.clip_key} rejected: its slot {s.publish_at} is free again")
        else:
            kept.append(s)
    return kept


def plan_rules(publish_rules: PublishRules, youtube_api: YouTubeResource) -> PlanRules:
    """The cadence, bounded by what the project's quota buckets hold a day (one publication:
    the insert, its thumbnail, the marker look-up, and captions/playlist when configured)."""
    model = youtube_api.quota_model_in_effect()
    opts = youtube_api.options()
    need = publication_units(
        None,
        model,
        thumbnail=True,
        captions=opts["captions"] == "always",
        playlist=bool(opts["playlist_id"]),
        lookup=True,
    )
    per_day, bucket = model.publications_per_day(need)
    zone = publish_rules.time_zone or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"OMNIVA_SLOT_TIME_ZONE {zone!r} is not a time zone (an IANA name such as Europe/Berlin)"
        ) from exc
    return PlanRules(
        daily_quota=publish_rules.daily_quota,
        slot_times_utc=tuple(t.strip() for t in publish_rules.slot_times_utc.split(",")),
        horizon_days=publish_rules.plan_days,
        project_daily_uploads=per_day,
        project_limit=f"quota {model.describe(bucket)}",
        channel_daily_uploads=youtube_api.channel_daily_uploads,
        time_zone=zone,
    )


def committed_slots(wh: Warehouse) -> list[PlannedSlot]:
    """The slots planned earlier, with the reason each was first given (HaloLux shows it,
    not "re-planned")."""
    out = []
    for r in wh.query_file("committed_slots"):
        adjustments = json.loads(r["horizon_adjustments"] or "{}")
        out.append(
            PlannedSlot(
                r["clip_id"],
                r["clip_key"],
                r["channel"],
                r["final_scheduled_time"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                float(adjustments.get("priority", 0)),
                adjustments.get("reason") or "committed earlier",
            )
        )
    return out
