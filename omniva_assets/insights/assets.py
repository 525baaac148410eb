"""HaloLux: an explanation per published clip, shown in the Dagster UI."""

import dagster as dg

from cognitive_sensors import halolux, stardust
from omniva.insights import load_bundle
from omniva_assets.partitions import clip_partitions, split_clip_key
from omniva_resources.resources import OmnivaStore


@dg.asset(
    partitions_def=clip_partitions,
    deps=["uploads"],
    group_name="insights",
    kinds={"python"},
    code_version="1",
)
def clip_explanations(context: dg.AssetExecutionContext, store: OmnivaStore) -> dg.MaterializeResult:
    """Why this clip exists: the moment, each agent's vote and reason, the dissent, what
    autocut removed, the title, the schedule slot and why, as Markdown."""
    video_key, rank = split_clip_key(context.partition_key)
    bundle = load_bundle(store.warehouse, f"{video_key}#{rank}")
    markdown = halolux.explain_markdown(bundle)
    meta, row = stardust.packet(
        context,
        entity_type="clips",
        entity_id=bundle["clip"]["clip_id"],
        trace_id=stardust.trace_id_for(video_key),
        source_url=bundle["source"].get("source_url"),
        creator=bundle["source"].get("creator"),
        decision=markdown,
    )
    store.record_stardust(row)
    return dg.MaterializeResult(
        metadata={**meta, "explanation": dg.MetadataValue.md(markdown), "clip_id": bundle["clip"]["clip_id"]}
    )
