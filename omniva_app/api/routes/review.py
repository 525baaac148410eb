"""Review before publish (#28): a project's review mode, a person's approval or rejection of a
clip, edits of its copy and of its span, and the project's publish calendar with moves.

With ``review: required`` Zenith (``omniva_assets.policy``) holds the uploads of clips not
approved; a rejected clip never uploads (whatever the mode) and the publish plan gives its slot
up. An edited copy is what the upload sends; a re-cut re-renders through the clip's edit run.
Every change is recorded in the warehouse (``clip_reviews``, ``clip_copy_edits``,
``clip_recuts``, ``schedules``) and audited in ``logs``.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, model_validator

from cognitive_sensors.horizon import PlanRules, slot_times
from omniva.errors import OmnivaError
from omniva.records import ClipCopy
from omniva_app.api.context import ctx_of, key_of
from omniva_app.api.envelope import ApiError
from omniva_app.api.project_registry import PREFIX
from omniva_app.api.routes.actions import Wait, audit
from omniva_app.api.routes.clips import launch_edit, review_mode, review_of
from omniva_app.api.routes.common import clip_of, ok, partition_of, project_of
from omniva_app.api.schemas import EditRequest, Envelope, Strict
from omniva_assets.scheduler.assets import own_cadence
from omniva_resources import copy_templates, projects
from omniva_resources.resources import resources_from_env

router = APIRouter()

MIN_CLIP_S, MAX_CLIP_S = 5.0, 120.0
ON_YOUTUBE = ("SCHEDULED", "LIVE", "UPLOADED")


class ReviewModeRequest(Strict):
    review: Literal["required", "auto"]


class ReviewRequest(Strict):
    decision: Literal["approve", "reject"]
    reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _reason_for_reject(self) -> ReviewRequest:
        if self.decision == "reject" and not (self.reason or "").strip():
            raise ValueError("a rejection needs a reason")
        return self


class CopyRequest(Strict):
    title: str = Field(max_length=1000)
    description: str = Field(default="", max_length=20000)
    tags: list[str] = Field(default_factory=list, max_length=100)


class RecutRequest(Strict):
    start: float = Field(ge=0)
    end: float = Field(gt=0)


class MoveRequest(Strict):
    clip_id: str = Field(min_length=1, max_length=64)
    publish_at: datetime


# The answers (``data`` of the envelope), for the OpenAPI document.
class ReviewModeAnswer(BaseModel):
    project_id: str
    review: Literal["required", "auto"]


class ReviewAnswer(BaseModel):
    clip_id: str
    decision: Literal["approve", "reject"]
    reason: str | None
    author: str = Field(description="the API key id that reviewed")
    created_at: str


class CopyAnswer(BaseModel):
    clip_id: str
    title: str
    description: str
    tags: list[str]
    edited_by: str
    created_at: str
    note: str | None = None


class CalendarSlot(BaseModel):
    clip_id: str
    partition: str
    title: str | None
    publish_at: str = Field(description="ISO 8601 UTC")
    status: Literal["scheduled", "uploaded", "published", "deferred", "held"]
    reason: str | None
    review: Literal["approved", "rejected", "pending", "auto"]
    channel: str


class Calendar(BaseModel):
    project_id: str
    from_: str = Field(alias="from")
    to: str
    slots: list[CalendarSlot]
    free_slots: list[str] = Field(description="the cadence's slot times in range that no clip holds")


class MoveAnswer(BaseModel):
    clip_id: str
    publish_at: str
    from_: str = Field(alias="from")
    swapped_with: str | None = Field(description="the clip that took the old slot, if any")


class ReviewModeEnvelope(Envelope):
    data: ReviewModeAnswer


class ReviewEnvelope(Envelope):
    data: ReviewAnswer


class CopyEnvelope(Envelope):
    data: CopyAnswer


class CalendarEnvelope(Envelope):
    data: Calendar


class MoveEnvelope(Envelope):
    data: MoveAnswer


def _author(request: Request) -> str:
    return key_of(request).key_id


def _owned_clip(request: Request, clip_id: str) -> tuple[dict, str | None]:
    return clip_of(request, clip_id)


# ---------------------------------------------------------------- review mode
@router.put("/projects/{project_id}/review-mode", response_model=ReviewModeEnvelope)
def set_review_mode(request: Request, project_id: str, body: ReviewModeRequest):
    """``required``: Zenith holds each clip's upload until it is approved; ``auto`` (the
    default): uploads go without a review. A rejected clip never uploads in either mode."""
    ctx = ctx_of(request)
    project_of(request, project_id)
    p = projects.set_review(project_id.removeprefix(PREFIX), body.review, ctx.store.layout)
    audit(ctx, request, f"review mode of {project_id} set to {body.review}", project_id=project_id)
    return ok(request, {"project_id": project_id, "review": p.review})


@router.get("/projects/{project_id}/review-mode", response_model=ReviewModeEnvelope)
def get_review_mode(request: Request, project_id: str):
    project_of(request, project_id)
    return ok(request, {"project_id": project_id, "review": review_mode(ctx_of(request), project_id)})


# ---------------------------------------------------------------- a clip's review
@router.post("/clips/{clip_id}/review", response_model=ReviewEnvelope)
def review_clip(request: Request, clip_id: str, body: ReviewRequest):
    """Approve or reject the clip (the latest review wins). A rejected clip never uploads and
    the next publish plan gives its slot to the next clip."""
    ctx = ctx_of(request)
    clip, project_id = _owned_clip(request, clip_id)
    partition = partition_of(clip)
    reason = (body.reason or "").strip() or None
    row = ctx.store.record_review(str(clip["clip_id"]), partition, body.decision, reason, _author(request))
    audit(
        ctx,
        request,
        f"clip {clip_id} ({partition}) {'approved' if body.decision == 'approve' else 'rejected'}"
        + (f": {reason}" if reason else ""),
        project_id=project_id,
        clip_id=clip_id,
        partition=partition,
        decision=body.decision,
    )
    return ok(
        request,
        {
            "clip_id": clip_id,
            "decision": body.decision,
            "reason": reason,
            "author": row["author"],
            "created_at": row["created_at"],
        },
    )


# ---------------------------------------------------------------- copy edits
def copy_problems(title: str, description: str, tags: list[str]) -> list[dict]:
    """YouTube's limits (and Omniva's 30 characters a tag) on the copy, one entry per problem,
    each naming its field: the same check the copy templates' output gets."""
    return copy_templates.problems(ClipCopy("", title, description, tuple(tags)))


