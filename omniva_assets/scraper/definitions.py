"""The Scraper's definitions: creators, their posts per day, and the videos they list."""

from __future__ import annotations

import dagster as dg

from omniva_assets.scraper.assets import creators, posts, videos
from omniva_assets.scraper.jobs import creators_job, download_job, posts_job
from omniva_assets.scraper.sensors import creator_sensor, daily_posts_schedule, folder_sensor
from omniva_resources.resources import RenderSettings


def definitions(render: RenderSettings) -> dg.Definitions:
    return dg.Definitions(
        assets=[creators, posts, videos],
        jobs=[creators_job, posts_job, download_job],
        sensors=[creator_sensor, folder_sensor],
        schedules=[daily_posts_schedule],
    )
