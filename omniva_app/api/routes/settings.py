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
from pydantic import Field

from omniva import project_settings, templates
from omniva_app.api.context import ctx_of
from omniva_app.api.envelope import ApiError
from omniva_app.api.project_registry import PREFIX
from omniva_app.api.routes.actions import audit
from omniva_app.api.routes.common import clip_of, ok, project_of, project_rows
from omniva_app.api.schemas import Envelope, Strict
from omniva_app.launch import LaunchSettings
from omniva_resources import copy_templates, projects
from omniva_resources.resources import resources_from_env

router = APIRouter()

PRECEDENCE = "the project's own value, else the deployment's environment variable, else the goals file, else the built-in default"


def _view(request: Request, project_id: str) -> dict[str, Any]:
    ctx = ctx_of(request)
    goals_file = resources_from_env()["horizon"].goals_file or None
    lay = ctx.store.layout
    rows = projects.settings_in_force(project_id.removeprefix(PREFIX), lay, default_goals=goals_file)
    launch = LaunchSettings.from_env()
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
            "gpus (OMNIVA_GPUS)": str(launch.gpus),
            "parallel renders (OMNIVA_RENDER_PARALLEL)": launch.render_parallel,
            "runs launched through": launch.graphql_url or "this API process",
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
    _check_templates_on_clips(request, project_id, changes)
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


# ---------------------------------------------------------------- copy templates
class TemplatePreview(Strict):
    title_template: str | None = Field(default=None, max_length=300)
    description_template: str | None = Field(default=None, max_length=5000)
    tags_template: str | None = Field(default=None, max_length=1000)
    clip_id: str | None = None  # default: the project's latest clip with copy


def _project_clips(request: Request, project_id: str, limit: int = 20) -> list[str]:
    rows, _ = project_rows(request, project_id, "project_clips", limit, 0)
    return [str(r["clip_id"]) for r in rows]


def _templates_after(request: Request, project_id: str, changes: dict[str, Any]) -> dict[str, str]:
    own = projects.own_settings(project_id.removeprefix(PREFIX), ctx_of(request).store.layout)
    merged = {**own, **{k: v for k, v in changes.items() if k in templates.FIELDS}}
    return copy_templates.project_templates(merged)


def _check_templates_on_clips(request: Request, project_id: str, changes: dict[str, Any]) -> None:
    """A template whose output on one of the project's clips breaks YouTube's limits is refused
    (the field, the clip and the limit named); its syntax is checked with the other settings."""
    if not any(k in templates.FIELDS and isinstance(v, str) for k, v in changes.items()):
        return
    try:
        tmpl = _templates_after(request, project_id, changes)
        for value in tmpl.values():
            templates.check(value)
    except templates.TemplateError:
        return  # named by the settings' own check
    field_of = {v: k for k, v in templates.FIELDS.items()}
    for chorus, source in copy_templates.inputs(
        ctx_of(request).warehouse, _project_clips(request, project_id)
    ):
        _, bad = copy_templates.apply(chorus, source, tmpl)
        bad = [p for p in bad if field_of.get(p["field"]) in tmpl]
        if bad:
            clip_id = chorus.clip_id
            raise ApiError(
                400,
                "VALIDATION_ERROR",
                f"settings refused: on clip {clip_id} the templates give copy YouTube refuses: "
                + "; ".join(p["problem"] for p in bad[:3]),
                [
                    {"field": field_of[p["field"]], "problem": f"on clip {clip_id}: {p['problem']}"}
                    for p in bad
                ],
            )


@router.post("/projects/{project_id}/templates/preview", response_model=Envelope)
def preview_templates(request: Request, project_id: str, body: TemplatePreview):
    """The copy the templates give on a real clip of the project (the latest, or ``clip_id``),
    beside Chorus's, with every YouTube limit it breaks; the variables and their values."""
    project_of(request, project_id)
    changes = body.model_dump(exclude={"clip_id", "schema_version"}, exclude_none=True)
    problems = []
    for name, value in changes.items():
        try:
            templates.check(value)
        except templates.TemplateError as exc:
            problems.append({"field": name, "problem": str(exc)})
    if problems:
        raise ApiError(400, "VALIDATION_ERROR", f"template refused: {problems[0]['problem']}", problems)
    if body.clip_id:
        clip, owner = clip_of(request, body.clip_id)
        if owner != project_id:
            raise ApiError(404, "CLIP_NOT_FOUND", f"clip {body.clip_id} is not in project {project_id}")
        candidates = [str(clip["clip_id"])]
    else:
        candidates = _project_clips(request, project_id)
    found = copy_templates.inputs(ctx_of(request).warehouse, candidates)
    if not found:
        raise ApiError(409, "NO_CLIPS", f"project {project_id} has no clip with copy yet to preview on")
    chorus, source = found[0]
    tmpl = _templates_after(request, project_id, changes)
    copy, bad = copy_templates.apply(chorus, source, tmpl)
    base = templates.Copy(chorus.title, chorus.description, chorus.tags)
    return ok(
        request,
        {
            "clip_id": chorus.clip_id,
            "variables": [
                {"name": k, "help": templates.VARIABLES[k], "value": v}
                for k, v in templates.values_of(base, source).items()
            ],
            "chorus": {"title": chorus.title, "description": chorus.description, "tags": list(chorus.tags)},
            "copy": {"title": copy.title, "description": copy.description, "tags": list(copy.tags)},
            "problems": bad,
        },
    )
