"""The dashboard's endpoints (#28): a project's funnel, log entries (and their live feed) and
command history; a clip's rendered video and thumbnail; the workers' heartbeats; and bot
control (restart, re-request the failed partitions, release a quarantined partition).

Everything is scoped like the rest of v1: a project key sees its project only (403 for another
project's id, 404 for another project's clip). The live feeds (WebSockets) take the session
cookie (or a bearer token) and refuse a cross-site Origin.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from omniva_app.api import reads
from omniva_app.api.context import ApiContext, ctx_of, key_of
from omniva_app.api.dagster_ops import WORKER_OF_JOB
from omniva_app.api.envelope import ApiError, page
from omniva_app.api.keys import ALL_PROJECTS, ApiKey, TooManyAttempts
from omniva_app.api.routes.actions import audit, job_view
from omniva_app.api.routes.common import Limit, Offset, clip_of, ok, project_of
from omniva_app.api.schemas import (
    Envelope,
    FunnelEnvelope,
    LogEntriesEnvelope,
    ProjectAction,
    QuarantineRelease,
)
from omniva_app.api.session import COOKIE

router = APIRouter()

STAGES = ("posts", "videos", "candidates", "selected", "rendered", "approved", "uploaded", "published")
#: A level filter names one level; the warehouse writes WARN and WARNING both.
LEVEL_NAMES = {
    "DEBUG": ["DEBUG"],
    "INFO": ["INFO"],
    "WARN": ["WARN", "WARNING"],
    "WARNING": ["WARN", "WARNING"],
    "ERROR": ["ERROR", "CRITICAL"],
    "CRITICAL": ["CRITICAL"],
}
#: The job each failed partition is re-requested with, and its Lattice stage.
STAGE_OF_JOB = {"posts_job": "posts", "video_job": "video", "clip_job": "clip", "upload_job": "upload"}
THROUGHPUT_DAYS = 14
LIVE_FIRST = 50
LIVE_POLL_S = 1.0
WORKERS_POLL_S = 5.0
NO_CREATOR = [""]  # DuckDB needs a typed list: a project without creators matches nothing


def scoped_project(request: Request, project_id: str) -> dict:
    """The project, if the caller's key may see it: another project's id is a 404, the same
    answer as an id that does not exist (the dashboard's endpoints name no other project)."""
    if not key_of(request).allows(project_id):
        raise ApiError(404, "PROJECT_NOT_FOUND", f"no project {project_id!r}")
    return project_of(request, project_id)


def creators_or_none(p: dict) -> list[str]:
    return list(p["creators"]) or NO_CREATOR


def review_mode(ctx: ApiContext, project_id: str) -> str:
    """The project's review before publish: "auto" (default) or "required" (#28)."""
    from omniva_resources import projects

    try:
        return str(
            getattr(projects.get_project(project_id.removeprefix("proj_"), ctx.layout), "review", "auto")
        )
    except Exception:  # noqa: BLE001 - a project file without the field: the default
        return "auto"


# ------------------------------------------------------------------------- funnel
def funnel(ctx: ApiContext, p: dict) -> dict:
    mode = review_mode(ctx, p["project_id"])
    counts = dict.fromkeys(STAGES, 0)
    if p["creators"]:
        counts.update(ctx.warehouse.query_file("project_funnel", [p["creators"]])[0])
        if mode == "auto":
            counts["approved"] = counts["rendered"]
        else:
            try:
                counts["approved"] = ctx.warehouse.query_file("project_approved", [p["creators"]])[0][
                    "approved"
                ]
            except Exception:  # noqa: BLE001 - no clip_reviews table in this warehouse yet
                counts["approved"] = 0
    return {
        "project_id": p["project_id"],
        "review_mode": mode,
        "stages": [{"name": name, "count": int(counts[name] or 0)} for name in STAGES],
    }


@router.get("/projects/{project_id}/funnel", response_model=FunnelEnvelope)
def project_funnel(request: Request, project_id: str):
    """How far the project's material got: posts, videos, candidates, selected, rendered,
    approved (by review, or every render when the project's review mode is auto), uploaded,
    published."""
    return ok(request, funnel(ctx_of(request), scoped_project(request, project_id)))


def activity(ctx: ApiContext, p: dict, today: date | None = None) -> dict:
    """The project list's counts (#28): videos, clips, upload queue, last activity, and renders
    a day over the last 14 days (oldest first)."""
    today = today or datetime.now(UTC).date()
    first = today - timedelta(days=THROUGHPUT_DAYS - 1)
    out: dict[str, Any] = {"videos": 0, "clips": 0, "upload_queue": 0, "last_activity": None}
    per_day: dict[date, int] = {}
    if p["creators"]:
        row = ctx.warehouse.query_file("project_activity", [p["creators"], first])[0]
        out.update({k: row[k] for k in ("videos", "clips", "upload_queue")})
        last = row["last_activity"]
        out["last_activity"] = last.isoformat() if isinstance(last, datetime) else last
        per_day = {d["day"]: int(d["renders"]) for d in (row["throughput"] or [])}
    out["throughput"] = [per_day.get(first + timedelta(days=i), 0) for i in range(THROUGHPUT_DAYS)]
    return out


def health(ctx: ApiContext, p: dict, runs: list | None = None, crisis: dict | None = None) -> str | None:
    """Why the project is in ERROR, if it is: its latest finished runs failed (the last three,
    or all it has), or a stage its runs use is in crisis (Zenith)."""
    import dagster as dg

    from omniva_assets.policy import stage_crisis

    creators = set(p["creators"])
    if not creators:
        return None
    instance = ctx.actions.instance
    if runs is None:
        runs = list(instance.get_runs(limit=200))
    videos = {r["video_key"] for r in ctx.warehouse.query_file("project_videos", [p["creators"]])}
    finished = [
        r
        for r in runs
        if r.status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE)
        and ("omniva/creator" in r.tags or "dagster/partition" in r.tags)  # not the shared publish plan
        and reads.run_belongs(r, creators, videos)
    ][:3]
    if finished and all(r.status == dg.DagsterRunStatus.FAILURE for r in finished):
        return f"its last {len(finished)} run(s) failed ({finished[0].job_name} {finished[0].run_id})"
    if crisis is None:
        crisis = {job: stage_crisis(instance, ctx.store, job) for job in STAGE_OF_JOB}
    for job, why in crisis.items():
        if why:
            return f"{WORKER_OF_JOB.get(job, job)} in crisis: {why}"
    return None


