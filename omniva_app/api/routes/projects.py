"""Projects: list, create, read, and start or stop their automation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse

from omniva_app.api.context import ApiContext, ctx_of, key_of
from omniva_app.api.envelope import ApiError, page
from omniva_app.api.keys import ALL_PROJECTS
from omniva_app.api.routes import dashboard
from omniva_app.api.routes.actions import audit
from omniva_app.api.routes.common import Limit, Offset, ok, project_of, resources_channel
from omniva_app.api.schemas import Envelope, ProjectAction, ProjectCreate

router = APIRouter()


def project_stats(ctx: ApiContext, creators: list[str]) -> dict:
    if not creators:
        return {"videos_scraped": 0, "clips_ready": 0, "clips_in_pipeline": 0, "uploads_pending": 0}
    return ctx.warehouse.query_file("project_stats", [creators])[0]


def _health_inputs(ctx: ApiContext) -> tuple[list, dict]:
    """The recent runs and each stage's crisis, read once for the whole list."""
    from omniva_assets.policy import stage_crisis

    instance = ctx.actions.instance
    runs = list(instance.get_runs(limit=200))
    return runs, {job: stage_crisis(instance, ctx.store, job) for job in dashboard.STAGE_OF_JOB}


@router.get("/projects", response_model=Envelope)
def list_projects(
    request: Request, limit: Limit = 50, offset: Offset = 0, status: Annotated[str | None, Query()] = None
):
    ctx, key = ctx_of(request), key_of(request)
    projects = [
        p
        for p in ctx.projects.all()
        if key.allows(p["project_id"]) and (status is None or p["status"] == status.upper())
    ]
    items = []
    shown = projects[offset : offset + limit]
    # Dagster is read only when a shown project runs (a paused one is never ERROR)
    runs, crisis = _health_inputs(ctx) if any(p["status"] == "RUNNING" for p in shown) else ([], {})
    for p in shown:
        stats = project_stats(ctx, p["creators"])
        error = dashboard.health(ctx, p, runs, crisis) if p["status"] == "RUNNING" else None
        items.append(
            {
                "project_id": p["project_id"],
                "name": p["name"],
                # RUNNING / PAUSED (its automation), ERROR: running, but its recent runs failed
                # or a stage is in crisis (``status_reason`` says which)
                "status": "ERROR" if error else p["status"],
                "status_reason": error,
                "videos_scraped": stats["videos_scraped"],
                "clips_ready": stats["clips_ready"],
                "created_at": p["created_at"],
                **dashboard.activity(ctx, p),
            }
        )
    return ok(request, page(items, limit, offset, len(projects)))


@router.post("/projects", response_model=Envelope, status_code=201)
def create_project(request: Request, body: ProjectCreate):
    ctx, key = ctx_of(request), key_of(request)
    if key.project != ALL_PROJECTS:
        raise ApiError(
            403, "FORBIDDEN", "creating projects needs an admin key (`omniva api keys create --admin`)"
        )
    p = ctx.projects.create(
        body.name,
        channel=body.channel or resources_channel(),
        description=body.description,
        settings=body.model_dump(exclude={"name", "channel", "description", "schema_version"}),
    )
    audit(ctx, request, f"project {p['project_id']} created", project_id=p["project_id"])
    return ok(
        request, {"project_id": p["project_id"], "status": p["status"], "created_at": p["created_at"]}, 201
    )


@router.get("/projects/{project_id}", response_model=Envelope)
def get_project(request: Request, project_id: str):
    ctx = ctx_of(request)
    p = project_of(request, project_id)
    stats = project_stats(ctx, p["creators"])
    return ok(
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


def _switch(request: Request, project_id: str, body: ProjectAction | None, on: bool) -> JSONResponse:
    """Start or stop this project's automation only: its creators are served by the sensors and
    the daily schedule, or skipped (``omniva_assets.policy``). The instigators themselves are on
    while any project runs: start switches them on; stop switches them off only when no
    project is left running. The answer names no other project."""
    ctx = ctx_of(request)
    target = "RUNNING" if on else "PAUSED"
    if project_of(request, project_id)["status"] == target:
        code = "ALREADY_RUNNING" if on else "ALREADY_STOPPED"
        raise ApiError(409, code, f"project {project_id} is already {target}")
    reason = body.reason if body else "api"
    p = ctx.projects.set_status(project_id, target, reason)
    others = [pid for pid in ctx.projects.running() if pid != project_id]
    automation = ctx.actions.set_automation(True) if on else ctx.actions.set_automation(bool(others))
    verb = "scheduled to start" if on else "stopping"
    audit(
        ctx,
        request,
        f"project {project_id} {verb} ({reason}): its automation is {'on' if on else 'off'}",
        project_id=project_id,
        automation=automation,
    )
    return ok(
        request,
        {
            "message": f"Project {project_id} {verb}: the sensors and the daily schedule "
            f"{'serve' if on else 'skip'} its creators.",
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
