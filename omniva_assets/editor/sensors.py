"""The Editor's automation: Zenith edits and renders the clips Pantheon selected."""

from __future__ import annotations

import dagster as dg

from omniva_assets.editor.jobs import clip_job
from omniva_assets.policy import RESOURCES, LaunchPolicy, keys_from, new_materializations, run_requests


@dg.sensor(
    job=clip_job,
    minimum_interval_seconds=30,
    description="Zenith: edits and renders the clips Pantheon selected (only ranks that exist).",
    required_resource_keys=set(RESOURCES),
)
def clip_sensor(context: dg.SensorEvaluationContext):
    records, cursor = new_materializations(context, "clip_selections")
    # The partitions exist: the selection step added them when it wrote the selection.
    keys = keys_from("clip", records)
    plan = LaunchPolicy.of(context.instance, context.resources).plan("clip", keys, "clip_sensor")
    return dg.SensorResult(run_requests=run_requests(plan, "clip"), cursor=cursor)
