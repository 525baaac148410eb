"""Eclipse in Dagster: a run-failure sensor (and the same handler for CLI runs) that
classifies each failed step, records the verdict, quarantines, defers or retries."""

from datetime import UTC, datetime

import dagster as dg
from dagster import DagsterEventType

from cognitive_sensors import eclipse
from cognitive_sensors.stardust import now_iso
from omniva.records import stable_id
from omniva_assets.analyzer.jobs import video_job
from omniva_assets.editor.jobs import clip_job
from omniva_assets.scraper.jobs import download_job, posts_job
from omniva_assets.uploader.jobs import upload_job
from omniva_resources.dagster_internals import StepFailureData
from omniva_resources.resources import OmnivaStore

MAX_FAILURES = 3


def _failed_steps(instance: dg.DagsterInstance, run_id: str) -> list[tuple[str, str | None, str]]:
    """(step_key, error type, message) of each failed step of a run."""
    out = []
    conn = instance.get_records_for_run(run_id, of_type=DagsterEventType.STEP_FAILURE)
    for record in conn.records:
        entry = record.event_log_entry
        event = entry.dagster_event
        assert event is not None  # filtered on STEP_FAILURE events
        data = event.event_specific_data
        assert isinstance(data, StepFailureData)
        user = data.user_failure_data
        if user is not None:
            meta = user.metadata or {}
            error_type = getattr(meta.get("error"), "value", None) or "Failure"
            message = user.description or ""
        else:
            error_type = data.error.cls_name if data.error else None
            message = data.error.message if data.error else ""
        out.append((entry.step_key or "?", error_type, message.strip()))
    return out


def handle_failed_run(
    instance: dg.DagsterInstance, store: OmnivaStore, run: dg.DagsterRun, now: datetime | None = None
) -> list[eclipse.Verdict]:
    """Classify, record and act on one failed run. Idempotent per (run, step)."""
    now = now or datetime.now(UTC)
    partition = run.tags.get("dagster/partition")
    failures = len(
        instance.get_run_ids(
            filters=dg.RunsFilter(
                job_name=run.job_name,
                statuses=[dg.DagsterRunStatus.FAILURE],
                tags={"dagster/partition": partition} if partition else {},
            )
        )
    )
    verdicts = []
    for step, error_type, message in _failed_steps(instance, run.run_id):
        cls = eclipse.classify(error_type, message)
        verdict = eclipse.decide(cls, max(1, failures), now, MAX_FAILURES, message=message)
        verdicts.append(verdict)
        store.warehouse.write_partition(
            "eclipse_decisions",
            f"{run.run_id}/{step}",
            [
                {
                    "decision_id": stable_id("eclipse", run.run_id, step),
                    "run_id": run.run_id,
                    "job_name": run.job_name,
                    "step_key": step,
                    "partition_key": partition,
                    "error_type": error_type,
                    "message": message[:2000],
                    "failure_class": cls,
                    "failures": failures,
                    "action": verdict.action,
                    "reason": verdict.reason,
                    "defer_until": verdict.defer_until,
                    "decided_at": now_iso(),
                }
            ],
        )
        if verdict.action == "quarantine" and partition:
            store.quarantine(step, partition, cls, f"{verdict.reason}: {message[:300]}", failures, run.run_id)
    return verdicts


@dg.run_failure_sensor(
    monitor_all_code_locations=False,
    monitored_jobs=[posts_job, video_job, download_job, clip_job, upload_job],
    request_jobs=[posts_job, video_job, download_job, clip_job, upload_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Eclipse: classifies failures (transient / quota / bad input / bug); retries, defers or "
    "quarantines the partition. Release with `omniva quarantine release PARTITION`.",
)
def eclipse_sensor(context: dg.RunFailureSensorContext, store: OmnivaStore):
    run = context.dagster_run
    verdicts = handle_failed_run(context.instance, store, run)
    partition = run.tags.get("dagster/partition")
    if partition and any(v.action == "retry" for v in verdicts) and partition not in store.quarantined():
        return dg.RunRequest(
            run_key=f"eclipse-retry-{run.run_id}",
            job_name=run.job_name,
            partition_key=partition,
            tags={"omniva/eclipse": "retry"},
        )
    return dg.SkipReason(
        "; ".join(f"{v.failure_class}: {v.action} ({v.reason})" for v in verdicts) or "no step failed"
    )