@router.put("/clips/{clip_id}/copy", response_model=CopyEnvelope)
def edit_copy(request: Request, clip_id: str, body: CopyRequest):
    """A person's title, description and tags, over Chorus's: checked against YouTube's limits
    (``400 INVALID_COPY`` naming the field), recorded with its author; the upload sends it."""
    ctx = ctx_of(request)
    clip, project_id = _owned_clip(request, clip_id)
    tags = [t.strip() for t in body.tags]
    problems = copy_problems(body.title, body.description, tags)
    if problems:
        text = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:5])
        raise ApiError(400, "INVALID_COPY", f"invalid copy: {text}", problems)
    partition = partition_of(clip)
    row = ctx.store.record_copy_edit(
        str(clip["clip_id"]), partition, body.title, body.description, tags, _author(request)
    )
    note = ""
    if clip["upload_status"] in ON_YOUTUBE:
        note = "the clip is already uploaded: the edit applies to a new upload only"
    audit(
        ctx, request, f"copy of clip {clip_id} ({partition}) edited", project_id=project_id, clip_id=clip_id
    )
    return ok(
        request,
        {
            "clip_id": clip_id,
            "title": body.title,
            "description": body.description,
            "tags": tags,
            "edited_by": row["author"],
            "created_at": row["created_at"],
            "note": note or None,
        },
    )


