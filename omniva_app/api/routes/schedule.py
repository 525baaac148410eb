"""The publish plan: re-run it for a project (Horizon), and read the project's slots."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request

from omniva_app.api.context import ctx_of
from omniva_app.api.envelope import ApiError, page
from omniva_app.api.routes.actions import Wait, launch
from omniva_app.api.routes.common import Limit, Offset, ok, project_of, project_rows
from omniva_app.api.schemas import Envelope, ScheduleRequest

router = APIRouter()


def _slots(request: Request, project_id: str) -> int:
    """How many publish slots the project's clips have."""
    return project_rows(request, project_id, "project_schedule", 1, 0)[1]


@router.post("/projects/{project_id}/schedule", response_model=Envelope, status_code=202)
def reschedule(
    request: Request, project_id: str, body: Annotated[ScheduleRequest | None, Body()] = None, wait: Wait = 0
):
    """Re-run the publish plan (Horizon: quota and slots; committed slots never move)."""
    body = body or ScheduleRequest()
    ctx = ctx_of(request)
    p = project_of(request, project_id)
    actions = ctx.actions
    if actions.pending("schedule") or actions.active_runs("publish_plan_job"):
        raise ApiError(409, "SCHEDULER_BUSY", "the publish plan is being computed; try again shortly")
    if body.target_day is not None:
        raise ApiError(
            422,
            "TARGET_DAY_NOT_SUPPORTED",
            "the publish plan fills the earliest free slots from now; target_day cannot be chosen",
        )
    # The plan covers every channel; the answer counts this project's clips only.
    mine = set(p["creators"])
    considered = sum(r["creator"] in mine for r in ctx.warehouse.query_file("ready_clips"))
    before = _slots(request, project_id)
    job_id = actions.new_job_id("schedule")
    run = actions.plan_run(
        "publish_plan_job", None, "publish_plan", job_id=job_id, extra_tags={"omniva/reason": body.reason}
    )
    job, view = launch(
        ctx,
        request,
        (job_id, "schedule", project_id, [run], {"reason": body.reason}),
        wait,
        f"schedule {job_id} ({body.reason})",
        project_id=project_id,
        run_id=run.run_id,
    )
    updated = _slots(request, project_id) - before if job.completed_at else None
    return ok(
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
    rows, total = project_rows(request, project_id, "project_schedule", limit, offset)
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
    return ok(request, page(items, limit, offset, total))
