"""The spec's v1 endpoints. Reads: the warehouse and Dagster's storage. Actions: Dagster runs
(``dagster_ops``), with Zenith's rules applied first and the run ids in the answer."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import dagster as dg
from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.security import HTTPBearer

from omniva_app.api import reads
from omniva_app.api.app import ApiContext, key_of
from omniva_app.api.envelope import ApiError, page, success
from omniva_app.api.keys import ALL_PROJECTS
from omniva_app.api.schemas import (
    CreatorCreate,
    EditRequest,
    Envelope,
    ErrorEnvelope,
    ProjectAction,
    ProjectCreate,
    ScheduleRequest,
    ScrapeRequest,
    UploadRequest,
)
from omniva_assets.partitions import days_partitions

# Documents the scheme in the OpenAPI description; the check itself is the app's middleware.
bearer = HTTPBearer(auto_error=False, description="API key: `omv_...` (omniva api keys create)")
ERRORS = {
    code: {"description": text, "model": ErrorEnvelope}
    for code, text in {
        400: "bad request: INVALID_JSON, VALIDATION_ERROR, INVALID_PAGINATION, INVALID_DATE_RANGE",
        401: "missing or invalid API key",
        403: "the key is scoped to another project",
        404: "not found",
        409: "conflict with the current state",
        422: "well-formed but not acceptable",
        500: "STATUS_UNAVAILABLE, INTERNAL_ERROR",
    }.items()
}
router = APIRouter(prefix="/v1", responses=ERRORS, dependencies=[Depends(bearer)])
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]
Wait = Annotated[float, Query(ge=0, le=600, description="seconds to wait for the runs to finish")]
PARTITION_START = days_partitions.start.date()


def _ctx(request: Request) -> ApiContext:
    return request.app.state.ctx


def _ok(request: Request, data, status_code: int = 200):
    return success(data, request.state.request_id, status_code)


def _project(request: Request, project_id: str) -> dict:
    key = key_of(request)
    if not key.allows(project_id):
        raise ApiError(
            403, "FORBIDDEN", f"this API key is scoped to project {key.project!r}, not {project_id!r}"
        )
    return _ctx(request).projects.get(project_id)


def _stats(ctx: ApiContext, creators: list[str]) -> dict:
    if not creators:
        return {"videos_scraped": 0, "clips_ready": 0, "clips_in_pipeline": 0, "uploads_pending": 0}
    return reads.query(ctx.warehouse, "project_stats", [creators])[0]


def _launch(ctx: ApiContext, request: Request, submission: tuple, wait: float, audit: str, **audit_fields):
    """Submit an action's runs (``actions.submit``'s arguments), write the audit line, wait up
    to ``wait`` seconds; returns the job and its view."""
    job = ctx.actions.submit(*submission)
    _audit(ctx, request, audit, **audit_fields)
    ctx.actions.wait(job, wait)
    return job, _job_view(ctx, job)


def _audit(ctx: ApiContext, request: Request, message: str, **metadata) -> None:
    """Stardust: every action the API takes lands in the warehouse ``logs`` table."""
    ctx.store.log(
        "api",
        "INFO",
        message,
        request_id=request.state.request_id,
        key_id=key_of(request).key_id,
        path=request.url.path,
        **metadata,
    )


def _run_view(ctx: ApiContext, run) -> dict:
    status = run.status if run.status == "QUEUED" else (ctx.actions.run_status(run.run_id) or run.status)
    return {
        "run_id": run.run_id,
        "job_name": run.job_name,
        "partition": run.partition,
        "status": status,
        "dagster_ui": f"{ctx.ui_url}/runs/{run.run_id}",
        "failures": run.failures,
    }


def _job_view(ctx: ApiContext, job) -> dict:
    return {
        "job_id": job.job_id,
        "kind": job.kind,
        "project_id": job.project_id,
        "status": job.status,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
        "subject": job.subject,
        "result": job.result,
        "runs": [_run_view(ctx, r) for r in job.runs],
        "run_ids": [r.run_id for r in job.runs],
    }


# ---------------------------------------------------------------- projects
@router.get("/projects", response_model=Envelope)
def list_projects(
    request: Request, limit: Limit = 50, offset: Offset = 0, status: Annotated[str | None, Query()] = None
):
    ctx, key = _ctx(request), key_of(request)
    projects = [
        p
        for p in ctx.projects.all()
        if key.allows(p["project_id"]) and (status is None or p["status"] == status.upper())
    ]
    items = []
    for p in projects[offset : offset + limit]:
        stats = _stats(ctx, p["creators"])
        items.append(
            {
                "project_id": p["project_id"],
                "name": p["name"],
                "status": p["status"],
                "videos_scraped": stats["videos_scraped"],
                "clips_ready": stats["clips_ready"],
                "created_at": p["created_at"],
            }
        )
    return _ok(request, page(items, limit, offset, len(projects)))


@router.post("/projects", response_model=Envelope, status_code=201)
def create_project(request: Request, body: ProjectCreate):
    ctx, key = _ctx(request), key_of(request)
    if key.project != ALL_PROJECTS:
        raise ApiError(
            403, "FORBIDDEN", "creating projects needs an admin key (`omniva api keys create --admin`)"
        )
    p = ctx.projects.create(
        body.name,
        channel=body.channel or resources_channel(),
        description=body.description,
        settings=body.model_dump(exclude={"name", "channel", "description"}),
    )
    _audit(ctx, request, f"project {p['project_id']} created", project_id=p["project_id"])
    return _ok(
        request, {"project_id": p["project_id"], "status": p["status"], "created_at": p["created_at"]}, 201
    )


@router.get("/projects/{project_id}", response_model=Envelope)
def get_project(request: Request, project_id: str):
    ctx = _ctx(request)
    p = _project(request, project_id)
    stats = _stats(ctx, p["creators"])
    return _ok(
        request,
        {
            "project_id": p["project_id"],
            "name": p["name"],
            "description": p["description"],
            "status": p["status"],
            "created_at": p["created_at"],
            "channel": p["channel"],
            "goals": p["goals"],
            "settings": {
                "scrape_window_days": p["settings"].get("scrape_window_days", 7),
                "daily_quota": p["settings"].get("daily_quota"),
                "keywords": p["settings"].get("keywords", []),
                "default_platforms": p["settings"].get("default_platforms", []),
            },
            "stats": {"creators": len(p["creators"]), **stats},
        },
    )


def _switch(request: Request, project_id: str, body: ProjectAction | None, on: bool):
    ctx = _ctx(request)
    target = "RUNNING" if on else "PAUSED"
    if _project(request, project_id)["status"] == target:
        code = "ALREADY_RUNNING" if on else "ALREADY_STOPPED"
        raise ApiError(409, code, f"project {project_id} is already {target}")
    reason = body.reason if body else "api"
    # Zenith's sensors and the daily schedule serve every project: they stop only when
    # no project is left running.
    others = [pid for pid in ctx.projects.running() if pid != project_id]
    automation = ctx.actions.set_automation(on or bool(others))
    p = ctx.projects.set_status(project_id, target, reason)
    verb = "scheduled to start" if on else "stopping"
    note = "" if on or not others else f"; automation stays on for {', '.join(others)}"
    _audit(
        ctx, request, f"project {project_id} {verb} ({reason})", project_id=project_id, automation=automation
    )
    return _ok(
        request,
        {
            "message": f"Project {project_id} {verb}.{note}",
            "requested_at": p["status_changed_at"],
            "status": p["status"],
            "automation": automation,
        },
    )


@router.post("/projects/{project_id}/start", response_model=Envelope)
def start_project(request: Request, project_id: str, body: Annotated[ProjectAction | None, Body()] = None):
    return _switch(request, project_id, body, on=True)


@router.post("/projects/{project_id}/stop", response_model=Envelope)
def stop_project(request: Request, project_id: str, body: Annotated[ProjectAction | None, Body()] = None):
    return _switch(request, project_id, body, on=False)


# ---------------------------------------------------------------- creators
def _creator_name(handle: str) -> str:
    name = re.sub(r"[^a-z0-9_-]+", "-", handle.strip().lstrip("@").lower()).strip("-")
    from omniva_resources.creators import NAME

    if not NAME.match(name):
        raise ApiError(
            422, "INVALID_HANDLE", f"handle {handle!r}: use letters, digits, '-' or '_' (1-41 chars)"
        )
    return name


@router.post("/projects/{project_id}/creators", response_model=Envelope, status_code=201)
def add_creator(request: Request, project_id: str, body: CreatorCreate):
    from omniva.errors import ConfigError
    from omniva_assets.partitions import creators_partitions
    from omniva_resources import creators

    ctx = _ctx(request)
    p = _project(request, project_id)
    name = _creator_name(body.handle)
    if name in p["creators"]:
        raise ApiError(409, "CREATOR_EXISTS", f"creator {name!r} is already in {project_id}")
    known = {c.name: c for c in creators.active(ctx.layout)}
    if body.profile_url:
        try:
            creator = creators.add(ctx.layout, name, body.profile_url)
        except ConfigError as exc:
            raise ApiError(422, "INVALID_PROFILE_URL", str(exc)) from exc
    elif name in known:
        creator = known[name]
    else:
        raise ApiError(422, "INVALID_HANDLE", f"creator {name!r} is not registered yet: give its profile_url")
    instance = ctx.actions.instance
    if name not in instance.get_dynamic_partitions(creators_partitions.name):
        instance.add_dynamic_partitions(creators_partitions.name, [name])
    ctx.projects.attach_creator(project_id, name)
    _audit(ctx, request, f"creator {name} attached to {project_id}", project_id=project_id, creator=name)
    return _ok(
        request,
        {
            "creator_id": creator.creator_id,
            "handle": name,
            "platform": body.platform,
            "detected_platform": creator.platform,
            "profile_url": creator.url,
            "status": "ACTIVE",
        },
        201,
    )


@router.get("/projects/{project_id}/creators", response_model=Envelope)
def list_creators(request: Request, project_id: str):
    from omniva_resources import creators

    ctx = _ctx(request)
    p = _project(request, project_id)
    registry = {c.name: c for c in creators.active(ctx.layout)}
    activity = (
        {r["creator"]: r for r in reads.query(ctx.warehouse, "creator_activity", [p["creators"]])}
        if p["creators"]
        else {}
    )
    items = []
    for name in p["creators"]:
        c, a = registry.get(name), activity.get(name, {})
        items.append(
            {
                "creator_id": c.creator_id if c else None,
                "handle": name,
                "platform": c.platform if c else None,
                "profile_url": c.url if c else None,
                "status": "ACTIVE" if c else "REMOVED",
                "last_scraped_at": a.get("last_scraped_at"),
                "posts_seen": a.get("posts_seen", 0),
                "videos_downloaded": a.get("videos_downloaded", 0),
            }
        )
    return _ok(request, {"items": items})


# ---------------------------------------------------------------- scraping
def _day(value: datetime | date | None, default: date) -> date:
    if value is None:
        return default
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).date()
    return value


def _resolve_creators(ctx: ApiContext, p: dict, ids: list[str] | None) -> list[str]:
    from omniva_resources import creators

    by_id = {c.creator_id: c.name for c in creators.active(ctx.layout)}
    if not ids:
        return list(p["creators"])
    names, unknown = [], []
    for ref in ids:
        name = by_id.get(ref, ref.lstrip("@").lower())
        (names if name in p["creators"] else unknown).append(name if name in p["creators"] else ref)
    if unknown:
        raise ApiError(422, "UNKNOWN_CREATOR", f"not creators of {p['project_id']}: {', '.join(unknown)}")
    return list(dict.fromkeys(names))


@router.post("/projects/{project_id}/scrape", response_model=Envelope, status_code=202)
def scrape(request: Request, project_id: str, body: ScrapeRequest, wait: Wait = 0):
    """Launch the ``posts`` partitions (creator x day) of the given creators and days."""
    from cognitive_sensors.zenith import Decision, decide_partitions
    from omniva_assets.partitions import creators_partitions, post_key

    ctx = _ctx(request)
    p = _project(request, project_id)
    names = _resolve_creators(ctx, p, body.creator_ids)
    if not names:
        raise ApiError(422, "NO_CREATORS", f"project {project_id} has no creators; add one first")
    today = datetime.now(UTC).date()
    until = _day(body.until, today)
    since = _day(body.since, until - timedelta(days=p["settings"].get("scrape_window_days", 7) - 1))
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
        if name not in instance.get_dynamic_partitions(creators_partitions.name):
            instance.add_dynamic_partitions(creators_partitions.name, [name])
        keys = [str(post_key(name, d.isoformat())) for d in days]
        verdicts = decide_partitions(keys, done, quarantined)
        if body.force:
            verdicts = [
                Decision(v.partition_key, v.action, "forced by API") if v.action == "request" else v
                for v in verdicts
            ]
        decisions += verdicts
        wanted = [v.partition_key for v in verdicts if v.action == "request"]
        if wanted and name not in creators_done:
            runs.append(actions.plan_run("creators_job", name, "creators", creator=name, job_id=job_id))
        for key in wanted:
            runs.append(actions.plan_run("posts_job", key, "posts", creator=name, job_id=job_id))
    store.record_decisions("omniva-api", "posts", decisions, tags={"api_job": job_id})
    data = {
        "job_id": job_id,
        "queued_creators": len({r.partition.split("|")[0] for r in runs if r.job_name == "posts_job"}),
        "since": since.isoformat(),
        "until": until.isoformat(),
        "decisions": [
            {"partition": d.partition_key, "action": d.action, "reason": d.reason} for d in decisions
        ],
    }
    if not runs:
        return _ok(request, {**data, "status": "NOTHING_TO_DO", "run_ids": [], "runs": []}, 200)
    job, view = _launch(
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
    return _ok(
        request, {**data, "status": view["status"], "run_ids": view["run_ids"], "runs": view["runs"]}, 202
    )


@router.get("/projects/{project_id}/scrape/status", response_model=Envelope)
def scrape_status(request: Request, project_id: str, limit: Limit = 50, offset: Offset = 0):
    from omniva_resources import creators

    ctx = _ctx(request)
    p = _project(request, project_id)
    ids = {c.name: c.creator_id for c in creators.active(ctx.layout)}
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
        found = None
        for rec in instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records:
            meta = rec.event_log_entry.dagster_event.event_specific_data.materialization.metadata
            if "video_keys" in meta:
                found = len(meta["video_keys"].value)
        jobs.append(
            {
                "job_id": run.tags.get("omniva/api_job") or run.run_id,
                "run_id": run.run_id,
                "creator_id": ids.get(creator),
                "creator": creator,
                "day": day,
                "status": "DONE" if run.status == dg.DagsterRunStatus.SUCCESS else run.status.value,
                "videos_found": found,
                "launched_by": run.tags.get("omniva/launched_by", "dagster"),
                "started_at": r.start_time and datetime.fromtimestamp(r.start_time, UTC).isoformat(),
                "completed_at": r.end_time and datetime.fromtimestamp(r.end_time, UTC).isoformat(),
                "dagster_ui": f"{ctx.ui_url}/runs/{run.run_id}",
            }
        )
    return _ok(
        request, {"jobs": jobs, "pagination": {"limit": limit, "offset": offset, "total": len(records)}}
    )


def _project_rows(request: Request, project_id: str, query: str, limit: int, offset: int, *params):
    """One page of a warehouse query over the project's creators (``creators, *params, limit,
    offset``) and the total count; none when the project has no creators yet."""
    p = _project(request, project_id)
    if not p["creators"]:
        return [], 0
    return reads.paged(reads.query(_ctx(request).warehouse, query, [p["creators"], *params, limit, offset]))


# ---------------------------------------------------------------- analysis
@router.get("/projects/{project_id}/analysis", response_model=Envelope)
def analysis(
    request: Request,
    project_id: str,
    limit: Limit = 25,
    offset: Offset = 0,
    min_score: Annotated[float, Query(ge=0, le=1)] = 0.0,
    clip_status: Annotated[str, Query(pattern="^(any|selected|rejected)$")] = "any",
    candidates_limit: Annotated[int, Query(ge=0, le=200)] = 10,
):
    ctx = _ctx(request)
    rows, total = _project_rows(request, project_id, "analysis", limit, offset, min_score)
    cands: dict[str, list] = {}
    if rows:
        for c in reads.query(ctx.warehouse, "candidates", [[r["video_key"] for r in rows], clip_status]):
            cands.setdefault(c["video_key"], []).append(
                {
                    "candidate_id": str(c["candidate_id"]),
                    "clip_id": str(c["clip_id"]) if c["clip_id"] else None,
                    "start_time": c["start_time"],
                    "end_time": c["end_time"],
                    "confidence": c["consensus"],
                    "score": c["score"],
                    "selected_rank": c["selected_rank"],
                    "rejected_because": c["rejected_because"],
                }
            )
    items = [
        {
            "analysis_id": str(r["analysis_id"]),
            "video_id": str(r["video_id"]),
            "video_key": r["video_key"],
            "creator": r["creator"],
            "virality_score": r["virality_score"],
            "relevance_score": r["relevance_score"],
            "keywords": r["keywords"] or [],
            "created_at": r["created_at"],
            "clip_candidates": cands.get(r["video_key"], [])[:candidates_limit],
        }
        for r in rows
    ]
    return _ok(request, page(items, limit, offset, total))


# ---------------------------------------------------------------- clips
def _clip_item(r: dict) -> dict:
    return {
        "clip_id": str(r["clip_id"]),
        "video_id": str(r["video_id"]),
        "video_key": r["video_key"],
        "rank": r["rank"],
        "creator": r["creator"],
        "status": r["status"],
        "confidence": r["confidence"],
        "start_time": r["start_time"],
        "end_time": r["end_time"],
        "semantic_tags": r["semantic_tags"] or [],
        "pantheon_votes": reads.as_json(r["pantheon_votes"]) or {},
        "lattice_priority": r["lattice_priority"],
    }


@router.get("/projects/{project_id}/clips", response_model=Envelope)
def list_clips(request: Request, project_id: str, limit: Limit = 50, offset: Offset = 0):
    rows, total = _project_rows(request, project_id, "clip_status", limit, offset)
    return _ok(request, page([_clip_item(r) for r in rows], limit, offset, total))


def _clip(request: Request, clip_id: str) -> tuple[dict, str | None]:
    """The clip (by id) and the project it is seen through; 404 outside the key's scope."""
    ctx, key = _ctx(request), key_of(request)
    rows = reads.query(ctx.warehouse, "clip", [clip_id])
    if not rows:
        raise ApiError(404, "CLIP_NOT_FOUND", f"no clip {clip_id!r}")
    clip = rows[0]
    projects = [p["project_id"] for p in ctx.projects.all() if clip["creator"] in p["creators"]]
    visible = [pid for pid in projects if key.allows(pid)]
    if key.project != ALL_PROJECTS and not visible:
        raise ApiError(404, "CLIP_NOT_FOUND", f"no clip {clip_id!r} in project {key.project}")
    return clip, (visible[0] if visible else None)


