"""What every asset shares: the retry policy, typed errors as Dagster failures, and the one
writer that turns a record into warehouse rows, a Stardust packet and the materialization."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from cognitive_sensors import stardust
from cognitive_sensors.goals import Goals, topic_of
from omniva.errors import OmnivaError
from omniva.records import Video
from omniva_resources import judgement, media
from omniva_resources.resources import NlpResource, OmnivaStore

# Transient failures (a source that did not answer, a full disk) are retried with
# backoff; bad media is not (Eclipse: retry what can heal, mark what cannot).
RETRY = dg.RetryPolicy(max_retries=2, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


@contextmanager
def user_errors(context: dg.AssetExecutionContext, store: OmnivaStore) -> Iterator[None]:
    """Turn a typed Omniva error into a Dagster Failure that names the input and says why.

    The failure is also written to the warehouse ``logs`` table, so analysts see why a
    partition has no output. Retries are allowed only for errors that can heal.
    """
    try:
        yield
    except OmnivaError as exc:
        partition = context.partition_key if context.has_partition_key else None
        asset = context.asset_key.to_user_string()
        store.log(
            asset,
            "ERROR",
            str(exc),
            partition=partition,
            error=type(exc).__name__,
            reason=getattr(exc, "reason", None),
            retryable=exc.retryable,
            run_id=stardust.run_id_of(context),
        )
        # An unavailable source says why (private, geo-blocked, ...): the partition shows it.
        why = getattr(exc, "reason", None)
        reason = {"reason": why} if isinstance(why, str) else {}
        raise dg.Failure(
            description=f"{asset} [{partition}]: {exc}",
            metadata={"error": type(exc).__name__, "partition": partition or "", **reason},
            allow_retries=exc.retryable,
        ) from exc


@dataclass(frozen=True)
class Lineage:
    """What a materialization's Stardust packet says (``stardust.packet``'s arguments)."""

    entity_type: str
    entity_id: str
    trace_id: str
    source_url: str | None = None
    creator: str | None = None
    inputs: Mapping[str, str] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)
    tools: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, object] = field(default_factory=dict)
    decision: str | None = None

    @classmethod
    def of_video(cls, video: Video, entity_type: str, entity_id: str, **more: Any) -> Lineage:
        """A packet about something made from ``video``: its trace, source and creator."""
        return cls(
            entity_type,
            entity_id,
            stardust.trace_id_for(video.video_key),
            source_url=video.source_url,
            creator=video.creator,
            **more,
        )


Tables = Mapping[str, Sequence[dict]]


def record(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    lineage: Lineage,
    tables: Tables | None = None,
    partition: str | None = None,
) -> dict[str, Any]:
    """Write ``tables`` ({table: rows}) as this partition's rows (or ``partition``'s), then
    the Stardust packet; returns the packet as Dagster metadata."""
    for table, rows in (tables or {}).items():
        store.record(table, partition if partition is not None else str(context.partition_key), list(rows))
    meta, row = stardust.packet(
        context,
        entity_type=lineage.entity_type,
        entity_id=lineage.entity_id,
        trace_id=lineage.trace_id,
        source_url=lineage.source_url,
        creator=lineage.creator,
        inputs=lineage.inputs,
        outputs=lineage.outputs,
        # Every packet names the ffmpeg build, as before Stardust stopped running ffmpeg itself.
        tools={"ffmpeg": media.ffmpeg_build(), **lineage.tools},
        params=lineage.params,
        decision=lineage.decision,
    )
    store.record_stardust(row)
    return meta


def engagement_of(store: OmnivaStore, video: Video) -> dict:
    """Views, likes and the most-replayed curve of the video's source (empty when none)."""
    try:
        raw = store.find_post(video.video_key).raw_metadata
    except dg.Failure:
        raw = {}
    return judgement.source_engagement(video.file_path, raw)


def emit(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    value: Any,
    lineage: Lineage,
    tables: Tables | None = None,
    metadata: Mapping[str, Any] | None = None,
    data_version: dg.DataVersion | None = None,
) -> dg.Output:
    """The one writer: the record's rows and its Stardust packet, then its Dagster output
    with the packet and ``metadata``."""
    meta = record(context, store, lineage, tables)
    return dg.Output(value, metadata={**meta, **(metadata or {})}, data_version=data_version)


def week_topic_counts(store: OmnivaStore, goals: Goals, nlp_model: NlpResource) -> dict[str, int]:
    """Topics of the clips scheduled within a week either side of now (Horizon's mix so far),
    each clip put in the goal topic its text is closest to by embedding."""
    texts = [r["text"] for r in store.warehouse.query_file("scheduled_clip_texts_this_week") if r["text"]]
    if not texts or not goals.topics:
        return {}
    model = nlp_model.embedder()
    topics = judgement.goal_vectors(goals, model)
    null = judgement.off_topic_vectors(model, nlp_model.exemplars())
    counts: dict[str, int] = {}
    for vector in model.embed(texts):
        sims = {t: judgement.nearest(v, vector) for t, v in topics.items()}
        topic = topic_of(sims, judgement.nearest(null, vector))
        if topic:
            counts[topic] = counts.get(topic, 0) + 1
    return counts
