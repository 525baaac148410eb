"""Stardust's automation: Dagster's own ledger mirrored into the warehouse."""

from __future__ import annotations

import dagster as dg

from omniva_resources.lineage import sync_lineage
from omniva_resources.resources import OmnivaStore


@dg.sensor(
    minimum_interval_seconds=120,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Stardust: mirrors Dagster's runs, materializations and checks into the DuckDB warehouse.",
)
def lineage_sync_sensor(context: dg.SensorEvaluationContext, store: OmnivaStore):
    report = sync_lineage(context.instance, store.warehouse)
    return dg.SkipReason(
        f"mirrored {report.runs_synced} of {report.runs_seen} finished run(s): "
        f"{report.materializations} materialization(s), {report.checks} check result(s)"
    )
