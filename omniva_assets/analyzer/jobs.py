"""The Analyzer's job: one video from download to Pantheon's selection."""

from __future__ import annotations

import dagster as dg

from omniva_assets.partitions import videos_partitions

video_job = dg.define_asset_job(
    "video_job",
    selection=dg.AssetSelection.assets(
        "videos", "transcripts", "analyses", "clip_candidates", "clip_selections"
    ),
    partitions_def=videos_partitions,
    description="Download, transcribe, analyse one video and let Pantheon pick its clips.",
)
