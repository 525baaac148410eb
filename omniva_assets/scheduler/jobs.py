"""The Scheduler's job: place every rendered clip in a publish slot."""

from __future__ import annotations

import dagster as dg

publish_plan_job = dg.define_asset_job(
    "publish_plan_job",
    selection=dg.AssetSelection.assets("publish_plan", "horizon_progress"),
    description="Place every rendered clip in a publish slot.",
)
