"""Uploads: publish one clip (quota and Zenith decide whether it goes now), list a project's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request

from omniva_app.api.context import ctx_of
from omniva_app.api.envelope import ApiError, page
from omniva_app.api.routes.actions import Wait, launch_clip_run, refuse_if_busy, zenith_gate
from omniva_app.api.routes.common import Limit, Offset, clip_of, ok, partition_of, project_rows
from omniva_app.api.schemas import Envelope, UploadRequest
from omniva_assets.policy import rejected_reason, review_wait_reason
from omniva_resources import projects
from omniva_resources.resources import resources_from_env

router = APIRouter()


@router.post("/clips/{clip_id}/upload", response_model=Envelope, status_code=202)
def upload_clip(
    request: Request,
    clip_id: str,
    body: Annotated[UploadRequest | None, Body()] = None,
    wait: Wait = 30,
):
    """Request the clip's ``uploads`` partition; quota and Zenith decide whether it goes now."""
    ctx = ctx_of(request)
    clip, project_id = clip_of(request, clip_id)
    partition = partition_of(clip)
    overrides = body.model_dump(exclude_none=True, exclude={"schema_version"}) if body else {}
    if overrides:
        raise ApiError(
            422,
            "OVERRIDES_NOT_SUPPORTED",
            f"cannot override {', '.join(sorted(overrides))}: the copy comes from clip_copy (Chorus) and the "
            "slot from the publish plan; send an empty body",
        )
    if not clip["render_path"]:
        raise ApiError(
            409, "CLIP_NOT_RENDERED", f"clip {clip_id} has no render yet: POST /v1/clips/{clip_id}/edit"
        )
    api_root = resources_from_env()["youtube_api"].effective_api_root
    if clip["yt_video_id"] and clip["upload_status"] != "DEFERRED" and clip["upload_api_root"] == api_root:
        raise ApiError(
            409,
            "UPLOAD_EXISTS",
            f"clip {clip_id} is already on {api_root} as {clip['yt_video_id']} ({clip['upload_status']})",
        )
    # Review before publish (#28): a rejected clip is refused; a clip of a project that
    # requires review waits for its approval (the reasons Zenith's launch policy gives).
    review = ctx.store.latest_reviews([partition]).get(partition)
    if review is not None and review["decision"] == "reject":
        raise ApiError(409, "REJECTED", f"clip {clip_id}: {rejected_reason(review)}")
    owner = projects.review_required_creators(ctx.store.layout).get(clip["creator"])
    if owner is not None and review is None:
        return ok(
            request,
            {
                "clip_id": clip_id,
                "status": "DEFERRED",
                "deferred": True,
                "reason": review_wait_reason(owner),
                "run_id": None,
            },
            200,
        )
    actions = ctx.actions
    if not ctx.warehouse.query_file("clip_schedule", [clip_id]):
        raise ApiError(
            409,
            "NOT_SCHEDULED",
            f"clip {clip_id} has no publish slot: POST /v1/projects/{project_id}/schedule first",
        )
    refuse_if_busy(
        ctx,
        "upload",
        "upload_job",
        partition,
        "UPLOAD_IN_PROGRESS",
        f"clip {clip_id} ({partition}) is being uploaded",
    )
    job_id = actions.new_job_id("upload")
    crisis, priority = zenith_gate(ctx, "upload", partition, job_id)
    if crisis:
        return ok(
            request,
            {"clip_id": clip_id, "status": "DEFERRED", "deferred": True, "reason": crisis, "run_id": None},
            200,
        )
    run = actions.plan_run(
        "upload_job",
        partition,
        "upload",
        priority=priority,
        creator=clip["creator"],
        job_id=job_id,
    )
    job, answer = launch_clip_run(
        ctx, request, job_id, "upload", project_id, clip_id, run, wait, f"upload {job_id}: {partition}"
    )
    return ok(
        request,
        {
            "upload_job_id": str(clip["upload_job_id"]) if clip["upload_job_id"] else None,
            **answer,
            "deferred": bool(job.result.get("deferred")),
            "reason": job.result.get("reason"),
            "deferred_until": job.result.get("deferred_until"),
            "yt_video_id": job.result.get("yt_video_id"),
        },
        202,
    )


@router.get("/projects/{project_id}/uploads", response_model=Envelope)
def list_uploads(request: Request, project_id: str, limit: Limit = 50, offset: Offset = 0):
    rows, total = project_rows(request, project_id, "project_uploads", limit, offset)
    items = [{**r, "upload_job_id": str(r["upload_job_id"]), "clip_id": str(r["clip_id"])} for r in rows]
    return ok(request, page(items, limit, offset, total))
