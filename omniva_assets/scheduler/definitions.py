"""The Scheduler's definitions: the publish plan."""

from __future__ import annotations

import dagster as dg

from omniva_assets.scheduler.assets import publish_plan
from omniva_assets.scheduler.jobs import publish_plan_job
from omniva_assets.scheduler.sensors import publish_plan_sensor
from omniva_resources.resources import RenderSettings


def definitions(render: RenderSettings) -> dg.Definitions:
    return dg.Definitions(assets=[publish_plan], jobs=[publish_plan_job], sensors=[publish_plan_sensor])
