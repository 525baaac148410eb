"""The Uploader's automation: Zenith uploads what the publish plan placed."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from omniva_assets.policy import LaunchPolicy, keys_from, new_materializations, run_requests
from omniva_assets.uploader.jobs import upload_job
from omniva_resources.resources import AsrResource, HorizonGoals, MediaTools, OmnivaStore, PublishRules


@dg.sensor(
    job=upload_job,
    minimum_interval_seconds=60,
    description="Zenith: uploads the clips the publish plan placed (quota and quarantine respected).",
)
def upload_sensor(
    context: dg.SensorEvaluationContext,
    store: OmnivaStore,
    horizon: HorizonGoals,
    media_tools: MediaTools,
    asr_model: AsrResource,
    publish_rules: PublishRules,
):
    records, cursor = new_materializations(context, "publish_plan", limit=1)
    if not records:
        return dg.SkipReason("no new publish plan")
    plan = LaunchPolicy(context.instance, store, horizon, media_tools, asr_model, publish_rules).plan(
        "upload", keys_from("upload", records), "upload_sensor"
    )
    # A quota-deferred upload is tried again the next day: the run key carries the date.
    return dg.SensorResult(
        run_requests=run_requests(plan, f"upload-{datetime.now(UTC).date().isoformat()}"), cursor=cursor
    )
