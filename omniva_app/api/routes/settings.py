"""A project's settings (#29): read them with the value in force and where it comes from,
change them (checked; every bad field named), and read who changed what.

Kept in ``projects.json`` beside the project (``omniva_resources.projects.set_settings``), where
the assets read them when their next run starts: nothing restarts. Each change is audited in the
warehouse ``logs`` (who, when, each value before and after) and recorded in the Stardust packets
of the runs it influences (the publish plan's ``channel_rules``, the candidates' limits, the
council's ``max_clips``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from omniva import project_settings
from omniva_app.api.context import ctx_of
from omniva_app.api.envelope import ApiError
from omniva_app.api.project_registry import PREFIX
from omniva_app.api.routes.actions import audit
from omniva_app.api.routes.common import ok, project_of
from omniva_app.api.schemas import Envelope
from omniva_resources import projects
from omniva_resources.resources import resources_from_env

router = APIRouter()

PRECEDENCE = "the project's own value, else the deployment's environment variable, else the goals file, else the built-in default"


def _view(request: Request, project_id: str) -> dict[str, Any]:
    ctx = ctx_of(request)
    goals_file = resources_from_env()["horizon"].goals_file or None
    lay = ctx.store.layout
    rows = projects.settings_in_force(project_id.removeprefix(PREFIX), lay, default_goals=goals_file)
    return {
        "project_id": project_id,
        "precedence": PRECEDENCE,
        "settings": [r.as_dict() for r in rows],
        # what the deployment decides (read-only here): where things are kept, how runs execute
        "deployment": {
            "home": str(lay.home),
            "media": str(lay.media),
            "warehouse": str(lay.duckdb_path),
            "dagster_home": str(lay.dagster_home),
        },
    }


@router.get("/projects/{project_id}/settings", response_model=Envelope)
def get_settings(request: Request, project_id: str):
    """Every setting with its value in force, where that comes from, its default and help."""
    project_of(request, project_id)
    return ok(request, _view(request, project_id))


@router.put("/projects/{project_id}/settings", response_model=Envelope)
def put_settings(request: Request, project_id: str, body: Annotated[dict[str, Any], Body()]):
    """Set some of the project's settings (``{"daily_clips": 3, ...}``; ``null`` gives a setting
    back to the deployment). All or nothing: one bad field refuses the request and names it."""
    ctx = ctx_of(request)
    project_of(request, project_id)
    changes = {k: v for k, v in body.items() if k != "schema_version"}
    if not changes:
        raise ApiError(400, "VALIDATION_ERROR", "no settings given: send {name: value, ...}")
    goals_file = resources_from_env()["horizon"].goals_file or None
    try:
        diff = projects.set_settings(
            project_id.removeprefix(PREFIX), changes, ctx.store.layout, default_goals=goals_file
        )
    except project_settings.SettingsError as exc:
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            f"settings refused: {exc}",
            [{"field": f, "problem": why} for f, why in exc.problems],
        ) from exc
    if diff:
        names = ", ".join(sorted(diff))
        audit(
            ctx,
            request,
            f"settings of {project_id} changed: {names}",
            project_id=project_id,
            event="settings_changed",
            changes=diff,
        )
    return ok(request, {**_view(request, project_id), "changed": diff})


@router.get("/projects/{project_id}/settings/history", response_model=Envelope)
def settings_history(request: Request, project_id: str, limit: Annotated[int, Query(ge=1, le=200)] = 50):
    """Who changed which setting when, with the values before and after (the audit log)."""
    project_of(request, project_id)
    rows = ctx_of(request).warehouse.query_file("project_settings_history", [project_id, limit])
    items = [
        {
            "log_id": r["log_id"],
            "at": r["created_at"],
            "key_id": r["key_id"],
            "message": r["message"],
            "changes": json.loads(r["changes"] or "{}"),
        }
        for r in rows
    ]
    return ok(request, {"project_id": project_id, "items": items})
