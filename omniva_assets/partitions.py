"""Partitions: dynamic creators, videos and clips; posts per creator x day.

A clip partition exists only when Pantheon selected that clip: ``clip_selections`` adds the
keys of the clips it picked to the dynamic ``clips`` partitions, so the UI counts what exists
and "materialize missing" can only ask for a selected clip. A clip key is ``RANK|VIDEO_KEY``.

Which video a clip comes from, and which post listed a video, are data, not a function Dagster's
built-in partition mappings can express (a cross product of videos x ranks would show clips
that never exist; custom ``PartitionMapping`` classes are unsupported). Those two edges are
declared without partition-level mapping (``RECORDED_IN_METADATA``), and every materialization
records the exact parent partitions it was made from in its own metadata (``lineage/parents``), in
Dagster's event log (``omniva_assets.common.parents_of``; docs/architecture.md, "Lineage"). A
clip-level asset still declares its video-level parents as inputs with that mapping: the record
IO manager (``omniva_assets.io_manager``) loads them from the clip's video partition.
"""

from __future__ import annotations

import warnings

import dagster as dg

creators_partitions = dg.DynamicPartitionsDefinition(name="creators")
videos_partitions = dg.DynamicPartitionsDefinition(name="videos")
clips_partitions = dg.DynamicPartitionsDefinition(name="clips")
clip_partitions = clips_partitions  # the clip-level assets' partitions
days_partitions = dg.DailyPartitionsDefinition(start_date="2025-01-01", end_offset=1)
posts_partitions = dg.MultiPartitionsDefinition({"creator": creators_partitions, "day": days_partitions})

with warnings.catch_warnings():  # a beta mapping, chosen knowingly (docs/architecture.md)
    warnings.simplefilter("ignore", dg.BetaWarning)
    creator_of_post = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="creator")
# The partition-level link is in each materialization's ``lineage/parents`` (see above).
RECORDED_IN_METADATA = dg.SpecificPartitionsPartitionMapping([])


def post_key(creator: str, day: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"creator": creator, "day": day})


def split_post_key(key: str | dg.MultiPartitionKey) -> tuple[str, str]:
    """(creator, day) of a posts partition key (Dagster writes it ``creator|day``)."""
    if isinstance(key, dg.MultiPartitionKey):
        dims = key.keys_by_dimension
        return dims["creator"], dims["day"]
    creator, _, day = str(key).rpartition("|")
    return creator, day


def clip_key(video_key: str, rank: int | str) -> str:
    return f"{int(rank)}|{video_key}"


def split_clip_key(key: str) -> tuple[str, int]:
    """(video key, rank) of a clip partition key ``RANK|VIDEO_KEY``."""
    rank, sep, video = str(key).partition("|")
    if not sep or not rank.isdigit() or not video:
        raise ValueError(f"{key!r} is not a clip partition key (RANK|VIDEO_KEY, e.g. 1|alice-abc123)")
    return video, int(rank)


def register_clips(
    instance: dg.DagsterInstance, video_key: str, ranks: list[int]
) -> tuple[list[str], list[str]]:
    """Make the clip partitions of ``video_key`` exactly the ranks Pantheon selected: add the new
    ones; a rank no longer selected is removed unless it was already made (its history stays).
    Returns (added, removed)."""
    assert clips_partitions.name is not None
    wanted = [clip_key(video_key, r) for r in ranks]
    existing = set(instance.get_dynamic_partitions(clips_partitions.name))
    added = [k for k in wanted if k not in existing]
    if added:
        instance.add_dynamic_partitions(clips_partitions.name, added)
    mine = [k for k in existing if k.partition("|")[2] == video_key and k not in wanted]
    made = instance.get_materialized_partitions(dg.AssetKey("clips")) if mine else set()
    removed = [k for k in mine if k not in made]
    for k in removed:
        instance.delete_dynamic_partition(clips_partitions.name, k)
    return added, removed