# ---------------------------------------------------------------- re-cut
@router.post("/clips/{clip_id}/recut", response_model=Envelope, status_code=202)
def recut_clip(request: Request, clip_id: str, body: RecutRequest, wait: Wait = 0):
    """Move the clip's start and end on the source's timeline (5-120 s, within the source):
    recorded in ``clip_recuts`` (the ``clips`` asset honours it), then the clip's edit run
    re-renders it (its edit decision list, render and copy)."""
    ctx = ctx_of(request)
    clip, project_id = _owned_clip(request, clip_id)
    length = body.end - body.start
    if not MIN_CLIP_S <= length <= MAX_CLIP_S:
        raise ApiError(
            400,
            "INVALID_SPAN",
            f"the span is {length:.2f} s long; a clip is {MIN_CLIP_S:g}-{MAX_CLIP_S:g} s",
            [{"field": "end", "problem": f"end - start must be {MIN_CLIP_S:g}-{MAX_CLIP_S:g} s"}],
        )
    duration = source_duration(ctx, clip["video_key"])
    if duration is not None and body.end > duration + 1e-6:
        raise ApiError(
            400,
            "INVALID_SPAN",
            f"end {body.end:.2f} s is past the source's end ({duration:.2f} s)",
            [{"field": "end", "problem": f"at most {duration:.2f}"}],
        )
    if clip["upload_status"] in ON_YOUTUBE:
        raise ApiError(409, "UPLOAD_EXISTS", f"clip {clip_id} is already uploaded")
    partition = partition_of(clip)
    ctx.store.record_recut(str(clip["clip_id"]), partition, body.start, body.end, _author(request))
    audit(
        ctx,
        request,
        f"clip {clip_id} ({partition}) re-cut to {body.start:.2f}-{body.end:.2f} s",
        project_id=project_id,
        clip_id=clip_id,
    )
    return launch_edit(request, clip_id, EditRequest(), wait, whole_job=True)


def source_duration(ctx, video_key: str) -> float | None:
    rows = ctx.warehouse.query_file("video_duration", [video_key])
    return float(rows[0]["duration_seconds"]) if rows and rows[0]["duration_seconds"] else None


# ---------------------------------------------------------------- calendar
def _rules(ctx, project_id: str) -> PlanRules:
    """The project's cadence: its own clips a day, slots and time zone (#29), else the
    deployment's (``OMNIVA_SLOT_*``, ``OMNIVA_DAILY_QUOTA``)."""
    pr = resources_from_env()["publish_rules"]
    base = PlanRules(
        daily_quota=pr.daily_quota,
        slot_times_utc=tuple(t.strip() for t in pr.slot_times_utc.split(",")),
        time_zone=pr.time_zone or "UTC",
    )
    return own_cadence(base, projects.own_settings(project_id.removeprefix(PREFIX), ctx.store.layout))


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _status(row: dict, now: datetime, review: str) -> tuple[str, str | None]:
    upload = row["upload_status"]
    at = row["final_scheduled_time"]
    if upload in ON_YOUTUBE:
        return ("published" if at is not None and at <= now else "uploaded"), row["reason"]
    if review == "rejected":
        return "held", f"rejected: {row['review_reason'] or 'no reason given'}"
    if review == "pending":
        return "held", "waiting for review"
    if upload == "DEFERRED":
        return "deferred", row["deferred_why"] or row["reason"]
    return "scheduled", row["reason"]