def _partition(clip: dict) -> str:
    from omniva_assets.partitions import clip_key

    return str(clip_key(clip["video_key"], clip["rank"]))


@router.get("/clips/{clip_id}", response_model=Envelope)
def get_clip(request: Request, clip_id: str):
    clip, project_id = _clip(request, clip_id)
    if clip["upload_status"]:
        status = clip["upload_status"]
    else:
        status = (
            "READY_FOR_UPLOAD"
            if clip["render_path"]
            else ("EDITING" if clip["edit_job_id"] else "READY_FOR_EDIT")
        )
    meta = reads.as_json(clip["metadata"]) or {}
    return _ok(
        request,
        {
            "clip_id": str(clip["clip_id"]),
            "project_id": project_id,
            "video_id": str(clip["video_id"]),
            "video_key": clip["video_key"],
            "rank": clip["rank"],
            "partition": _partition(clip),
            "status": status,
            "metadata": {
                "start_time": clip["start_time"],
                "end_time": clip["end_time"],
                "confidence": clip["confidence"],
                "semantic_tags": clip["semantic_tags"] or [],
                "text": meta.get("text"),
                "pantheon_votes": reads.as_json(clip["pantheon_votes"]) or {},
            },
            "edit_job": {
                "edit_job_id": str(clip["edit_job_id"]),
                "status": clip["edit_status"],
                "timeline_path": clip["timeline_path"],
                "render_path": clip["render_path"],
                "render_checksum": clip["render_checksum"],
            }
            if clip["edit_job_id"]
            else None,
            "upload_job": {
                "upload_job_id": str(clip["upload_job_id"]),
                "status": clip["upload_status"],
                "yt_video_id": clip["yt_video_id"],
                "scheduled_time": clip["scheduled_time"],
                "privacy_status": clip["privacy_status"],
                "api_root": clip["upload_api_root"],
            }
            if clip["upload_job_id"]
            else None,
        },
    )


