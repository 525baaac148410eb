"""An action the API launched: its runs, their Dagster status, and the outcome."""

from __future__ import annotations

from fastapi import APIRouter, Request

from omniva_app.api.context import ctx_of, key_of
from omniva_app.api.envelope import ApiError
from omniva_app.api.keys import ALL_PROJECTS
from omniva_app.api.routes.actions import job_view
from omniva_app.api.routes.common import ok
from omniva_app.api.schemas import Envelope

router = APIRouter()


@router.get("/jobs/{job_id}", response_model=Envelope)
def get_job(request: Request, job_id: str):
    """An action the API launched: its runs, their Dagster status, and the outcome."""
    ctx, key = ctx_of(request), key_of(request)
    job = ctx.actions.job(job_id)
    # A job of no project (an admin's action on a creator outside every project) is the admin's.
    if job is None or not (key.project == ALL_PROJECTS or job.project_id == key.project):
        raise ApiError(404, "JOB_NOT_FOUND", f"no job {job_id!r}")
    return ok(request, job_view(ctx, job))
