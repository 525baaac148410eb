"""The Uploader's automation: Zenith uploads what the publish plan placed."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from omniva_assets.policy import RESOURCES, LaunchPolicy, keys_from, new_materializations, run_requests
from omniva_assets.uploader.jobs import upload_job


@dg.sensor(
    job=upload_job,
    minimum_interval_seconds=60,
    description="Zenith: uploads the clips the publish plan placed (quota and quarantine respected).",
    required_resource_keys=set(RESOURCES),
)
def upload_sensor(context: dg.SensorEvaluationContext):
    records, cursor = new_materializations(context, "publish_plan", limit=1)
    if not records:
        return dg.SkipReason("no new publish plan")
    plan = LaunchPolicy.of(context.instance, context.resources).plan(
        "upload", keys_from("upload", records), "upload_sensor"
    )
    # A quota-deferred upload is tried again the next day: the run key carries the date.
    return dg.SensorResult(
        run_requests=run_requests(plan, f"upload-{datetime.now(UTC).date().isoformat()}"), cursor=cursor
    )
