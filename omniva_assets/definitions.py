"""The one Definitions entry point of the Omniva code location."""

from __future__ import annotations

import dagster as dg

from omniva_assets.clips.assets import clip_copy, clips, renders
from omniva_assets.deployment import executor_from_env
from omniva_assets.eclipse import eclipse_sensor
from omniva_assets.insights.assets import clip_explanations, horizon_progress
from omniva_assets.jobs import ALL_JOBS
from omniva_assets.publishing.assets import publish_plan, uploads
from omniva_assets.sensors import ALL_SENSORS, daily_posts_schedule, lineage_sync_sensor
from omniva_assets.sources.assets import creators, posts, videos
from omniva_assets.understanding.assets import analyses, clip_candidates, clip_selections, transcripts
from omniva_resources.resources import resources_from_env

ASSETS = [
    creators,
    posts,
    videos,
    transcripts,
    analyses,
    clip_candidates,
    clip_selections,
    clips,
    renders,
    clip_copy,
    publish_plan,
    uploads,
    clip_explanations,
    horizon_progress,
]

defs = dg.Definitions(
    assets=ASSETS,
    jobs=ALL_JOBS,
    sensors=[*ALL_SENSORS, lineage_sync_sensor, eclipse_sensor],
    schedules=[daily_posts_schedule],
    resources=resources_from_env(),
    executor=executor_from_env(),  # OMNIVA_EXECUTOR (docs/deployment.md); unset: Dagster's default
)
