"""The Editor's job: one selected clip's edit, render and copy."""

from __future__ import annotations

import dagster as dg

from omniva_assets.partitions import clip_partitions

clip_job = dg.define_asset_job(
    "clip_job",
    selection=dg.AssetSelection.assets("clips", "renders", "clip_copy"),
    partitions_def=clip_partitions,
    description="Edit, render and write copy for one selected clip.",
)
