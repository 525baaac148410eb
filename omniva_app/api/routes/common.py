"""What the route modules share: the answer wrapper, the key's view of projects and clips,
paging through the warehouse's named queries, and the query-parameter types."""

from __future__ import annotations

from typing import Annotated, Any

import dagster as dg
from fastapi import Query, Request
from fastapi.responses import JSONResponse

from omniva_app.api import reads
from omniva_app.api.context import ctx_of, key_of
from omniva_app.api.envelope import ApiError, success
from omniva_app.api.keys import ALL_PROJECTS
from omniva_assets.partitions import clip_key, creators_partitions
from omniva_resources.resources import resources_from_env

MAX_OFFSET = 1_000_000  # past every real listing; a bigger number would overflow DuckDB's BIGINT
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


def ok(request: Request, data: Any, status_code: int = 200) -> JSONResponse:
    return success(data, request.state.request_id, status_code)


def is_admin(request: Request) -> bool:
    return key_of(request).project == ALL_PROJECTS


def project_of(request: Request, project_id: str) -> dict:
    """The project, if the caller's key may see it (403 otherwise, 404 when there is none)."""
    key = key_of(request)
    if not key.allows(project_id):
        raise ApiError(
            403, "FORBIDDEN", f"this API key is scoped to project {key.project!r}, not {project_id!r}"
        )
    return ctx_of(request).projects.get(project_id)


def project_rows(
    request: Request, project_id: str, query: str, limit: int, offset: int, *params: Any
) -> tuple[list[dict], int]:
    """One page of a named warehouse query over the project's creators (``creators, *params,
    limit, offset``) and the total count; none when the project has no creators yet."""
    p = project_of(request, project_id)
    if not p["creators"]:
        return [], 0
    return reads.paged(ctx_of(request).warehouse.query_file(query, [p["creators"], *params, limit, offset]))


def clip_of(request: Request, clip_id: str) -> tuple[dict, str | None]:
    """The clip (by id) and the project that owns it (its creator's); 404 outside the key's
    scope, the same answer as for a clip that does not exist."""
    ctx, key = ctx_of(request), key_of(request)
    rows = ctx.warehouse.query_file("clip_detail", [clip_id])
    owner = ctx.projects.owner_of(rows[0]["creator"]) if rows else None
    if not rows or not (key.project == ALL_PROJECTS or owner == key.project):
        raise ApiError(404, "CLIP_NOT_FOUND", f"no clip {clip_id!r}")
    return rows[0], owner


def partition_of(clip: dict) -> str:
    """The clip's Dagster partition key ``rank|video``."""
    return str(clip_key(clip["video_key"], clip["rank"]))


def resources_channel() -> str:
    """The channel uploads go to when a project names none."""
    return resources_from_env()["publish_rules"].channel


def register_creator(instance: dg.DagsterInstance, name: str) -> None:
    """Add the creator's partition of ``creators`` if the instance does not know it yet."""
    partitions = creators_partitions.name
    assert partitions is not None  # declared with its name in omniva_assets.partitions
    if name not in instance.get_dynamic_partitions(partitions):
        instance.add_dynamic_partitions(partitions, [name])
