"""Jobs: the units Zenith (sensors, schedule, CLI) launches, one per partitioning."""

from __future__ import annotations

import dagster as dg

from omniva_assets.partitions import clip_partitions, posts_partitions, videos_partitions

posts_job = dg.define_asset_job(
    "posts_job",
    selection=dg.AssetSelection.assets("posts"),
    partitions_def=posts_partitions,
    description="List a creator's posts for one day.",
)
video_job = dg.define_asset_job(
    "video_job",
    selection=dg.AssetSelection.assets(
        "videos", "transcripts", "analyses", "clip_candidates", "clip_selections"
    ),
    partitions_def=videos_partitions,
    description="Download, transcribe, analyse one video and let Pantheon pick its clips.",
)
download_job = dg.define_asset_job(
    "download_job",
    selection=dg.AssetSelection.assets("videos"),
    partitions_def=videos_partitions,
    description="Only download one video (`omniva sources fetch`): no transcription or clips.",
)
clip_job = dg.define_asset_job(
    "clip_job",
    selection=dg.AssetSelection.assets("clips", "renders", "clip_copy"),
    partitions_def=clip_partitions,
    description="Edit, render and write copy for one selected clip.",
)
publish_plan_job = dg.define_asset_job(
    "publish_plan_job",
    selection=dg.AssetSelection.assets("publish_plan", "horizon_progress"),
    description="Place every rendered clip in a publish slot.",
)
upload_job = dg.define_asset_job(
    "upload_job",
    selection=dg.AssetSelection.assets("uploads", "clip_explanations"),
    partitions_def=clip_partitions,
    description="Upload one clip, scheduled at its planned slot, and explain it (HaloLux).",
)
creators_job = dg.define_asset_job(
    "creators_job",
    selection=dg.AssetSelection.assets("creators"),
)

ALL_JOBS = [posts_job, video_job, download_job, clip_job, publish_plan_job, upload_job, creators_job]
