"""A project's creators: attach one (registering it when new), list them with their activity."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request

from omniva.errors import ConfigError
from omniva_app.api.context import ctx_of
from omniva_app.api.envelope import ApiError
from omniva_app.api.routes.actions import audit
from omniva_app.api.routes.common import ok, project_of, register_creator
from omniva_app.api.schemas import CreatorCreate, Envelope
from omniva_resources import creators as creator_registry

router = APIRouter()


def creator_name(handle: str) -> str:
    """The registry name of a handle (``@Some.One`` -> ``some-one``); 422 when unusable."""
    name = re.sub(r"[^a-z0-9_-]+", "-", handle.strip().lstrip("@").lower()).strip("-")
    if not creator_registry.NAME.match(name):
        raise ApiError(
            422, "INVALID_HANDLE", f"handle {handle!r}: use letters, digits, '-' or '_' (1-41 chars)"
        )
    return name


@router.post("/projects/{project_id}/creators", response_model=Envelope, status_code=201)
def add_creator(request: Request, project_id: str, body: CreatorCreate):
    ctx = ctx_of(request)
    p = project_of(request, project_id)
    name = creator_name(body.handle)
    if name in p["creators"]:
        raise ApiError(409, "CREATOR_EXISTS", f"creator {name!r} is already in {project_id}")
    known = {c.name: c for c in creator_registry.active(ctx.layout)}
    if body.profile_url:
        try:
            creator = creator_registry.add(ctx.layout, name, body.profile_url)
        except ConfigError as exc:
            raise ApiError(422, "INVALID_PROFILE_URL", str(exc)) from exc
    elif name in known:
        creator = known[name]
    else:
        raise ApiError(422, "INVALID_HANDLE", f"creator {name!r} is not registered yet: give its profile_url")
    register_creator(ctx.actions.instance, name)
    ctx.projects.attach_creator(project_id, name)
    audit(ctx, request, f"creator {name} attached to {project_id}", project_id=project_id, creator=name)
    return ok(
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
    ctx = ctx_of(request)
    p = project_of(request, project_id)
    registry = {c.name: c for c in creator_registry.active(ctx.layout)}
    activity = (
        {r["creator"]: r for r in ctx.warehouse.query_file("creator_activity", [p["creators"]])}
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
    return ok(request, {"items": items})
