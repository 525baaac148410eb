"""The Analyzer's automation: Zenith runs the videos new posts listed, most watched first."""

from __future__ import annotations

import dagster as dg

from cognitive_sensors.zenith import new_partition_keys
from omniva_assets.analyzer.jobs import video_job
from omniva_assets.partitions import videos_partitions
from omniva_assets.policy import (
    LaunchPolicy,
    keys_from,
    known_partitions,
    new_materializations,
    run_requests,
)
from omniva_resources.resources import AsrResource, HorizonGoals, MediaTools, OmnivaStore, PublishRules


@dg.sensor(
    job=video_job,
    minimum_interval_seconds=30,
    description="Zenith: registers videos found in new posts and runs the new ones.",
)
def video_sensor(
    context: dg.SensorEvaluationContext,
    store: OmnivaStore,
    horizon: HorizonGoals,
    media_tools: MediaTools,
    asr_model: AsrResource,
    publish_rules: PublishRules,
):
    records, cursor = new_materializations(context, "posts")
    keys = keys_from("video", records)
    plan = LaunchPolicy(context.instance, store, horizon, media_tools, asr_model, publish_rules).plan(
        "video", keys, "video_sensor"
    )
    new = new_partition_keys(keys, known_partitions(context.instance, videos_partitions))
    return dg.SensorResult(
        run_requests=run_requests(plan, "video"),
        dynamic_partitions_requests=[videos_partitions.build_add_request(new)],
        cursor=cursor,
    )