def _zenith_gate(ctx: ApiContext, stage: str, partition: str, job_id: str) -> str | None:
    """Zenith's rules for one requested partition: refuse quarantined ones, defer in crisis.
    Returns the deferral reason, if any; records the decision either way."""
    from cognitive_sensors.zenith import Decision
    from omniva_assets.eclipse import stage_crisis

    actions = ctx.actions
    if partition in actions.store.quarantined():
        actions.store.record_decisions(
            "omniva-api", stage, [Decision(partition, "skip", "quarantined by Eclipse")]
        )
        raise ApiError(
            409,
            "QUARANTINED",
            f"{partition} is quarantined by Eclipse; see `omniva quarantine list`, release it first",
        )
    crisis = stage_crisis(actions.instance, actions.store, f"{stage}_job")
    decision = Decision(partition, "defer" if crisis else "request", crisis or "requested through the API")
    actions.store.record_decisions("omniva-api", stage, [decision], tags={"api_job": job_id})
    return crisis


@router.post("/clips/{clip_id}/edit", response_model=Envelope, status_code=202)
def edit_clip(
    request: Request, clip_id: str, body: Annotated[EditRequest | None, Body()] = None, wait: Wait = 0
):
    """Re-materialize the clip's render (and its edit decision list first if it has none)."""
    from omniva_app.api.dagster_ops import PRIORITY

    body = body or EditRequest()
    ctx = _ctx(request)
    clip, project_id = _clip(request, clip_id)
    partition = _partition(clip)
    actions = ctx.actions
    busy = [j for j in actions.pending("edit") if j.subject.get("partition") == partition]
    if busy or actions.active_runs("clip_job", partition):
        raise ApiError(409, "EDIT_ALREADY_IN_PROGRESS", f"clip {clip_id} ({partition}) is being edited")
    job_id = actions.new_job_id("edit")
    crisis = _zenith_gate(ctx, "clip", partition, job_id)
    if crisis:
        return _ok(request, {"clip_id": clip_id, "status": "DEFERRED", "reason": crisis, "run_id": None}, 200)
    run = actions.plan_run(
        "clip_job",
        partition,
        "clip",
        priority=PRIORITY[body.priority],
        creator=clip["creator"],
        gpu=body.gpu_required,
        asset_selection=["renders"] if clip["edit_job_id"] else None,
        extra_tags={"omniva/requested_operations": ",".join(body.operations)},
        job_id=job_id,
    )
    job, view = _launch(
        ctx,
        request,
        (job_id, "edit", project_id, [run], {"clip_id": clip_id, "partition": partition}),
        wait,
        f"edit {job_id}: re-render {partition}",
        clip_id=clip_id,
        run_id=run.run_id,
    )
    return _ok(
        request,
        {
            "edit_job_id": str(clip["edit_job_id"]) if clip["edit_job_id"] else None,
            "job_id": job_id,
            "status": view["status"],
            "clip_id": clip_id,
            "partition": partition,
            "run_id": run.run_id,
            "runs": view["runs"],
        },
        202,
    )