@router.get("/projects/{project_id}/calendar", response_model=CalendarEnvelope)
def calendar(
    request: Request,
    project_id: str,
    from_: date | None = Query(default=None, alias="from"),
    to: date | None = Query(default=None),
):
    """The project's publish slots from ``from`` to ``to`` (days, UTC, both included; default
    this week and the next three), and the cadence's slots in that range no clip holds."""
    ctx = ctx_of(request)
    p = project_of(request, project_id)
    start = from_ or datetime.now(UTC).date()
    end = to or start + timedelta(days=27)
    if end < start or (end - start).days > 93:
        raise ApiError(400, "INVALID_DATE_RANGE", "`to` must be on or after `from`, at most 93 days later")
    lo = datetime.combine(start, time(0), tzinfo=UTC)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=UTC)
    mode = review_mode(ctx, project_id)
    rows = ctx.warehouse.query_file("project_calendar", [p["creators"], lo, hi]) if p["creators"] else []
    now = datetime.now(UTC)
    slots = []
    for r in rows:
        review = review_of(mode, r["review_decision"])
        status, reason = _status(r, now, review)
        slots.append(
            {
                "clip_id": r["clip_id"],
                "partition": r["clip_key"],
                "title": r["title"],
                "publish_at": _iso(r["final_scheduled_time"]),
                "status": status,
                "reason": reason,
                "review": review,
                "channel": r["channel"],
            }
        )
    taken = {s["publish_at"] for s in slots} | set(channel_taken(ctx, p["channel"], lo, hi))
    cadence = cadence_slots(start - timedelta(days=1), end + timedelta(days=1), _rules(ctx, project_id))
    free = [iso for iso in cadence if iso not in taken and iso > _iso(now) and lo <= _parse(iso) < hi]
    return ok(
        request,
        {"project_id": project_id, "from": str(start), "to": str(end), "slots": slots, "free_slots": free},
    )


def cadence_slots(start: date, end: date, rules: PlanRules) -> list[str]:
    """The cadence's slot times on each day from ``start`` to ``end`` (days in ``rules``' zone)."""
    out = []
    day = start
    while day <= end:
        out += [_iso(at) for at in slot_times(datetime.combine(day, time(12), tzinfo=UTC), rules)]
        day += timedelta(days=1)
    return out


def channel_taken(ctx, channel: str, lo: datetime, hi: datetime) -> list[str]:
    """Slots any clip holds on ``channel`` in the range (other projects' clips included)."""
    rows = ctx.warehouse.query_file("channel_slots_between", [channel, lo, hi])
    return [_iso(r["final_scheduled_time"]) for r in rows]


@router.post("/projects/{project_id}/calendar/move", response_model=MoveEnvelope)
def move(request: Request, project_id: str, body: MoveRequest):
    """Move a clip to another of the cadence's slots: a free one, or swap with the project's clip
    there. A clip not yet uploaded gets its committed slot rewritten, so the publish plan keeps it
    and the upload sends it; a clip already on YouTube and still waiting for its publish time is
    moved there too (``videos.update`` of its ``publishAt``, 51 units) before its slot and upload
    record are rewritten. A published clip stays where it is."""
    ctx = ctx_of(request)
    p = project_of(request, project_id)
    clip, owner = _owned_clip(request, body.clip_id)
    if owner != project_id:
        raise ApiError(404, "CLIP_NOT_FOUND", f"no clip {body.clip_id!r} in {project_id}")
    if ctx.actions.pending("schedule") or ctx.actions.active_runs("publish_plan_job"):
        raise ApiError(409, "SCHEDULER_BUSY", "the publish plan is being computed; try again shortly")
    partition = partition_of(clip)
    mine = ctx.warehouse.query_file("schedule_of_clip", [partition])
    if not mine:
        raise ApiError(409, "NOT_SCHEDULED", f"clip {body.clip_id} has no publish slot yet")
    current = mine[0]
    if current["upload_status"] in ON_YOUTUBE and not _waiting_on_youtube(current):
        raise ApiError(409, "ALREADY_UPLOADED", f"clip {body.clip_id} is already published; its slot stays")
    at = body.publish_at if body.publish_at.tzinfo else body.publish_at.replace(tzinfo=UTC)
    target = _iso(at)
    day = at.astimezone(UTC).date()
    if target not in cadence_slots(day - timedelta(days=1), day + timedelta(days=1), _rules(ctx, project_id)):
        raise ApiError(422, "INVALID_SLOT", f"{target} is not one of the project's slot times")
    if at <= datetime.now(UTC) + timedelta(minutes=15):
        raise ApiError(422, "INVALID_SLOT", f"{target} is not far enough ahead (15 minutes at least)")
    old = _iso(current["final_scheduled_time"])
    if old == target:
        return ok(request, {"clip_id": body.clip_id, "publish_at": target, "from": old, "swapped_with": None})
    lo, hi = at - timedelta(seconds=1), at + timedelta(seconds=1)
    there = ctx.warehouse.query_file("channel_slots_between", [current["channel"], lo, hi])
    swapped = None
    if there:
        other = there[0]
        other_owner = ctx.projects.owner_of(other["creator"]) if other["creator"] else None
        if other_owner != p["project_id"]:
            raise ApiError(409, "SLOT_TAKEN", f"{target} is taken on channel {current['channel']}")
        if other["upload_status"] in ON_YOUTUBE and not _waiting_on_youtube(other):
            raise ApiError(409, "ALREADY_UPLOADED", f"the clip at {target} is already published")
        swapped = str(other["clip_id"])
    # YouTube first: a refusal there leaves every record as it was.
    _move_on_youtube(ctx, [(current, target, old), *([(other, old, target)] if swapped else [])])
    if swapped:
        _write_slot(ctx, other, old, f"swapped by {_author(request)} with {partition}")
    _write_slot(ctx, current, target, f"moved by {_author(request)} from {old}")
    audit(
        ctx,
        request,
        f"clip {body.clip_id} ({partition}) moved from {old} to {target}"
        + (f", swapped with clip {swapped}" if swapped else ""),
        project_id=project_id,
        clip_id=body.clip_id,
    )
    return ok(request, {"clip_id": body.clip_id, "publish_at": target, "from": old, "swapped_with": swapped})


