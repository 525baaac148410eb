"""The Scraper's checks: Paradox on downloaded videos."""

from __future__ import annotations

import dagster as dg

from omniva.records import Video
from omniva_resources.resources import OmnivaStore

UNIQUE_SOURCE_CHECKSUM = dg.AssetCheckSpec(
    "unique_source_checksum",
    asset="videos",
    blocking=True,
    description="Paradox: the same file is not already a video under another key",
)


def unique_source_checksum(store: OmnivaStore, video: Video) -> dg.AssetCheckResult:
    twins = [
        r["video_key"]
        for r in store.warehouse.query_file("videos_with_checksum", [video.sha256, video.video_key])
    ]
    return dg.AssetCheckResult(
        check_name=UNIQUE_SOURCE_CHECKSUM.name,
        passed=not twins,
        metadata={"same_checksum_as": dg.MetadataValue.json(twins)},
        description=f"duplicate of {', '.join(twins)}" if twins else "no other video has this sha256",
    )
