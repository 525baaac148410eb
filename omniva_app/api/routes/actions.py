"""What every action route shares: submitting its Dagster runs, the audit line, the job's
view with each run's status, and Zenith's gate for a single requested partition."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request

from omniva_app.api.context import ApiContext, key_of
from omniva_app.api.dagster_ops import ApiJob, PlannedRun
from omniva_app.api.envelope import ApiError
from omniva_assets.policy import LaunchPolicy

Wait = Annotated[float, Query(ge=0, le=600, description="seconds to wait for the runs to finish")]


def launch(
    ctx: ApiContext, request: Request, submission: tuple, wait: float, message: str, **audit_fields: Any
) -> tuple[ApiJob, dict]:
    """Submit an action's runs (``actions.submit``'s arguments), write the audit line, wait up
    to ``wait`` seconds; returns the job and its view."""
    job = ctx.actions.submit(*submission)
    audit(ctx, request, message, **audit_fields)
    ctx.actions.wait(job, wait)
    return job, job_view(ctx, job)


def refuse_if_busy(
    ctx: ApiContext, kind: str, job_name: str, partition: str, code: str, message: str
) -> None:
    """409 while an API job of ``kind`` or a ``job_name`` run is already working on ``partition``."""
    actions = ctx.actions
    busy = [j for j in actions.pending(kind) if j.subject.get("partition") == partition]
    if busy or actions.active_runs(job_name, partition):
        raise ApiError(409, code, message)


def launch_clip_run(
    ctx: ApiContext,
    request: Request,
    job_id: str,
    kind: str,
    project_id: str | None,
    clip_id: str,
    run: PlannedRun,
    wait: float,
    message: str,
) -> tuple[ApiJob, dict]:
    """Submit one clip's run (an edit or an upload), audit it and wait; returns the job and the
    fields every clip action answers with."""
    partition = run.partition
    job, view = launch(
        ctx,
        request,
        (job_id, kind, project_id, [run], {"clip_id": clip_id, "partition": partition}),
        wait,
        message,
        clip_id=clip_id,
        run_id=run.run_id,
    )
    return job, {
        "job_id": job_id,
        "status": view["status"],
        "clip_id": clip_id,
        "partition": partition,
        "run_id": run.run_id,
        "runs": view["runs"],
    }


def audit(ctx: ApiContext, request: Request, message: str, **metadata: Any) -> None:
    """Stardust: every action the API takes lands in the warehouse ``logs`` table."""
    ctx.store.log(
        "api",
        "INFO",
        message,
        request_id=request.state.request_id,
        key_id=key_of(request).key_id,
        path=request.url.path,
        **metadata,
    )


def run_view(ctx: ApiContext, run: PlannedRun) -> dict:
    status = run.status if run.status == "QUEUED" else (ctx.actions.run_status(run.run_id) or run.status)
    return {
        "run_id": run.run_id,
        "job_name": run.job_name,
        "partition": run.partition,
        "status": status,
        "dagster_ui": f"{ctx.ui_url}/runs/{run.run_id}",
        "failures": run.failures,
    }


def job_view(ctx: ApiContext, job: ApiJob) -> dict:
    return {
        "job_id": job.job_id,
        "kind": job.kind,
        "project_id": job.project_id,
        "status": job.status,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
        "subject": job.subject,
        "result": job.result,
        "runs": [run_view(ctx, r) for r in job.runs],
        "run_ids": [r.run_id for r in job.runs],
    }


def zenith_gate(ctx: ApiContext, stage: str, partition: str, job_id: str) -> tuple[str | None, float]:
    """Zenith's gate (``omniva_assets.policy``, the one the sensors and `omniva run` use) for one
    requested partition: refuse a quarantined one or a clip Pantheon did not select, defer in
    crisis. Returns the deferral reason, if any, and Lattice's priority for the clip (consensus,
    post age, Horizon's gap; 0.5 when its inputs are not in the warehouse); the decision is
    recorded either way."""
    actions = ctx.actions
    policy = LaunchPolicy.of(actions.instance, {**(actions.defs.resources or {}), "store": actions.store})
    plan = policy.plan(
        stage,
        [partition],
        "omniva-api",
        requested="requested through the API",
        again=True,
        record_tags={"api_job": job_id},
    )
    (decision,) = plan.decisions
    if decision.action == "refuse":
        raise ApiError(409, "NOT_SELECTED", f"{partition}: {decision.reason}")
    if decision.action == "skip":
        raise ApiError(
            409,
            "QUARANTINED",
            f"{partition} is quarantined by Eclipse; see `omniva quarantine list`, release it first",
        )
    return plan.crisis, plan.launches[0].priority if plan.launches else 0.5
