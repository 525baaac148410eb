"""Partitions: dynamic creators and videos, posts per creator x day, clips per video x rank."""

from __future__ import annotations

import dagster as dg

MAX_RANK = 5  # ranks that may exist; Zenith requests only the ranks Pantheon selected

creators_partitions = dg.DynamicPartitionsDefinition(name="creators")
videos_partitions = dg.DynamicPartitionsDefinition(name="videos")
days_partitions = dg.DailyPartitionsDefinition(start_date="2025-01-01", end_offset=1)
posts_partitions = dg.MultiPartitionsDefinition({"creator": creators_partitions, "day": days_partitions})
clip_partitions = dg.MultiPartitionsDefinition(
    {
        "video": videos_partitions,
        "rank": dg.StaticPartitionsDefinition([str(r) for r in range(1, MAX_RANK + 1)]),
    }
)

video_of_clip = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="video")
creator_of_post = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="creator")


def post_key(creator: str, day: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"creator": creator, "day": day})


def clip_key(video_key: str, rank: int | str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"video": video_key, "rank": str(rank)})


def split_clip_key(key: str | dg.MultiPartitionKey) -> tuple[str, int]:
    if isinstance(key, dg.MultiPartitionKey):
        dims = key.keys_by_dimension
    else:
        # Dagster joins dimension keys in dimension-name order: "rank|video".
        rank, _, video = key.partition("|")
        dims = {"rank": rank, "video": video}
    return dims["video"], int(dims["rank"])