# ------------------------------------------------------------------------- video
def _render_file(ctx: ApiContext, path: str | None) -> Path | None:
    if not path:
        return None
    p = Path(path)
    if not p.is_absolute():
        p = ctx.layout.home / p
    return p if p.is_file() else None


@router.get(
    "/clips/{clip_id}/video",
    responses={200: {"content": {"video/mp4": {}}}, 206: {"description": "a byte range"}, 416: {}},
    response_class=FileResponse,
)
def clip_video(request: Request, clip_id: str):
    """The clip's rendered MP4 (HTTP Range: 206 with Content-Range; 416 for a range past the end)."""
    ctx = ctx_of(request)
    clip, _ = clip_of(request, clip_id)
    rows = ctx.warehouse.query_file("clip_render_files", [str(clip["clip_id"])])
    target = _render_file(ctx, rows[0]["file_path"] if rows else None)
    if target is None:
        raise ApiError(404, "RENDER_NOT_FOUND", f"clip {clip_id} has no render file yet")
    return FileResponse(target, media_type="video/mp4", headers={"Cache-Control": "private, no-cache"})


@router.get(
    "/clips/{clip_id}/thumbnail",
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}},
    response_class=FileResponse,
)
def clip_thumbnail(request: Request, clip_id: str):
    """The render's thumbnail image, if it has one."""
    ctx = ctx_of(request)
    clip, _ = clip_of(request, clip_id)
    rows = ctx.warehouse.query_file("clip_render_files", [str(clip["clip_id"])])
    target = _render_file(ctx, rows[0]["thumbnail_path"] if rows else None)
    if target is None:
        raise ApiError(404, "THUMBNAIL_NOT_FOUND", f"clip {clip_id} has no thumbnail")
    kind = "image/png" if target.suffix.lower() == ".png" else "image/jpeg"
    return FileResponse(target, media_type=kind, headers={"Cache-Control": "private, no-cache"})