@router.post("/clips/{clip_id}/upload", response_model=Envelope, status_code=202)
def upload_clip(
    request: Request,
    clip_id: str,
    body: Annotated[UploadRequest | None, Body()] = None,
    wait: Wait = 30,
):
    """Request the clip's ``uploads`` partition; quota and Zenith decide whether it goes now."""
    from omniva_resources.resources import resources_from_env

    ctx = _ctx(request)
    clip, project_id = _clip(request, clip_id)
    partition = _partition(clip)
    overrides = body.model_dump(exclude_none=True) if body else {}
    if overrides:
        raise ApiError(
            422,
            "OVERRIDES_NOT_SUPPORTED",
            f"cannot override {', '.join(sorted(overrides))}: the copy comes from clip_copy (Chorus) and the "
            "slot from the publish plan; send an empty body",
        )
    if not clip["render_path"]:
        raise ApiError(
            409, "CLIP_NOT_RENDERED", f"clip {clip_id} has no render yet: POST /v1/clips/{clip_id}/edit"
        )
    api_root = resources_from_env()["youtube_api"].effective_api_root
    if clip["yt_video_id"] and clip["upload_status"] != "DEFERRED" and clip["upload_api_root"] == api_root:
        raise ApiError(
            409,
            "UPLOAD_EXISTS",
            f"clip {clip_id} is already on {api_root} as {clip['yt_video_id']} ({clip['upload_status']})",
        )
    actions = ctx.actions
    scheduled = ctx.warehouse.query("SELECT 1 FROM schedules WHERE CAST(clip_id AS VARCHAR) = ?", [clip_id])
    if not scheduled:
        raise ApiError(
            409,
            "NOT_SCHEDULED",
            f"clip {clip_id} has no publish slot: POST /v1/projects/{project_id}/schedule first",
        )
    busy = [j for j in actions.pending("upload") if j.subject.get("partition") == partition]
    if busy or actions.active_runs("upload_job", partition):
        raise ApiError(409, "UPLOAD_IN_PROGRESS", f"clip {clip_id} ({partition}) is being uploaded")
    job_id = actions.new_job_id("upload")
    crisis = _zenith_gate(ctx, "upload", partition, job_id)
    if crisis:
        return _ok(
            request,
            {"clip_id": clip_id, "status": "DEFERRED", "deferred": True, "reason": crisis, "run_id": None},
            200,
        )
    run = actions.plan_run("upload_job", partition, "upload", creator=clip["creator"], job_id=job_id)
    job, view = _launch(
        ctx,
        request,
        (job_id, "upload", project_id, [run], {"clip_id": clip_id, "partition": partition}),
        wait,
        f"upload {job_id}: {partition}",
        clip_id=clip_id,
        run_id=run.run_id,
    )
    return _ok(
        request,
        {
            "upload_job_id": str(clip["upload_job_id"]) if clip["upload_job_id"] else None,
            "job_id": job_id,
            "status": view["status"],
            "clip_id": clip_id,
            "partition": partition,
            "run_id": run.run_id,
            "deferred": bool(job.result.get("deferred")),
            "reason": job.result.get("reason"),
            "deferred_until": job.result.get("deferred_until"),
            "yt_video_id": job.result.get("yt_video_id"),
            "runs": view["runs"],
        },
        202,
    )


