"""The Uploader's job: one clip to YouTube, then its explanation."""

from __future__ import annotations

import dagster as dg

from omniva_assets.partitions import clip_partitions

upload_job = dg.define_asset_job(
    "upload_job",
    selection=dg.AssetSelection.assets("uploads", "clip_explanations"),
    partitions_def=clip_partitions,
    description="Upload one clip, scheduled at its planned slot, and explain it (HaloLux).",
)
