"""``GET /v1/system/status``: everything for an admin key; a project key sees its own
channel's quota and its own quarantined partitions (``status.ProjectScope``)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request

from omniva_app.api import status
from omniva_app.api.context import ctx_of, key_of
from omniva_app.api.envelope import ApiError
from omniva_app.api.keys import ALL_PROJECTS
from omniva_app.api.routes.common import ok, resources_channel
from omniva_app.api.schemas import Envelope

router = APIRouter()
log = logging.getLogger(__name__)


@router.get("/system/status", response_model=Envelope)
def system_status(request: Request):
    ctx, key = ctx_of(request), key_of(request)
    try:
        if key.project == ALL_PROJECTS:
            channels = sorted(
                {r["channel"] for r in ctx.warehouse.query_file("committed_slots")}
                | {p["channel"] for p in ctx.projects.all()}
                | {resources_channel()}
            )
            return ok(request, status.system_status(ctx.actions, channels))
        p = ctx.projects.get(key.project)
        videos = ctx.warehouse.query_file("project_videos", [p["creators"]]) if p["creators"] else []
        scope = status.ProjectScope(frozenset(p["creators"]), frozenset(r["video_key"] for r in videos))
        return ok(request, status.system_status(ctx.actions, [p["channel"]], scope))
    except ApiError:
        raise
    except Exception as exc:
        # The text of an internal error can name the server's paths: it goes to the server's log.
        log.exception("system status failed")
        raise ApiError(
            500, "STATUS_UNAVAILABLE", "the status could not be read; see the API server's log"
        ) from exc
