"""Clips: a project's clips, one clip with its edit and upload jobs, and re-editing one."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, ConfigDict, Field

from cognitive_sensors.stardust import trace_id_for
from omniva import contracts
from omniva.errors import ConfigError
from omniva.records import stable_id
from omniva_app.api import reads
from omniva_app.api.context import ApiContext, ctx_of
from omniva_app.api.dagster_ops import PRIORITY
from omniva_app.api.envelope import page
from omniva_app.api.project_registry import PREFIX
from omniva_app.api.routes.actions import Wait, launch_clip_run, refuse_if_busy, zenith_gate
from omniva_app.api.routes.common import Limit, Offset, clip_of, ok, partition_of, project_rows
from omniva_app.api.schemas import ClipsEnvelope, EditRequest, Envelope
from omniva_resources import projects
from omniva_resources.insights import load_bundle

router = APIRouter()

Review = Literal["approved", "rejected", "pending", "auto"]


class Word(BaseModel):
    text: str
    start: float
    end: float
    cut: bool = Field(description="removed by autocut (the clip's edit decision list)")


class Vote(BaseModel):
    agent: str
    score: float
    vote: str
    reason: str | None


class ClipPage(BaseModel):
    """``GET /v1/clips/{id}``: the clip, its jobs, and what the clip page shows (#28)."""

    model_config = ConfigDict(extra="allow")

    clip_id: str
    project_id: str | None
    status: str
    review: Review | None = None
    title: str | None = None
    description: str | None = None
    tags: list[str] = []
    edited_by: str | None = None
    source_duration_s: float | None
    source_span: list[float]
    words: list[Word]
    features: dict
    votes: list[Vote]
    dissent: list[str]
    lineage_url: str
    insights_url: str
    video_url: str


class ClipPageEnvelope(Envelope):
    data: ClipPage


# ------------------------------------------------------------ review before publish (#28)
def review_of(mode: str, decision: str | None) -> str:
    """approved | rejected (a person's latest review) | pending (review required, none yet) |
    auto (the project does not require one)."""
    if decision is not None:
        return "approved" if decision == "approve" else "rejected"
    return "pending" if mode == "required" else "auto"


def review_mode(ctx: ApiContext, project_id: str | None) -> str:
    """The project's review mode; a creator in no project (CLI-only) is "auto"."""
    if not project_id:
        return "auto"
    try:
        return projects.get_project(project_id.removeprefix(PREFIX), ctx.store.layout).review
    except ConfigError:  # removed meanwhile
        return "auto"


def review_and_copy(ctx: ApiContext, partitions: list[str], mode: str) -> dict[str, dict]:
    """partition -> ``review``, ``title``, ``description``, ``tags``, ``edited_by`` (None:
    Chorus's copy), with the latest review's reason and author."""
    if not partitions:
        return {}
    out = {}
    for r in ctx.warehouse.query_file("clip_review_copy", [partitions]):
        out[r["partition_key"]] = {
            "review": review_of(mode, r["review_decision"]),
            "review_reason": r["review_reason"],
            "reviewed_by": r["reviewed_by"],
            "title": r["title"],
            "description": r["description"],
            "tags": list(r["tags"] or []),
            "edited_by": r["edited_by"],
        }
    return out


def _words(ctx: ApiContext, clip: dict, cuts: list[dict]) -> tuple[float | None, list[dict]]:
    """The source's duration and the clip span's transcript words, each marked ``cut`` when the
    edit decision list removed it (a silence or a filler)."""
    rows = ctx.warehouse.query_file("video_words", [clip["video_key"]])
    if not rows:
        return None, []
    duration = rows[0]["duration_seconds"]
    words = reads.as_json(rows[0]["words"]) or []
    start, end = clip["start_time"], clip["end_time"]
    spans = [(float(c["start"]), float(c["end"])) for c in cuts if "start" in c and "end" in c]
    out = []
    for w in words:
        ws, we = float(w.get("start", 0)), float(w.get("end", 0))
        if we <= start or ws >= end:
            continue
        mid = (ws + we) / 2
        out.append(
            {
                "text": w.get("word", w.get("text", "")),
                "start": ws,
                "end": we,
                "cut": any(a <= mid <= b for a, b in spans),
            }
        )
    return (float(duration) if duration is not None else None), out


def clip_candidate(r: dict) -> dict:
    """The clip row as the spec's ClipCandidate, its parent the ``clips`` packet it came from."""
    clip = contracts.ClipCandidate(
        trace_id=trace_id_for(r["video_key"]),
        meta_parents=[stable_id("stardust", "clips", partition_of(r))],
        clip_id=str(r["clip_id"]),
        video_id=str(r["video_id"]),
        start_time=r["start_time"],
        end_time=r["end_time"],
        confidence=r["confidence"] or 0.0,
        subject_focus="creator",
        faces_detected=0,
        semantic_tags=list(dict.fromkeys(r["semantic_tags"] or [])),
        pantheon_votes=reads.as_json(r["pantheon_votes"]) or {},
        lattice_priority=r["lattice_priority"] or 0.0,
    )
    return contracts.dump(clip)


def _clip_item(r: dict, review: dict | None = None) -> dict:
    return {
        **(review or {"review": None, "title": None, "description": None, "tags": [], "edited_by": None}),
        "clip_id": str(r["clip_id"]),
        "video_id": str(r["video_id"]),
        "video_key": r["video_key"],
        "rank": r["rank"],
        "creator": r["creator"],
        "status": r["status"],
        "confidence": r["confidence"],
        "start_time": r["start_time"],
        "end_time": r["end_time"],
        "semantic_tags": r["semantic_tags"] or [],
        "pantheon_votes": reads.as_json(r["pantheon_votes"]) or {},
        "lattice_priority": r["lattice_priority"],
        "clip_candidate": clip_candidate(r),
    }


@router.get("/projects/{project_id}/clips", response_model=ClipsEnvelope)
def list_clips(request: Request, project_id: str, limit: Limit = 50, offset: Offset = 0):
    """The project's clips; each also carries ``review`` (approved, rejected, pending, auto),
    ``title``, ``description``, ``tags`` and ``edited_by`` (None: Chorus's copy) (#28)."""
    rows, total = project_rows(request, project_id, "project_clips", limit, offset)
    ctx = ctx_of(request)
    reviews = review_and_copy(ctx, [partition_of(r) for r in rows], review_mode(ctx, project_id))
    return ok(
        request, page([_clip_item(r, reviews.get(partition_of(r))) for r in rows], limit, offset, total)
    )


@router.get("/clips/{clip_id}", response_model=ClipPageEnvelope)
def get_clip(request: Request, clip_id: str):
    clip, project_id = clip_of(request, clip_id)
    if clip["upload_status"]:
        status = clip["upload_status"]
    else:
        status = (
            "READY_FOR_UPLOAD"
            if clip["render_path"]
            else ("EDITING" if clip["edit_job_id"] else "READY_FOR_EDIT")
        )
    meta = reads.as_json(clip["metadata"]) or {}
    ctx = ctx_of(request)
    partition = partition_of(clip)
    review = review_and_copy(ctx, [partition], review_mode(ctx, project_id)).get(partition, {})
    try:
        bundle = load_bundle(ctx.warehouse, clip_id)
    except Exception:  # a clip whose candidate or votes are not recorded yet
        bundle = {"candidate": {}, "votes": [], "cuts": []}
    duration, words = _words(ctx, clip, bundle.get("cuts") or [])
    candidate = bundle.get("candidate") or {}
    votes = bundle.get("votes") or []
    return ok(
        request,
        {
            **review,
            "source_duration_s": duration,
            "source_span": [clip["start_time"], clip["end_time"]],
            "words": words,
            "features": candidate.get("features") or {},
            "votes": [
                {"agent": v["agent"], "score": v["score"], "vote": v["vote"], "reason": v["reason"]}
                for v in votes
            ],
            "dissent": [f"{v['agent']}: {v['reason']}" for v in votes if v["vote"] != "yes"],
            "lineage_url": f"/v1/clips/{clip_id}/lineage",
            "insights_url": f"/v1/clips/{clip_id}/insights",
            "video_url": f"/v1/clips/{clip_id}/video",
            "clip_id": str(clip["clip_id"]),
            "project_id": project_id,
            "video_id": str(clip["video_id"]),
            "video_key": clip["video_key"],
            "rank": clip["rank"],
            "partition": partition_of(clip),
            "status": status,
            "metadata": {
                "start_time": clip["start_time"],
                "end_time": clip["end_time"],
                "confidence": clip["confidence"],
                "semantic_tags": clip["semantic_tags"] or [],
                "text": meta.get("text"),
                "pantheon_votes": reads.as_json(clip["pantheon_votes"]) or {},
            },
            "edit_job": {
                "edit_job_id": str(clip["edit_job_id"]),
                "status": clip["edit_status"],
                "timeline_path": clip["timeline_path"],
                "render_path": clip["render_path"],
                "render_checksum": clip["render_checksum"],
            }
            if clip["edit_job_id"]
            else None,
            "upload_job": {
                "upload_job_id": str(clip["upload_job_id"]),
                "status": clip["upload_status"],
                "yt_video_id": clip["yt_video_id"],
                "scheduled_time": clip["scheduled_time"],
                "privacy_status": clip["privacy_status"],
                "api_root": clip["upload_api_root"],
            }
            if clip["upload_job_id"]
            else None,
        },
    )


@router.post("/clips/{clip_id}/edit", response_model=Envelope, status_code=202)
def edit_clip(
    request: Request, clip_id: str, body: Annotated[EditRequest | None, Body()] = None, wait: Wait = 0
):
    """Re-materialize the clip's render (and its edit decision list first if it has none)."""
    return launch_edit(request, clip_id, body or EditRequest(), wait)


def launch_edit(request: Request, clip_id: str, body: EditRequest, wait: float, whole_job: bool = False):
    """The clip's edit run (``clip_job``): its render only, or the whole job (edit decision
    list, render and copy) when the clip has none yet or ``whole_job`` (a re-cut)."""
    ctx = ctx_of(request)
    clip, project_id = clip_of(request, clip_id)
    partition = partition_of(clip)
    actions = ctx.actions
    refuse_if_busy(
        ctx,
        "edit",
        "clip_job",
        partition,
        "EDIT_ALREADY_IN_PROGRESS",
        f"clip {clip_id} ({partition}) is being edited",
    )
    job_id = actions.new_job_id("edit")
    crisis, priority = zenith_gate(ctx, "clip", partition, job_id)
    if crisis:
        return ok(request, {"clip_id": clip_id, "status": "DEFERRED", "reason": crisis, "run_id": None}, 200)
    run = actions.plan_run(
        "clip_job",
        partition,
        "clip",
        # "normal": Lattice's priority for this clip; "low"/"high" override it.
        priority=priority if body.priority == "normal" else PRIORITY[body.priority],
        creator=clip["creator"],
        gpu=body.gpu_required,
        asset_selection=["renders"] if clip["edit_job_id"] and not whole_job else None,
        extra_tags={"omniva/requested_operations": ",".join(body.operations)},
        job_id=job_id,
    )
    _, answer = launch_clip_run(
        ctx, request, job_id, "edit", project_id, clip_id, run, wait, f"edit {job_id}: re-render {partition}"
    )
    edit_job_id = str(clip["edit_job_id"]) if clip["edit_job_id"] else None
    return ok(request, {"edit_job_id": edit_job_id, **answer}, 202)
