"""The Scheduler's automation: re-plan publishing when renders land or a person approves a clip
(review before publish, #28), one plan at a time."""

from __future__ import annotations

import dagster as dg

from omniva_assets.scheduler.jobs import publish_plan_job
from omniva_resources.resources import OmnivaStore

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


def latest_approval() -> str:
    """When a person last approved a clip ("" when none, or no warehouse yet)."""
    try:
        rows = OmnivaStore().warehouse.query_file("latest_approval")
    except Exception:  # no warehouse yet: nothing approved
        return ""
    return str(rows[0]["at"] or "") if rows else ""


@dg.sensor(
    job=publish_plan_job,
    minimum_interval_seconds=60,
    description="Re-plans publishing when renders land or a clip is approved.",
)
def publish_plan_sensor(context: dg.SensorEvaluationContext):
    # One plan at a time: while a plan run is queued or running, new renders wait for the next
    # tick (the cursor stays), and that plan places them all at once.
    pending = plan_runs_pending(context.instance)
    if pending:
        return dg.SkipReason(f"publish_plan_job run {pending[0]} not finished; renders wait for it")
    # The cursor: the last renders materialization seen, then ";" and the last approval seen.
    seen, _, approved_seen = (context.cursor or "0").partition(";")
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("renders"), after_storage_id=int(seen or 0)),
        limit=200,
        ascending=True,
    ).records
    renders = str(max([int(seen or 0), *(r.storage_id for r in records)]))
    approved = latest_approval()
    if not records and approved == approved_seen:
        return dg.SkipReason("no new renders and no new approval")
    cursor = f"{renders};{approved}" if approved else renders
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"plan-{cursor}")], cursor=cursor)
