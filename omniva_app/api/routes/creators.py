"""A project's creators: attach one (registering it when new), list them with their activity.

A creator belongs to one project (or, registered from the CLI without one, to the admin
scope). A project key may register new creators only; an existing one, wherever it belongs,
is never rewritten or taken through a project key, and its owner is named to admins only.
An admin key may attach a creator of the admin scope, not one another project owns.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request

from omniva.errors import ConfigError, UnsafeSourceError
from omniva.redact import redact_url
from omniva_app.api.context import ApiContext, ctx_of, key_of
from omniva_app.api.envelope import ApiError
from omniva_app.api.keys import ALL_PROJECTS
from omniva_app.api.routes.actions import audit
from omniva_app.api.routes.common import ok, project_of, register_creator
from omniva_app.api.schemas import CreatorCreate, Envelope
from omniva_resources import creators as creator_registry
from omniva_resources.project_file import CreatorOwnedError
from omniva_resources.resources import resources_from_env
from omniva_resources.source_guard import check_api_source_url

router = APIRouter()


def creator_name(handle: str) -> str:
    """The registry name of a handle (``@Some.One`` -> ``some-one``); 422 when unusable."""
    name = re.sub(r"[^a-z0-9_-]+", "-", handle.strip().lstrip("@").lower()).strip("-")
    if not creator_registry.NAME.match(name):
        raise ApiError(
            422, "INVALID_HANDLE", f"handle {handle!r}: use letters, digits, '-' or '_' (1-41 chars)"
        )
    return name


def _taken(name: str, owner: str | None, admin: bool) -> ApiError:
    where = f"belongs to {owner}" if admin and owner else "is taken"
    return ApiError(409, "CREATOR_OWNED", f"creator {name!r} {where}; choose another handle")


def _registered(ctx: ApiContext, name: str) -> bool:
    try:
        creator_registry.get(ctx.layout, name)
    except ConfigError:
        return False
    return True


def _source_url(url: str) -> str:
    """The URL the scraper may fetch for an API caller: http(s) to a public address, or a
    folder under the operator's ``OMNIVA_FOLDER_SOURCES_ROOT``."""
    try:
        checked = check_api_source_url(url, resources_from_env()["scrape"].folder_sources_root)
    except UnsafeSourceError as exc:
        raise ApiError(422, "UNSAFE_SOURCE", str(exc)) from exc
    try:
        return creator_registry.normalize_url(checked)
    except ConfigError as exc:
        raise ApiError(422, "INVALID_PROFILE_URL", str(exc)) from exc


@router.post("/projects/{project_id}/creators", response_model=Envelope, status_code=201)
def add_creator(request: Request, project_id: str, body: CreatorCreate):
    ctx = ctx_of(request)
    admin = key_of(request).project == ALL_PROJECTS
    p = project_of(request, project_id)
    name = creator_name(body.handle)
    if name in p["creators"]:
        raise ApiError(409, "CREATOR_EXISTS", f"creator {name!r} is already in {project_id}")
    owner, registered = ctx.projects.owner_of(name), _registered(ctx, name)
    if owner is not None or (registered and not admin):
        raise _taken(name, owner, admin)
    url = _source_url(body.profile_url) if body.profile_url else None
    if url is None and not registered:
        raise ApiError(422, "INVALID_HANDLE", f"creator {name!r} is not registered yet: give its profile_url")
    try:
        # Claimed first, under the registry's lock: of two projects racing for a new name,
        # the loser is refused before it writes the creator's URL.
        ctx.projects.attach_creator(project_id, name)
    except CreatorOwnedError as exc:
        raise _taken(name, exc.owner, admin) from exc
    try:
        creator = (
            creator_registry.add(ctx.layout, name, url) if url else creator_registry.get(ctx.layout, name)
        )
        register_creator(ctx.actions.instance, name)
    except BaseException:
        ctx.projects.detach_creator(project_id, name)
        raise
    audit(ctx, request, f"creator {name} attached to {project_id}", project_id=project_id, creator=name)
    return ok(
        request,
        {
            "creator_id": creator.creator_id,
            "handle": name,
            "platform": body.platform,
            "detected_platform": creator.platform,
            "profile_url": redact_url(creator.url),
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
                "profile_url": redact_url(c.url) if c else None,
                "status": "ACTIVE" if c else "REMOVED",
                "last_scraped_at": a.get("last_scraped_at"),
                "posts_seen": a.get("posts_seen", 0),
                "videos_downloaded": a.get("videos_downloaded", 0),
            }
        )
    return ok(request, {"items": items})
