"""The Editor's automation: Zenith edits and renders the clips Pantheon selected."""

from __future__ import annotations

import dagster as dg

from omniva_assets.editor.jobs import clip_job
from omniva_assets.policy import LaunchPolicy, keys_from, new_materializations, run_requests
from omniva_resources.resources import AsrResource, HorizonGoals, MediaTools, OmnivaStore, PublishRules


@dg.sensor(
    job=clip_job,
    minimum_interval_seconds=30,
    description="Zenith: edits and renders the clips Pantheon selected (only ranks that exist).",
)
def clip_sensor(
    context: dg.SensorEvaluationContext,
    store: OmnivaStore,
    horizon: HorizonGoals,
    media_tools: MediaTools,
    asr_model: AsrResource,
    publish_rules: PublishRules,
):
    records, cursor = new_materializations(context, "clip_selections")
    # The partitions exist: the selection step added them when it wrote the selection.
    keys = keys_from("clip", records)
    plan = LaunchPolicy(context.instance, store, horizon, media_tools, asr_model, publish_rules).plan(
        "clip", keys, "clip_sensor"
    )
    return dg.SensorResult(run_requests=run_requests(plan, "clip"), cursor=cursor)
