"""The Analyzer's automation: Zenith runs the videos new posts listed, most watched first."""

from __future__ import annotations

import dagster as dg

from cognitive_sensors.zenith import new_partition_keys
from omniva_assets.analyzer.jobs import video_job
from omniva_assets.partitions import videos_partitions
from omniva_assets.policy import (
    RESOURCES,
    LaunchPolicy,
    keys_from,
    known_partitions,
    new_materializations,
    run_requests,
)


@dg.sensor(
    job=video_job,
    minimum_interval_seconds=30,
    description="Zenith: registers videos found in new posts and runs the new ones.",
    required_resource_keys=set(RESOURCES),
)
def video_sensor(context: dg.SensorEvaluationContext):
    records, cursor = new_materializations(context, "posts")
    keys = keys_from("video", records)
    plan = LaunchPolicy.of(context.instance, context.resources).plan("video", keys, "video_sensor")
    new = new_partition_keys(keys, known_partitions(context.instance, videos_partitions))
    return dg.SensorResult(
        run_requests=run_requests(plan, "video"),
        dynamic_partitions_requests=[videos_partitions.build_add_request(new)],
        cursor=cursor,
    )
