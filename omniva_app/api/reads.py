"""What the API reads beside the warehouse's named queries (``sql/queries``): their rows'
JSON and paging columns, and Dagster's run storage and event log. Nothing here writes."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from omniva_app.launch import step_failure_message

LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARN": logging.WARNING, "ERROR": logging.ERROR}


def as_json(value):
    return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value


def paged(rows: list[dict]) -> tuple[list[dict], int]:
    """Rows of a query with a ``total`` window column: (rows without it, total)."""
    total = int(rows[0]["total"]) if rows else 0
    return [{k: v for k, v in r.items() if k != "total"} for r in rows], total


def level_number(level: str | int) -> int:
    """A log entry's level as a number (Dagster stores a number; a name is accepted too)."""
    return level if isinstance(level, int) else logging.getLevelName(level.upper())


def level_name(level: int) -> str:
    if level >= logging.ERROR:
        return "ERROR"
    if level >= logging.WARNING:
        return "WARN"
    return "INFO" if level >= logging.INFO else "DEBUG"


def run_belongs(run: dg.DagsterRun, creators: set[str], videos: set[str]) -> bool:
    """Whether a run worked for these creators: by Lattice's creator tag or by its partition."""
    if run.tags.get("omniva/creator") in creators:
        return True
    partition = run.tags.get("dagster/partition")
    if not partition:
        return "omniva/creator" not in run.tags  # publish plan: shared by every project
    if run.job_name in ("posts_job", "creators_job"):
        return partition.split("|", 1)[0] in creators
    return partition.split("|", 1)[-1] in videos  # video key, or "rank|video"


def run_logs(
    instance: dg.DagsterInstance,
    creators: set[str],
    videos: set[str],
    worker_of_job: dict[str, str],
    *,
    level: str | None,
    source: str | None,
    worker_type: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
    max_runs: int = 300,
) -> tuple[list[dict], int]:
    """The event log of the project's recent runs, newest first, filtered as the spec's logs view."""
    threshold = LEVELS[level] if level else logging.DEBUG
    items: list[dict[str, Any]] = []
    for run in instance.get_runs(limit=max_runs):
        if not run_belongs(run, creators, videos):
            continue
        worker = worker_of_job.get(run.job_name, run.job_name)
        if worker_type and worker != worker_type:
            continue
        for i, entry in enumerate(instance.all_logs(run.run_id)):
            ts = datetime.fromtimestamp(entry.timestamp, UTC)
            src = entry.step_key or run.job_name
            if level_number(entry.level) < threshold or (source and source not in (src, worker)):
                continue
            if (since and ts < since) or (until and ts > until):
                continue
            event = entry.dagster_event
            message = entry.user_message or (event.message if event and event.message else "")
            if event and not entry.user_message:
                message = message or event.event_type_value
            if event and event.is_step_failure:
                message = f"{message} {step_failure_message(event)}".strip()
            items.append(
                {
                    "log_id": f"{run.run_id}:{i}",
                    "timestamp": ts.isoformat(),
                    "source": src,
                    "level": level_name(level_number(entry.level)),
                    "message": message,
                    "metadata": {
                        "run_id": run.run_id,
                        "job_name": run.job_name,
                        "worker_type": worker,
                        "step_key": entry.step_key,
                        "partition": run.tags.get("dagster/partition"),
                        "event_type": event.event_type_value if event else None,
                    },
                }
            )
    items.sort(key=lambda r: r["timestamp"], reverse=True)
    return items[offset : offset + limit], len(items)
