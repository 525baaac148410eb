"""HaloLux's and Horizon's definitions: explanations, goal progress, the lineage mirror, and the
notifications that reach a person (#29)."""

from __future__ import annotations

import dagster as dg

from omniva_assets.insights.assets import clip_explanations, horizon_progress
from omniva_assets.insights.notifications import notifications_sensor
from omniva_assets.insights.sensors import lineage_sync_sensor
from omniva_resources.resources import RenderSettings


def definitions(render: RenderSettings) -> dg.Definitions:
    return dg.Definitions(
        assets=[clip_explanations, horizon_progress], sensors=[lineage_sync_sensor, notifications_sensor]
    )
