"""A project's log: Dagster's event log of the runs that worked for its creators.

Runs of no partition (the publish plan, shared by every project) name every project's clips
and the server's folders: an admin key sees them, a project key does not."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from omniva_app.api import reads
from omniva_app.api.context import ctx_of
from omniva_app.api.dagster_ops import WORKER_OF_JOB
from omniva_app.api.envelope import page
from omniva_app.api.routes.common import MAX_OFFSET, Limit, Offset, is_admin, ok, project_of
from omniva_app.api.schemas import Envelope

router = APIRouter()


def _aware(t: datetime | None) -> datetime | None:
    return t if t is None or t.tzinfo else t.replace(tzinfo=UTC)


@router.get("/projects/{project_id}/logs", response_model=Envelope)
def logs(
    request: Request,
    project_id: str,
    source: Annotated[str | None, Query(max_length=100)] = None,
    level: Annotated[str | None, Query(pattern="^(DEBUG|INFO|WARN|ERROR)$")] = None,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: Annotated[datetime | None, Query()] = None,
    worker_type: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """Dagster's event log of the project's runs (its creators' posts, videos and clips)."""
    ctx = ctx_of(request)
    p = project_of(request, project_id)
    creators = set(p["creators"])
    videos = (
        {r["video_key"] for r in ctx.warehouse.query_file("project_videos", [p["creators"]])}
        if creators
        else set()
    )
    items, total = reads.run_logs(
        ctx.actions.instance,
        creators,
        videos,
        WORKER_OF_JOB,
        level=level,
        source=source,
        worker_type=worker_type,
        since=_aware(from_),
        until=_aware(to),
        limit=MAX_OFFSET + limit,  # all of them: a project key's are filtered below
        offset=0,
    )
    if not is_admin(request):
        items = [i for i in items if i["metadata"]["partition"] is not None]
        total = len(items)
    return ok(request, page(items[offset : offset + limit], limit, offset, total))