@router.get("/projects/{project_id}/uploads", response_model=Envelope)
def list_uploads(request: Request, project_id: str, limit: Limit = 50, offset: Offset = 0):
    rows, total = _project_rows(request, project_id, "uploads", limit, offset)
    items = [{**r, "upload_job_id": str(r["upload_job_id"]), "clip_id": str(r["clip_id"])} for r in rows]
    return _ok(request, page(items, limit, offset, total))


# ---------------------------------------------------------------- schedule
@router.post("/projects/{project_id}/schedule", response_model=Envelope, status_code=202)
def reschedule(
    request: Request, project_id: str, body: Annotated[ScheduleRequest | None, Body()] = None, wait: Wait = 0
):
    """Re-run the publish plan (Horizon: quota and slots; committed slots never move)."""
    body = body or ScheduleRequest()
    ctx = _ctx(request)
    _project(request, project_id)
    actions = ctx.actions
    if actions.pending("schedule") or actions.active_runs("publish_plan_job"):
        raise ApiError(409, "SCHEDULER_BUSY", "the publish plan is being computed; try again shortly")
    if body.target_day is not None:
        raise ApiError(
            422,
            "TARGET_DAY_NOT_SUPPORTED",
            "the publish plan fills the earliest free slots from now; target_day cannot be chosen",
        )
    considered = len(ctx.warehouse.query_file("ready_clips"))
    before = len(ctx.warehouse.query("SELECT clip_id FROM schedules"))
    job_id = actions.new_job_id("schedule")
    run = actions.plan_run(
        "publish_plan_job", None, "publish_plan", job_id=job_id, extra_tags={"omniva/reason": body.reason}
    )
    job, view = _launch(
        ctx,
        request,
        (job_id, "schedule", project_id, [run], {"reason": body.reason}),
        wait,
        f"schedule {job_id} ({body.reason})",
        project_id=project_id,
        run_id=run.run_id,
    )
    updated = len(ctx.warehouse.query("SELECT clip_id FROM schedules")) - before if job.completed_at else None
    return _ok(
        request,
        {
            "jobs_considered": considered,
            "updated": updated,
            "status": view["status"],
            "job_id": job_id,
            "run_id": run.run_id,
            "runs": view["runs"],
        },
        202,
    )


