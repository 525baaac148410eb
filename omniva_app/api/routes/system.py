"""``GET /v1/system/status`` for the channels the caller can see."""

from __future__ import annotations

from fastapi import APIRouter, Request

from omniva_app.api import status
from omniva_app.api.context import ctx_of, key_of
from omniva_app.api.envelope import ApiError
from omniva_app.api.routes.common import ok, resources_channel
from omniva_app.api.schemas import Envelope

router = APIRouter()


@router.get("/system/status", response_model=Envelope)
def system_status(request: Request):
    ctx = ctx_of(request)
    try:
        channels = sorted(
            {r["channel"] for r in ctx.warehouse.query_file("committed_slots")}
            | {p["channel"] for p in ctx.projects.all() if key_of(request).allows(p["project_id"])}
            | {resources_channel()}
        )
        return ok(request, status.system_status(ctx.actions, channels))
    except ApiError:
        raise
    except Exception as exc:
        raise ApiError(500, "STATUS_UNAVAILABLE", f"{type(exc).__name__}: {exc}") from exc