def _waiting_on_youtube(row: dict) -> bool:
    """On YouTube, private, with a publish time still ahead (15 minutes at least)."""
    at = row.get("final_scheduled_time")
    if row.get("upload_status") != "SCHEDULED" or not row.get("yt_video_id") or at is None:
        return False
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return bool(at > datetime.now(UTC) + timedelta(minutes=15))


def _move_on_youtube(ctx, moves: list[tuple[dict, str, str]]) -> None:
    """Move the clips among ``moves`` (row, to, back) that are on YouTube there (one channel:
    a swap stays on it), then their upload records; a refusal puts back what was moved and
    answers 502."""
    moves = [m for m in moves if m[0]["upload_status"] in ON_YOUTUBE]
    if not moves:
        return
    client = resources_from_env()["youtube_api"].uploader(moves[0][0]["channel"], ctx.layout.home)
    done: list[tuple[str, str]] = []
    for row, at, back in moves:
        video = str(row["yt_video_id"])
        try:
            client.reschedule(video, at)
        except OmnivaError as exc:
            for moved, where in done:  # best effort: the first one back where it was
                with contextlib.suppress(OmnivaError):
                    client.reschedule(moved, where)
            raise ApiError(502, "YOUTUBE_REFUSED", f"YouTube did not move video {video}: {exc}") from exc
        done.append((video, back))
    for row, at, _ in moves:
        jobs = ctx.warehouse.query_file("upload_job_of_clip", [str(row["clip_id"])])
        if jobs:
            job = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in jobs[0].items()}
            job["scheduled_time"] = at
            ctx.store.record("upload_jobs", row["clip_key"], [job])


def _write_slot(ctx, row: dict, at: str, why: str) -> None:
    """Rewrite a clip's committed slot (its ``schedules`` partition, the clip's key)."""
    adjustments = json.loads(row["horizon_adjustments"] or "{}")
    ctx.store.record(
        "schedules",
        row["clip_key"],
        [
            {
                "schedule_id": str(row["schedule_id"]),
                "clip_id": str(row["clip_id"]),
                "clip_key": row["clip_key"],
                "channel": row["channel"],
                "recommended_time": row["recommended_time"],
                "final_scheduled_time": at,
                "horizon_adjustments": {**adjustments, "reason": why, "moved": True},
                "status": row["status"],
            }
        ],
    )