# ------------------------------------------------------------------------- log entries
def _iso(t: Any) -> Any:
    return t.isoformat() if isinstance(t, datetime) else t


def _aware(t: datetime | None) -> datetime | None:
    return t if t is None or t.tzinfo else t.replace(tzinfo=UTC)


def project_keys(ctx: ApiContext, project_id: str) -> list[str]:
    return [k.key_id for k in ctx.keys.list() if k.project == project_id] or [""]


def log_entries(
    ctx: ApiContext,
    p: dict,
    *,
    source: str | None = None,
    level: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    worker: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict], int]:
    levels = LEVEL_NAMES[level.upper()] if level else None
    params = [
        creators_or_none(p),
        p["project_id"],
        project_keys(ctx, p["project_id"]),
        source,
        levels,
        _aware(since),
        _aware(until),
        worker,
        limit,
        offset,
    ]
    rows, total = reads.paged(ctx.warehouse.query_file("project_log_entries", params))
    items = []
    for r in rows:
        meta = reads.as_json(r["metadata"]) or {}
        items.append(
            {
                "log_id": r["log_id"],
                "created_at": _iso(r["created_at"]),
                "source": r["source"],
                "level": r["level"],
                "message": r["message"],
                "partition": r["partition"],
                "clip_id": r["clip_id"],
                "run_id": r["run_id"],
                "worker": r["worker"],
                "dagster_ui": f"{ctx.ui_url}/runs/{r['run_id']}" if r["run_id"] else None,
                "stardust_id": r["stardust_id"],
                "metadata": meta if isinstance(meta, dict) else {"value": meta},
            }
        )
    return items, total


Level = Annotated[str | None, Query(pattern="^(DEBUG|INFO|WARN|WARNING|ERROR|CRITICAL)$")]
When = Annotated[
    str | None,
    Query(max_length=40, description="an ISO time, or a day (YYYY-MM-DD: since its start, until its end)"),
]


def _when(value: str | None, name: str, end_of_day: bool = False) -> datetime | None:
    """A ``since``/``until`` parameter: an ISO time (UTC when it names no zone) or a whole day."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
            return day + timedelta(days=1, microseconds=-1) if end_of_day else day
        return _aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        message = f"{name}: not an ISO time or day (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)"
        raise ApiError(400, "VALIDATION_ERROR", message, [{"field": name, "problem": message}]) from None


@router.get("/projects/{project_id}/log-entries", response_model=LogEntriesEnvelope)
def project_log_entries(
    request: Request,
    project_id: str,
    source: Annotated[str | None, Query(max_length=100)] = None,
    level: Level = None,
    since: When = None,
    until: When = None,
    worker: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """The warehouse ``logs`` rows of the project (its creators' partitions, its clips, its API
    actions), newest first, each with its clip, run (and Dagster UI link) and Stardust packet."""
    ctx = ctx_of(request)
    p = scoped_project(request, project_id)
    items, total = log_entries(
        ctx,
        p,
        source=source,
        level=level,
        since=_when(since, "since"),
        until=_when(until, "until", end_of_day=True),
        worker=worker,
        limit=limit,
        offset=offset,
    )
    return ok(request, page(items, limit, offset, total))


@router.get("/projects/{project_id}/commands", response_model=LogEntriesEnvelope)
def project_commands(request: Request, project_id: str, limit: Limit = 100, offset: Offset = 0):
    """The project's command history: the API's audited actions on it, newest first."""
    ctx = ctx_of(request)
    p = scoped_project(request, project_id)
    items, total = log_entries(ctx, p, source="api", level="INFO", limit=limit, offset=offset)
    return ok(request, page(items, limit, offset, total))


# ------------------------------------------------------------------------- live feeds
async def ws_key(ws: WebSocket) -> ApiKey | None:
    """The WebSocket's key: the session cookie or a bearer token; None (and closed) when neither
    is valid, or the Origin is another site's (the cookie alone must not open it cross-site)."""
    ctx: ApiContext = ws.app.state.ctx
    origin, host = ws.headers.get("origin"), ws.headers.get("host", "")
    if origin and origin.split("://", 1)[-1].rstrip("/") != host:
        await ws.close(code=1008, reason="cross-site WebSocket refused")
        return None
    key = None
    session = ctx.sessions.get(ws.cookies.get(COOKIE))
    if session is not None:
        key = await run_in_threadpool(ctx.keys.get, session.key_id)
    else:
        auth = ws.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            try:
                key = await run_in_threadpool(ctx.keys.verify, auth[7:].strip())
            except TooManyAttempts:
                key = None
    if key is None:
        await ws.close(code=1008, reason="sign in first (POST /v1/session)")
    return key


