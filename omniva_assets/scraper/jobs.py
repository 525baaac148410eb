"""The Scraper's jobs: register a creator, list a creator's posts of one day, download a video."""

from __future__ import annotations

import dagster as dg

from omniva_assets.partitions import posts_partitions, videos_partitions

creators_job = dg.define_asset_job(
    "creators_job",
    selection=dg.AssetSelection.assets("creators"),
)
posts_job = dg.define_asset_job(
    "posts_job",
    selection=dg.AssetSelection.assets("posts"),
    partitions_def=posts_partitions,
    description="List a creator's posts for one day.",
)
download_job = dg.define_asset_job(
    "download_job",
    selection=dg.AssetSelection.assets("videos"),
    partitions_def=videos_partitions,
    description="Only download one video (`omniva sources fetch`): no transcription or clips.",
)
