"""The Scheduler's automation: re-plan publishing when renders land, one plan at a time."""

from __future__ import annotations

import dagster as dg

from omniva_assets.policy import new_materializations
from omniva_assets.scheduler.jobs import publish_plan_job

UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def plan_runs_pending(instance: dg.DagsterInstance) -> list[str]:
    """The ids of publish-plan runs queued or running."""
    runs = instance.get_runs(
        filters=dg.RunsFilter(job_name=publish_plan_job.name, statuses=UNFINISHED), limit=5
    )
    return [r.run_id for r in runs]


@dg.sensor(
    job=publish_plan_job, minimum_interval_seconds=60, description="Re-plans publishing when renders land."
)
def publish_plan_sensor(context: dg.SensorEvaluationContext):
    # One plan at a time: while a plan run is queued or running, new renders wait for the next
    # tick (the cursor stays), and that plan places them all at once.
    pending = plan_runs_pending(context.instance)
    if pending:
        return dg.SkipReason(f"publish_plan_job run {pending[0]} not finished; renders wait for it")
    records, cursor = new_materializations(context, "renders")
    if not records:
        return dg.SkipReason("no new renders")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"plan-{cursor}")], cursor=cursor)
