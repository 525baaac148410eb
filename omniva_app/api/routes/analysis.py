"""Analyses of a project's videos, each with its clip candidates (selected or rejected)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from omniva_app.api.context import ctx_of
from omniva_app.api.envelope import page
from omniva_app.api.routes.common import Limit, Offset, ok, project_rows
from omniva_app.api.schemas import Envelope

router = APIRouter()


@router.get("/projects/{project_id}/analysis", response_model=Envelope)
def analysis(
    request: Request,
    project_id: str,
    limit: Limit = 25,
    offset: Offset = 0,
    min_score: Annotated[float, Query(ge=0, le=1)] = 0.0,
    clip_status: Annotated[str, Query(pattern="^(any|selected|rejected)$")] = "any",
    candidates_limit: Annotated[int, Query(ge=0, le=200)] = 10,
):
    ctx = ctx_of(request)
    rows, total = project_rows(request, project_id, "project_analysis", limit, offset, min_score)
    cands: dict[str, list] = {}
    if rows:
        video_keys = [r["video_key"] for r in rows]
        for c in ctx.warehouse.query_file("video_candidates", [video_keys, clip_status]):
            cands.setdefault(c["video_key"], []).append(
                {
                    "candidate_id": str(c["candidate_id"]),
                    "clip_id": str(c["clip_id"]) if c["clip_id"] else None,
                    "start_time": c["start_time"],
                    "end_time": c["end_time"],
                    "confidence": c["consensus"],
                    "score": c["score"],
                    "selected_rank": c["selected_rank"],
                    "rejected_because": c["rejected_because"],
                }
            )
    items = [
        {
            "analysis_id": str(r["analysis_id"]),
            "video_id": str(r["video_id"]),
            "video_key": r["video_key"],
            "creator": r["creator"],
            "virality_score": r["virality_score"],
            "relevance_score": r["relevance_score"],
            "keywords": r["keywords"] or [],
            "created_at": r["created_at"],
            "clip_candidates": cands.get(r["video_key"], [])[:candidates_limit],
        }
        for r in rows
    ]
    return ok(request, page(items, limit, offset, total))
