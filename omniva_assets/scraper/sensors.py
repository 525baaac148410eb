"""The Scraper's automation: new creators, each morning's listing, and local-folder creators.

Each skips the creators whose project is stopped (``projects.stopped_creators``), saying so;
a stopped creator's new files are picked up when its project starts again."""

from __future__ import annotations

import json
from datetime import timedelta

import dagster as dg

from cognitive_sensors.zenith import new_partition_keys
from omniva_assets.partitions import creators_partitions, days_partitions, post_key
from omniva_assets.policy import known_partitions, latest, stopped_reason
from omniva_assets.scraper.jobs import creators_job, posts_job
from omniva_resources import creators as creator_registry
from omniva_resources import projects
from omniva_resources.folder_source import days_digest
from omniva_resources.resources import OmnivaStore, ScrapeSettings


@dg.sensor(
    job=creators_job,
    minimum_interval_seconds=30,
    description="Registers creators added with `omniva creators add`.",
)
def creator_sensor(context: dg.SensorEvaluationContext, store: OmnivaStore):
    stopped = projects.stopped_creators(store.layout)
    active = [c.name for c in creator_registry.active(store.layout)]
    new = new_partition_keys(active, known_partitions(context.instance, creators_partitions))
    skipped = _skipped(context, [n for n in new if n in stopped], stopped)
    new = [n for n in new if n not in stopped]
    if not new:
        return dg.SkipReason(f"{len(active)} creator(s), none new{skipped}")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(partition_key=n, run_key=f"creator-{n}", tags={"omniva/creator": n}) for n in new
        ],
        dynamic_partitions_requests=[creators_partitions.build_add_request(new)],
    )


@dg.schedule(
    job=posts_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    description="Every morning, list each active creator's posts of the day before.",
)
def daily_posts_schedule(context: dg.ScheduleEvaluationContext, store: OmnivaStore):
    today = context.scheduled_execution_time.date()
    day = (today - timedelta(days=1)).isoformat()
    existing = known_partitions(context.instance, creators_partitions)
    stopped = projects.stopped_creators(store.layout)
    names = [c.name for c in creator_registry.active(store.layout) if c.name in existing]
    _skipped(context, [n for n in names if n in stopped], stopped)
    names = [n for n in names if n not in stopped]
    requests = [dg.RunRequest(partition_key=post_key(n, day), run_key=f"posts-{n}-{day}") for n in names]
    # A project's own scraping window (#29): the days before yesterday within it that were
    # never listed are listed too (a creator just added, a window widened).
    own = projects.creator_settings(store.layout)
    listed = None
    for n in names:
        window = int(own.get(n, {}).get("scrape_window_days") or 1)
        if window > 1 and listed is None:
            listed = context.instance.get_materialized_partitions(dg.AssetKey("posts"))
        for back in range(2, window + 1):
            earlier = (today - timedelta(days=back)).isoformat()
            if str(post_key(n, earlier)) not in (listed or set()):
                requests.append(
                    dg.RunRequest(
                        partition_key=post_key(n, earlier),
                        run_key=f"posts-{n}-{earlier}",
                        tags={"omniva/zenith": f"within the project's scraping window ({window} days)"},
                    )
                )
    # A day listed while a live stream or premiere was still running is listed again (for a
    # week) until nothing is pending: the finished stream then becomes a post.
    for n in names:
        for back in range(2, 9):
            earlier = (today - timedelta(days=back)).isoformat()
            if _pending_live(context.instance, str(post_key(n, earlier))):
                requests.append(
                    dg.RunRequest(
                        partition_key=post_key(n, earlier),
                        run_key=f"posts-{n}-{earlier}-recheck-{today.isoformat()}",
                        tags={"omniva/zenith": "live stream or premiere pending on that day"},
                    )
                )
    return requests


def _skipped(
    context: dg.SensorEvaluationContext | dg.ScheduleEvaluationContext,
    names: list[str],
    stopped: dict[str, str],
) -> str:
    """Log each creator skipped because its project is stopped; the same, as a reason's tail."""
    reasons = [f"{n}: {stopped_reason(stopped[n])}" for n in names]
    for reason in reasons:
        context.log.info(f"skipped {reason}")
    return f"; skipped {'; '.join(reasons)}" if reasons else ""


def _pending_live(instance: dg.DagsterInstance, partition: str) -> bool:
    rec = latest(instance, "posts", partition)
    meta = rec.asset_materialization.metadata if rec and rec.asset_materialization else {}
    return bool(meta["pending_live"].value) if "pending_live" in meta else False


@dg.sensor(
    job=posts_job,
    minimum_interval_seconds=60,
    description="Watches local-folder creators: a day whose files changed gets its posts listed again.",
)
def folder_sensor(context: dg.SensorEvaluationContext, store: OmnivaStore, scrape: ScrapeSettings):
    seen = json.loads(context.cursor) if context.cursor else {}
    existing = known_partitions(context.instance, creators_partitions)
    stopped = projects.stopped_creators(store.layout)
    requests, now_seen, paused = [], {}, []
    first = days_partitions.start.date().isoformat()
    for c in creator_registry.active(store.layout):
        if c.platform != "folder" or c.name not in existing:
            continue
        if c.name in stopped:
            # what it had seen stays: its changes are listed when its project starts again
            if c.name in seen:
                now_seen[c.name] = seen[c.name]
            paused.append(c.name)
            continue
        now_seen[c.name] = days_digest(c.name, c.url, scrape.folder_settle_s)
        for day, digest in sorted(now_seen[c.name].items()):
            if day >= first and seen.get(c.name, {}).get(day) != digest:
                requests.append(
                    dg.RunRequest(
                        partition_key=post_key(c.name, day),
                        run_key=f"folder-{c.name}-{day}-{digest}",
                        tags={
                            "omniva/creator": c.name,
                            "omniva/zenith": "new or changed files in the folder",
                        },
                    )
                )
    cursor = json.dumps(now_seen, sort_keys=True)
    skipped = _skipped(context, paused, stopped)
    if not requests:
        return dg.SensorResult(
            skip_reason=f"{len(now_seen)} folder creator(s), no new files{skipped}", cursor=cursor
        )
    return dg.SensorResult(run_requests=requests, cursor=cursor)
