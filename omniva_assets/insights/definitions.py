"""HaloLux's and Horizon's definitions: explanations, goal progress, and the lineage mirror."""

from __future__ import annotations

import dagster as dg

from omniva_assets.insights.assets import clip_explanations, horizon_progress
from omniva_assets.insights.sensors import lineage_sync_sensor
from omniva_resources.resources import RenderSettings


def definitions(render: RenderSettings) -> dg.Definitions:
    return dg.Definitions(assets=[clip_explanations, horizon_progress], sensors=[lineage_sync_sensor])
