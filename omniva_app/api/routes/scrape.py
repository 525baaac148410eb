"""Scraping: launch the ``posts`` partitions (creator x day) of a project, and their status."""

from __future__ import annotations

from collections.abc import Sized
from datetime import UTC, date, datetime, timedelta

import dagster as dg
from fastapi import APIRouter, Request

from cognitive_sensors.zenith import decide_partitions
from omniva import contracts
from omniva.records import Creator, stable_id
from omniva.redact import redact_url
from omniva_app.api.context import ApiContext, ctx_of
from omniva_app.api.envelope import ApiError
from omniva_app.api.project_registry import PREFIX
from omniva_app.api.routes.actions import Wait, launch
from omniva_app.api.routes.common import Limit, Offset, ok, project_of, register_creator
from omniva_app.api.schemas import Envelope, ScrapeEnvelope, ScrapeRequest
from omniva_assets.partitions import days_partitions, post_key
from omniva_resources import creators as creator_registry
from omniva_resources import projects

router = APIRouter()
PARTITION_START = days_partitions.start.date()


def _day(value: datetime | date | None, default: date) -> date:
    if value is None:
        return default
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).date()
    return value


#: The API job's state as the ScraperJob's status.
SCRAPE_STATUS = {
    "NOTHING_TO_DO": "DONE",
    "DONE": "DONE",
    "FAILED": "ERROR",
    "ERROR": "ERROR",
    "RUNNING": "RUNNING",
}


def scraper_jobs(
    ctx: ApiContext, job_id: str, names: list[str], since: date, until: date, status: str
) -> list[dict]:
    """One ScraperJob per creator over the requested days (``until`` included)."""
    known = {c.name: c for c in creator_registry.active(ctx.layout)}
    now = datetime.now(UTC)
    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    end = datetime(until.year, until.month, until.day, tzinfo=UTC) + timedelta(days=1)
    jobs = []
    for name in names:
        creator = known.get(name) or Creator(name, "", "other")
        job = contracts.ScraperJob(
            trace_id=stable_id("trace", "creator", name),
            job_id=stable_id("scrape", job_id, name),
            creator_id=creator.creator_id,
            platform=contracts.platform_of(creator.platform),  # type: ignore[arg-type]
            target_url=redact_url(creator.url) if creator.url else name,
            requested_range=contracts.RequestedRange(since=start, until=end),
            status=SCRAPE_STATUS.get(status, "PENDING"),  # type: ignore[arg-type]
            created_at=now,
            updated_at=now,
        )
        jobs.append(contracts.dump(job))
    return jobs


def _resolve_creators(ctx: ApiContext, p: dict, ids: list[str] | None) -> list[str]:
    by_id = {c.creator_id: c.name for c in creator_registry.active(ctx.layout)}
    if not ids:
        return list(p["creators"])
    names: list[str] = []
    unknown: list[str] = []
    for ref in ids:
        name = by_id.get(ref, ref.lstrip("@").lower())
        (names if name in p["creators"] else unknown).append(name if name in p["creators"] else ref)
    if unknown:
        raise ApiError(422, "UNKNOWN_CREATOR", f"not creators of {p['project_id']}: {', '.join(unknown)}")
    return list(dict.fromkeys(names))


