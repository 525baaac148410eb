"""Insights: HaloLux explanations per published clip, and Horizon's progress report."""

import dataclasses

import dagster as dg

from cognitive_sensors import halolux
from cognitive_sensors.goals import progress
from omniva.records import stable_id
from omniva_assets import stardust_meta as stardust
from omniva_assets.common import Lineage, recorded, week_topic_counts, with_user_errors
from omniva_assets.partitions import clip_partitions, split_clip_key
from omniva_resources.insights import load_bundle
from omniva_resources.resources import HorizonGoals, NlpResource, OmnivaStore


@dg.asset(
    partitions_def=clip_partitions,
    deps=["uploads"],
    group_name="insights",
    kinds={"python"},
    code_version="1",
)
@with_user_errors
def clip_explanations(context: dg.AssetExecutionContext, store: OmnivaStore) -> dg.Output:
    """Why this clip exists: the moment, each agent's vote and reason, the dissent, what
    autocut removed, the title, the schedule slot and why, as Markdown."""
    video_key, rank = split_clip_key(context.partition_key)
    bundle = load_bundle(store.warehouse, f"{video_key}#{rank}")
    markdown = halolux.explain_markdown(bundle)
    lineage = Lineage(
        "clips",
        bundle["clip"]["clip_id"],
        stardust.trace_id_for(video_key),
        source_url=bundle["source"].get("source_url"),
        creator=bundle["source"].get("creator"),
        decision=markdown,
    )
    # No value: the explanation is its packet and its metadata.
    metadata = {"explanation": dg.MetadataValue.md(markdown), "clip_id": bundle["clip"]["clip_id"]}
    return recorded(None, lineage, None, metadata)


@dg.asset(
    deps=["publish_plan"],
    group_name="insights",
    kinds={"python"},
    code_version="2",
)
@with_user_errors
def horizon_progress(
    context: dg.AssetExecutionContext, store: OmnivaStore, horizon: HorizonGoals, nlp_model: NlpResource
) -> dg.Output:
    """Horizon: the channel against its goals (config/horizon.yaml): weekly cadence and the
    content mix of the clips scheduled this week. Pantheon's horizon agent reads the same mix."""
    goals = horizon.goals()
    counts = week_topic_counts(store, goals, nlp_model)
    week = store.warehouse.query_file("channel_slots_this_week", [goals.channel])[0]["n"]
    report = progress(goals, week, counts)
    rows = "\n".join(
        f"| {t} | {report['mix_target'].get(t, 0):.0%} | {counts.get(t, 0)} | {report['mix_gap'][t]:+.0%} |"
        for t in goals.content_mix
    )
    markdown = (
        f"**{week} upload(s)** scheduled this week of {goals.weekly_cadence} aimed for "
        f"({report['cadence_progress']:.0%}); daily quota {goals.daily_quota}.\n\n"
        f"| topic | target share | clips | gap |\n|---|---|---|---|\n{rows}"
    )
    lineage = Lineage(
        "schedules",
        stable_id("horizon", goals.project),
        stable_id("trace", "channel", goals.channel),
        params={"goals": dataclasses.asdict(goals)},
        decision=markdown,
    )
    metadata = {"progress": dg.MetadataValue.json(report), "summary": dg.MetadataValue.md(markdown)}
    return recorded(None, lineage, None, metadata)
