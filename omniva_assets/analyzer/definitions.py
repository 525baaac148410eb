"""The Analyzer's definitions: transcripts, analyses, candidates and Pantheon's selection."""

from __future__ import annotations

import dagster as dg

from omniva_assets.analyzer.assets import analyses, clip_candidates, clip_selections, transcripts
from omniva_assets.analyzer.jobs import video_job
from omniva_assets.analyzer.sensors import video_sensor
from omniva_resources.resources import RenderSettings


def definitions(render: RenderSettings) -> dg.Definitions:
    return dg.Definitions(
        assets=[transcripts, analyses, clip_candidates, clip_selections],
        jobs=[video_job],
        sensors=[video_sensor],
    )