async def _ws_project(ws: WebSocket, project_id: str) -> tuple[ApiContext, dict] | None:
    key = await ws_key(ws)
    if key is None:
        return None
    ctx: ApiContext = ws.app.state.ctx
    if not key.allows(project_id):
        await ws.close(code=1008, reason=f"this key is scoped to project {key.project!r}")
        return None
    try:
        p = ctx.projects.get(project_id)
    except ApiError:
        await ws.close(code=1008, reason=f"no project {project_id!r}")
        return None
    return ctx, p


@router.websocket("/projects/{project_id}/log-entries/live")
async def live_log_entries(ws: WebSocket, project_id: str):
    """First ``{"type": "snapshot", "items": [last 50]}``, then ``{"type": "entry", "item": ...}``
    for each new row (the warehouse is read every second)."""
    found = await _ws_project(ws, project_id)
    if found is None:
        return
    ctx, p = found
    await ws.accept()
    try:
        items, _ = await run_in_threadpool(log_entries, ctx, p, limit=LIVE_FIRST)
        await ws.send_json({"type": "snapshot", "items": items})
        seen = {i["log_id"] for i in items}
        since = datetime.fromisoformat(items[0]["created_at"]) if items else None
        while True:
            await asyncio.sleep(LIVE_POLL_S)
            p = await run_in_threadpool(ctx.projects.get, project_id)  # creators may change
            new, _ = await run_in_threadpool(log_entries, ctx, p, since=since, limit=200)
            for item in reversed(new):  # oldest first
                if item["log_id"] in seen:
                    continue
                seen.add(item["log_id"])
                await ws.send_json({"type": "entry", "item": item, "items": [item]})
            if new:
                since = max(
                    since or datetime.min.replace(tzinfo=UTC), datetime.fromisoformat(new[0]["created_at"])
                )
    except (WebSocketDisconnect, RuntimeError):
        return
    except ApiError as exc:  # the project was removed while the feed was open
        await ws.close(code=1008, reason=exc.message[:120])