@router.post("/projects/{project_id}/scrape", response_model=ScrapeEnvelope, status_code=202)
def scrape(request: Request, project_id: str, body: ScrapeRequest, wait: Wait = 0):
    """Launch the ``posts`` partitions (creator x day) of the given creators and days."""
    ctx = ctx_of(request)
    p = project_of(request, project_id)
    names = _resolve_creators(ctx, p, body.creator_ids)
    if not names:
        raise ApiError(422, "NO_CREATORS", f"project {project_id} has no creators; add one first")
    today = datetime.now(UTC).date()
    until = _day(body.until, today)
    own = projects.own_settings(project_id.removeprefix(PREFIX), ctx_of(request).store.layout)
    window = own.get("scrape_window_days") or p["settings"].get("scrape_window_days", 7)  # #29 first
    since = _day(body.since, until - timedelta(days=int(window) - 1))
    if until < since:
        raise ApiError(400, "INVALID_DATE_RANGE", f"until {until} is before since {since}")
    if since < PARTITION_START or until > today + timedelta(days=1) or (until - since).days > 92:
        raise ApiError(
            400,
            "INVALID_DATE_RANGE",
            f"days must lie between {PARTITION_START} and {today + timedelta(days=1)}, at most 93 of them",
        )
    actions = ctx.actions
    instance, store = actions.instance, actions.store
    job_id = actions.new_job_id("scrape")
    runs, decisions = [], []
    creators_done = instance.get_materialized_partitions(dg.AssetKey("creators"))
    done = set() if body.force else instance.get_materialized_partitions(dg.AssetKey("posts"))
    quarantined = store.quarantined()
    days = [since + timedelta(days=i) for i in range((until - since).days + 1)]
    for name in names:
        register_creator(instance, name)
        keys = [str(post_key(name, d.isoformat())) for d in days]
        verdicts = decide_partitions(
            keys, done, quarantined, requested="forced by API" if body.force else "new"
        )
        decisions += verdicts
        wanted = [v.partition_key for v in verdicts if v.action == "request"]
        if wanted and name not in creators_done:
            runs.append(actions.plan_run("creators_job", name, "creators", creator=name, job_id=job_id))
        for key in wanted:
            runs.append(actions.plan_run("posts_job", key, "posts", creator=name, job_id=job_id))
    store.record_decisions("omniva-api", "posts", decisions, tags={"api_job": job_id})
    data = {
        "job_id": job_id,
        "queued_creators": len(
            {r.partition.split("|")[0] for r in runs if r.job_name == "posts_job" and r.partition}
        ),
        "since": since.isoformat(),
        "until": until.isoformat(),
        "decisions": [
            {"partition": d.partition_key, "action": d.action, "reason": d.reason} for d in decisions
        ],
    }
    if not runs:
        jobs = scraper_jobs(ctx, job_id, names, since, until, "NOTHING_TO_DO")
        return ok(
            request,
            {**data, "status": "NOTHING_TO_DO", "run_ids": [], "runs": [], "scraper_jobs": jobs},
            200,
        )
    job, view = launch(
        ctx,
        request,
        (
            job_id,
            "scrape",
            project_id,
            runs,
            {"creators": names, "since": data["since"], "until": data["until"]},
        ),
        wait,
        f"scrape {job_id}: {len(runs)} run(s)",
        project_id=project_id,
        run_ids=[r.run_id for r in runs],
    )
    jobs = scraper_jobs(ctx, job_id, names, since, until, view["status"])
    answer = {**data, "status": view["status"], "run_ids": view["run_ids"], "runs": view["runs"]}
    return ok(request, {**answer, "scraper_jobs": jobs}, 202)


def _videos_found(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """How many videos the run's posts listing found (its ``video_keys`` metadata)."""
    found = None
    for rec in instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records:
        mat = rec.event_log_entry.asset_materialization
        keys = mat.metadata["video_keys"].value if mat is not None and "video_keys" in mat.metadata else None
        if isinstance(keys, Sized):
            found = len(keys)
    return found


@router.get("/projects/{project_id}/scrape/status", response_model=Envelope)
def scrape_status(request: Request, project_id: str, limit: Limit = 50, offset: Offset = 0):
    ctx = ctx_of(request)
    p = project_of(request, project_id)
    ids = {c.name: c.creator_id for c in creator_registry.active(ctx.layout)}
    instance = ctx.actions.instance
    records = [
        r
        for r in instance.get_run_records(filters=dg.RunsFilter(job_name="posts_job"), limit=1000)
        if (r.dagster_run.tags.get("dagster/partition") or "").split("|")[0] in p["creators"]
    ]
    jobs = []
    for r in records[offset : offset + limit]:
        run = r.dagster_run
        creator, _, day = run.tags["dagster/partition"].partition("|")
        jobs.append(
            {
                "job_id": run.tags.get("omniva/api_job") or run.run_id,
                "run_id": run.run_id,
                "creator_id": ids.get(creator),
                "creator": creator,
                "day": day,
                "status": "DONE" if run.status == dg.DagsterRunStatus.SUCCESS else run.status.value,
                "videos_found": _videos_found(instance, run.run_id),
                "launched_by": run.tags.get("omniva/launched_by", "dagster"),
                "started_at": r.start_time and datetime.fromtimestamp(r.start_time, UTC).isoformat(),
                "completed_at": r.end_time and datetime.fromtimestamp(r.end_time, UTC).isoformat(),
                "dagster_ui": f"{ctx.ui_url}/runs/{run.run_id}",
            }
        )
    return ok(
        request, {"jobs": jobs, "pagination": {"limit": limit, "offset": offset, "total": len(records)}}
    )