@router.get("/projects/{project_id}/schedule", response_model=Envelope)
def get_schedule(request: Request, project_id: str, limit: Limit = 50, offset: Offset = 0):
    rows, total = _project_rows(request, project_id, "schedule", limit, offset)
    items = [
        {
            "clip_id": str(r["clip_id"]),
            "clip_key": r["clip_key"],
            "upload_job_id": str(r["upload_job_id"]) if r["upload_job_id"] else None,
            "channel": r["channel"],
            "recommended_time": r["recommended_time"],
            "final_time": r["final_scheduled_time"],
            "status": "CONFIRMED" if r["upload_status"] in ("SCHEDULED", "LIVE", "UPLOADED") else r["status"],
            "upload_status": r["upload_status"],
            "reason": r["reason"],
        }
        for r in rows
    ]
    return _ok(request, page(items, limit, offset, total))


# ---------------------------------------------------------------- logs
@router.get("/projects/{project_id}/logs", response_model=Envelope)
def logs(
    request: Request,
    project_id: str,
    source: Annotated[str | None, Query(max_length=100)] = None,
    level: Annotated[str | None, Query(pattern="^(DEBUG|INFO|WARN|ERROR)$")] = None,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: Annotated[datetime | None, Query()] = None,
    worker_type: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """Dagster's event log of the project's runs (its creators' posts, videos and clips)."""
    from omniva_app.api.dagster_ops import WORKER_OF_JOB

    ctx = _ctx(request)
    p = _project(request, project_id)
    creators = set(p["creators"])
    videos = (
        {r["video_key"] for r in reads.query(ctx.warehouse, "project_videos", [p["creators"]])}
        if creators
        else set()
    )
    aware = lambda t: t if t is None or t.tzinfo else t.replace(tzinfo=UTC)  # noqa: E731
    items, total = reads.run_logs(
        ctx.actions.instance,
        creators,
        videos,
        WORKER_OF_JOB,
        level=level,
        source=source,
        worker_type=worker_type,
        since=aware(from_),
        until=aware(to),
        limit=limit,
        offset=offset,
    )
    return _ok(request, page(items, limit, offset, total))


# ---------------------------------------------------------------- insights
@router.get("/clips/{clip_id}/insights", response_model=Envelope)
def insights(request: Request, clip_id: str):
    """HaloLux: the same explanation as `omniva explain CLIP --json`, plus each module's part."""
    from cognitive_sensors import halolux, stardust
    from omniva_resources.insights import load_bundle

    ctx = _ctx(request)
    clip, project_id = _clip(request, clip_id)
    bundle = load_bundle(ctx.warehouse, clip_id)
    if not bundle["votes"]:
        raise ApiError(409, "HALOLUX_PENDING", f"clip {clip_id} has no Pantheon votes recorded yet")
    partition = _partition(clip)
    checks = reads.query(ctx.warehouse, "clip_checks", [clip["video_key"], partition])
    zenith = reads.query(ctx.warehouse, "latest_zenith", [[partition]])
    return _ok(
        request,
        {
            "clip_id": clip_id,
            "project_id": project_id,
            "trace_id": stardust.trace_id_for(clip["video_key"]),
            "explanation": halolux.explain_markdown(bundle),
            "insights": {
                "paradox": {
                    "conflicts": [c for c in checks if not c["passed"]],
                    "checks": [
                        {k: c[k] for k in ("asset_key", "check_name", "passed", "description")}
                        for c in checks
                    ],
                },
                "lattice": {"priority": clip["lattice_priority"]},
                "pantheon": [
                    {"agent": v["agent"], "vote": v["vote"], "score": v["score"], "comment": v["reason"]}
                    for v in bundle["votes"]
                ],
                "horizon": {
                    "slot": bundle["schedule"].get("final_scheduled_time"),
                    "reason": bundle["schedule"].get("reason"),
                },
                "zenith": {
                    "decision": zenith[0]["action"] if zenith else None,
                    "reason": zenith[0]["reason"] if zenith else None,
                    "stage": zenith[0]["stage"] if zenith else None,
                },
            },
            "raw_payload": bundle,
        },
    )


# ---------------------------------------------------------------- jobs and system
@router.get("/jobs/{job_id}", response_model=Envelope)
def get_job(request: Request, job_id: str):
    """An action the API launched: its runs, their Dagster status, and the outcome."""
    ctx, key = _ctx(request), key_of(request)
    job = ctx.actions.job(job_id)
    if job is None or not (job.project_id is None or key.allows(job.project_id)):
        raise ApiError(404, "JOB_NOT_FOUND", f"no job {job_id!r}")
    return _ok(request, _job_view(ctx, job))


@router.get("/system/status", response_model=Envelope)
def system_status(request: Request):
    from omniva_app.api.status import system_status as status

    ctx = _ctx(request)
    try:
        channels = sorted(
            {r["channel"] for r in ctx.warehouse.query("SELECT DISTINCT channel FROM schedules")}
            | {p["channel"] for p in ctx.projects.all() if key_of(request).allows(p["project_id"])}
            | {resources_channel()}
        )
        return _ok(request, status(ctx.actions, channels))
    except ApiError:
        raise
    except Exception as exc:
        raise ApiError(500, "STATUS_UNAVAILABLE", f"{type(exc).__name__}: {exc}") from exc


def resources_channel() -> str:
    from omniva_resources.resources import resources_from_env

    return resources_from_env()["publish_rules"].channel