# ------------------------------------------------------------------------- workers
def _gpu() -> list[dict] | None:
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(
            [
                "nvidia-smi",
                "--query-gpu=index,name,utilization.gpu,memory.used,memory.total",
                "--format=csv,noheader,nounits",
            ],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    gpus = []
    for line in out.strip().splitlines():
        parts = [x.strip() for x in line.split(",")]
        if len(parts) == 5:
            idx, name, util, used, total = parts
            gpus.append(
                {
                    "index": int(idx),
                    "name": name,
                    "utilization_pct": float(util),
                    "memory_used_mib": float(used),
                    "memory_total_mib": float(total),
                }
            )
    return gpus


def workers(ctx: ApiContext, admin: bool) -> dict:
    """Heartbeats (Dagster's daemons, the code server where known, the ASR worker), each pool's
    queue (``status.system_status``'s workers), and the machine's CPU and GPU load."""
    from omniva_app.api.status import asr_worker, code_server, daemons, pools

    actions = ctx.actions
    try:
        load1, load5, load15 = os.getloadavg()
        cpu: dict[str, Any] = {
            "load_1m": load1,
            "load_5m": load5,
            "load_15m": load15,
            "cores": os.cpu_count(),
        }
    except OSError:
        cpu = {"load_1m": None, "load_5m": None, "load_15m": None, "cores": os.cpu_count()}
    beats = daemons(actions.instance, with_errors=admin)
    server, asr = code_server(actions, admin), asr_worker(ctx.layout.home)
    queues = pools(actions)
    gpu = _gpu()
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    # one row per process that beats, for a table: Dagster's daemons, the code server, ASR
    rows = [
        {
            "name": name,
            "kind": "dagster_daemon",
            "healthy": d["healthy"],
            "last_heartbeat": d["last_heartbeat"],
            "status": "HEALTHY" if d["healthy"] else "UNHEALTHY",
        }
        for name, d in beats.items()
    ]
    if server is not None:
        rows.append(
            {
                "name": "code_server",
                "kind": "graphql",
                "healthy": None,
                "last_heartbeat": None,
                "status": "CONFIGURED",
            }
        )
    rows.append(
        {
            "name": "asr_worker",
            "kind": "asr_worker",
            "healthy": asr["running"],
            "last_heartbeat": asr["checked_at"] if asr["running"] else None,
            "status": "RUNNING" if asr["running"] else ("IDLE" if asr["running"] is False else "UNKNOWN"),
        }
    )
    cores = cpu["cores"] or 1
    return {
        "workers": rows,
        "heartbeats": {
            "daemons": beats,
            "code_server": server,
            "asr_worker": asr,
            "celery_workers": None,  # not deployed: runs go through Dagster's run queue
        },
        "pools": queues,
        "queue_depth": {name: q["queue_depth"] for name, q in queues.items()},
        "cpu": cpu,
        "gpu": gpu,
        # percentages: the 1-minute load over the cores; the busiest GPU's utilization
        "load": {
            "cpu": round(100.0 * cpu["load_1m"] / cores, 1) if cpu["load_1m"] is not None else None,
            "gpu": max((g["utilization_pct"] for g in gpu), default=None) if gpu else None,
        },
        "checked_at": now,
    }


@router.get("/system/workers", response_model=Envelope)
def system_workers(request: Request):
    """Heartbeats, queue depth per pool, CPU load (load average, cores) and GPU load (nvidia-smi)."""
    ctx = ctx_of(request)
    return ok(request, workers(ctx, key_of(request).project == ALL_PROJECTS))


@router.websocket("/system/workers/live")
async def live_workers(ws: WebSocket):
    """``{"type": "workers", "data": ...}`` now and every 5 s."""
    key = await ws_key(ws)
    if key is None:
        return
    ctx: ApiContext = ws.app.state.ctx
    await ws.accept()
    try:
        while True:
            data = await run_in_threadpool(workers, ctx, key.project == ALL_PROJECTS)
            await ws.send_text(json.dumps({"type": "workers", "data": data}, default=str))
            await asyncio.sleep(WORKERS_POLL_S)
    except (WebSocketDisconnect, RuntimeError):
        return


# ------------------------------------------------------------------------- bot control
@router.post("/projects/{project_id}/restart", response_model=Envelope)
def restart_project(
    request: Request, project_id: str, body: Annotated[ProjectAction | None, Body()] = None
) -> JSONResponse:
    """Stop then start the project's automation (audited); it ends RUNNING either way."""
    ctx = ctx_of(request)
    scoped_project(request, project_id)
    reason = body.reason if body else "api restart"
    ctx.projects.set_status(project_id, "PAUSED", reason)
    others = [pid for pid in ctx.projects.running() if pid != project_id]
    ctx.actions.set_automation(bool(others))
    p = ctx.projects.set_status(project_id, "RUNNING", reason)
    automation = ctx.actions.set_automation(True)
    audit(
        ctx,
        request,
        f"project {project_id} restarted ({reason}): its automation stopped and started",
        project_id=project_id,
        automation=automation,
    )
    return ok(
        request,
        {
            "message": f"Project {project_id} restarted.",
            "status": p["status"],
            "requested_at": p["status_changed_at"],
            "automation": automation,
        },
    )


def failed_partitions(ctx: ApiContext, p: dict, max_runs: int = 300) -> list[tuple[str, str, str | None]]:
    """(job, partition, creator) whose latest run of the project failed."""
    import dagster as dg

    creators = set(p["creators"])
    if not creators:
        return []
    videos = {r["video_key"] for r in ctx.warehouse.query_file("project_videos", [p["creators"]])}
    latest: dict[tuple[str, str], dg.DagsterRun] = {}
    for run in ctx.actions.instance.get_runs(limit=max_runs):  # newest first
        partition = run.tags.get("dagster/partition")
        if run.job_name not in STAGE_OF_JOB or not partition or not reads.run_belongs(run, creators, videos):
            continue
        latest.setdefault((run.job_name, partition), run)
    return [
        (job, partition, run.tags.get("omniva/creator"))
        for (job, partition), run in latest.items()
        if run.status == dg.DagsterRunStatus.FAILURE
    ]


@router.post("/projects/{project_id}/reset-failed", response_model=Envelope, status_code=202)
def reset_failed(request: Request, project_id: str) -> JSONResponse:
    """Re-request every partition of the project whose latest run failed (the API's launch path:
    one job, one run each; audited). Nothing failed: 200 with no job."""
    ctx = ctx_of(request)
    p = scoped_project(request, project_id)
    failed = failed_partitions(ctx, p)
    if not failed:
        return ok(request, {"job_id": None, "partitions": [], "message": "nothing failed"}, 200)
    actions = ctx.actions
    job_id = actions.new_job_id("reset")
    runs = [
        actions.plan_run(job, partition, STAGE_OF_JOB[job], creator=creator, job_id=job_id)
        for job, partition, creator in failed
    ]
    partitions = [f"{job}:{partition}" for job, partition, _ in failed]
    job = actions.submit(job_id, "reset", project_id, runs, {"partitions": partitions})
    audit(
        ctx,
        request,
        f"reset {job_id}: re-requested {len(runs)} failed partition(s) of {project_id}",
        project_id=project_id,
        partitions=partitions,
        run_ids=[r.run_id for r in runs],
    )
    return ok(request, {"partitions": partitions, **job_view(ctx, job)}, 202)


@router.post("/projects/{project_id}/quarantine/release", response_model=Envelope)
def release_quarantine(request: Request, project_id: str, body: QuarantineRelease) -> JSONResponse:
    """Release one of the project's quarantined partitions (``omniva quarantine release``)."""
    from omniva_app.api.status import ProjectScope

    ctx = ctx_of(request)
    p = scoped_project(request, project_id)
    videos = (
        frozenset(r["video_key"] for r in ctx.warehouse.query_file("project_videos", [p["creators"]]))
        if p["creators"]
        else frozenset()
    )
    scope = ProjectScope(frozenset(p["creators"]), videos)
    open_ = ctx.warehouse.query_file("open_quarantine_of_partition", [body.partition])
    if not open_ or not all(scope.owns(str(r["asset_key"]), body.partition) for r in open_):
        raise ApiError(
            404, "NOT_QUARANTINED", f"{body.partition!r} is not a quarantined partition of {project_id}"
        )
    released = ctx.store.release(body.partition, by=f"api:{key_of(request).key_id}")
    audit(
        ctx,
        request,
        f"released {body.partition} from quarantine ({', '.join(released)})",
        project_id=project_id,
        partition=body.partition,
        assets=released,
    )
    return ok(request, {"partition": body.partition, "released": released})
