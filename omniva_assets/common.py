"""What every asset shares: the retry policy, typed errors as Dagster failures
(``with_user_errors``), the output an asset returns (``recorded``: its value with its lineage
and rows), and the one writer that turns it into warehouse rows, a Stardust packet and the
materialization's metadata (``record``, called by the record IO manager,
``omniva_assets.io_manager``, when the output is stored)."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import dagster as dg

from cognitive_sensors.goals import Goals, topic_of
from omniva import contracts
from omniva.errors import OmnivaError
from omniva.records import Video
from omniva_assets import stardust_meta as stardust
from omniva_assets.partitions import post_key, split_clip_key, split_post_key
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
    # The spec's contract this materialization emits, built from (trace id, parent packet ids).
    contract: Callable[[str, list[str]], contracts.Contract | list[contracts.Contract]] | None = None

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

# The partitioning of each asset: "creator", "post" (creator x day), "video", "clip" or None.
LEVEL: dict[str, str | None] = {
    "creators": "creator",
    "posts": "post",
    "videos": "video",
    "transcripts": "video",
    "analyses": "video",
    "clip_candidates": "video",
    "clip_selections": "video",
    "clips": "clip",
    "renders": "clip",
    "clip_copy": "clip",
    "uploads": "clip",
    "clip_explanations": "clip",
    "publish_plan": None,
    "horizon_progress": None,
}


@dataclass(frozen=True)
class Parent:
    """One parent partition a materialization was made from, as Dagster's event log has it."""

    asset: str
    partition: str | None
    storage_id: int | None = None
    run_id: str | None = None
    data_version: str | None = None

    @property
    def stardust_id(self) -> str:
        return stardust.packet_id(self.asset, self.partition)

    def as_dict(self) -> dict[str, object]:
        return {
            "asset": self.asset,
            "partition": self.partition,
            "storage_id": self.storage_id,
            "run_id": self.run_id,
            "data_version": self.data_version,
            "stardust_id": self.stardust_id,
        }


def parent_partitions(store: OmnivaStore, asset: str, partition: str | None, parent: str) -> list[str | None]:
    """The partitions of ``parent`` that ``asset``'s ``partition`` was made from.

    Same partitioning: the same key. A clip: its video. A video: the post partitions that
    listed it (data: the posts table). A post: its creator. An unpartitioned parent: itself.
    An unpartitioned asset made from a partitioned parent (the publish plan from every render)
    names none: its own metadata says which clips it placed.
    """
    own, up = LEVEL.get(asset), LEVEL.get(parent)
    if up is None:
        return [None]
    if own is None or partition is None:
        return []
    if own == up:
        return [partition]
    if own == "clip" and up == "video":
        return [split_clip_key(partition)[0]]
    if own == "post" and up == "creator":
        return [split_post_key(partition)[0]]
    if own == "video" and up == "post":
        rows = store.warehouse.query_file("post_partitions_of_video", [partition])
        return [str(post_key(r["creator"], r["listed_on"])) for r in rows]
    return []


def parents_of(context: dg.AssetExecutionContext, store: OmnivaStore) -> list[Parent]:
    """The parent partitions of this materialization, each with the materialization of it in
    Dagster's event log (storage id, run, data version) that was current when this one ran."""
    try:
        deps = sorted(k.to_user_string() for k in context.assets_def.asset_deps[context.asset_key])
        instance = context.instance
    except (dg.DagsterError, KeyError, AttributeError):  # DagsterInvalidPropertyError is not public
        return []  # invoked outside a run (bench/e2e.py's plain loop)
    partition = str(context.partition_key) if context.has_partition_key else None
    out: list[Parent] = []
    for dep in deps:
        for key in parent_partitions(store, context.asset_key.to_user_string(), partition, dep):
            flt = dg.AssetRecordsFilter(
                asset_key=dg.AssetKey(dep), asset_partitions=[key] if key is not None else None
            )
            found = instance.fetch_materializations(flt, limit=1).records
            if not found:
                out.append(Parent(dep, key))
                continue
            rec = found[0]
            mat = rec.asset_materialization
            tags = (mat.tags if mat else None) or {}
            check_received(dep, key, mat.metadata if mat else {})
            out.append(Parent(dep, key, rec.storage_id, rec.run_id, tags.get("dagster/data_version")))
    return out


def record(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    lineage: Lineage,
    tables: Tables | None = None,
    partition: str | None = None,
) -> dict[str, Any]:
    """Write ``tables`` ({table: rows}) as this partition's rows (or ``partition``'s), then
    the Stardust packet with its parents; returns the packet and the parent partitions
    (``lineage/parents``) as Dagster metadata, with what this bookkeeping took
    (``omniva/bookkeeping_s``: part of the step's fixed cost, ``bench/step_cost.py``)."""
    started = time.perf_counter()
    with user_errors(context, store):  # a contract refused names its input; nothing is written
        parents = parents_of(context, store)
        emitted = emitted_contract(lineage, parents)
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
        parents=[p.stardust_id for p in parents],
    )
    store.record_stardust(row)
    return {
        **meta,
        "lineage/parents": dg.MetadataValue.json([p.as_dict() for p in parents]),
        **emitted,
        "omniva/bookkeeping_s": round(time.perf_counter() - started, 4),
    }


def emitted_contract(lineage: Lineage, parents: Sequence[Parent]) -> dict[str, Any]:
    """The contract this materialization emits, validated as a receiver would read it, as
    metadata (``contract/name``, ``contract/payload``); empty when the stage has none."""
    if lineage.contract is None:
        return {}
    made = lineage.contract(lineage.trace_id, [p.stardust_id for p in parents])
    models = made if isinstance(made, list) else [made]  # a stage may emit several messages
    if not models:
        return {}
    name = type(models[0]).__name__
    payloads = [contracts.dump(m) for m in models]
    for payload in payloads:
        contracts.validate(name, payload)
    payload_value = payloads if isinstance(made, list) else payloads[0]
    return {"contract/name": name, "contract/payload": dg.MetadataValue.json(payload_value)}


def check_received(parent: str, partition: str | None, metadata: Mapping[str, Any]) -> None:
    """Refuse a parent whose contract this code cannot read (an unknown major version)."""
    name, payload = metadata.get("contract/name"), metadata.get("contract/payload")
    if name is None or payload is None:
        return
    name = getattr(name, "value", name)
    payload = getattr(payload, "value", payload)
    try:
        for message in payload if isinstance(payload, list) else [payload]:
            contracts.validate(str(name), message)
    except contracts.ContractError as exc:
        raise contracts.ContractError(f"input {parent} [{partition}]: {exc}") from exc


def _run(context: dg.AssetExecutionContext) -> dg.DagsterRun | None:
    """The step's run; None when the asset is invoked directly (a test, a notebook)."""
    try:
        return context.run
    except dg.DagsterError:  # DagsterInvalidPropertyError: direct invocation has no run
        return None


def launched_by_daemon(context: dg.AssetExecutionContext) -> bool:
    """Whether this step runs in a run the daemon launched (a process of its own per run); False
    in the launcher's own process (``omniva run``) and when the asset is invoked directly."""
    run = _run(context)
    return run is not None and run.remote_job_origin is not None


def run_tag(context: dg.AssetExecutionContext, key: str) -> str:
    """One of the run's tags ("" when it has none, or when the asset is invoked directly)."""
    run = _run(context)
    return run.tags.get(key, "") if run is not None else ""


def engagement_of(store: OmnivaStore, video: Video) -> dict:
    """Views, likes and the most-replayed curve of the video's source (empty when none)."""
    try:
        raw = store.find_post(video.video_key).raw_metadata
    except dg.Failure:
        raw = {}
    return judgement.source_engagement(video.file_path, raw)


T = TypeVar("T")


@dataclass(frozen=True)
class Record(Generic[T]):
    """What an asset returns for the record IO manager (``omniva_assets.io_manager``): the
    value its children load, and what its bookkeeping writes -- the Stardust packet's
    ``lineage`` and the warehouse ``tables`` ({table: rows} of this partition)."""

    value: T
    lineage: Lineage
    tables: Tables | None = None

    def __reduce__(self) -> Any:
        # Stored by another IO manager (Definitions built without the record IO manager), the
        # record would be serialized whole, and its rows and packet never written: say so.
        raise TypeError(
            "an Omniva record is stored by the record IO manager; add "
            '"io_manager": omniva_assets.io_manager.record_io_manager() to the resources'
        )


def recorded(
    value: Any,
    lineage: Lineage,
    tables: Tables | None = None,
    metadata: Mapping[str, Any] | None = None,
    data_version: dg.DataVersion | None = None,
) -> dg.Output[Any]:
    """An asset's output: ``value`` with its lineage and rows, for the record IO manager, which
    writes the rows and the Stardust packet and adds their metadata to ``metadata``."""
    return dg.Output(Record(value, lineage, tables), metadata=dict(metadata or {}), data_version=data_version)


def settle(context: dg.AssetExecutionContext, store: OmnivaStore, obj: Any) -> tuple[Any, dict[str, Any]]:
    """(value to store, bookkeeping metadata) of an asset's output: a :class:`Record` has its
    rows and Stardust packet written (:func:`record`); any other value is kept as it is. The
    record IO manager calls this when it stores an output; an asset invoked directly, outside a
    run (``bench/e2e.py``'s plain loop, a test), has no IO manager: ``with_user_errors`` calls it."""
    if not isinstance(obj, Record):
        return obj, {}
    return obj.value, record(context, store, obj.lineage, obj.tables)


def _settled_if_direct(context: dg.AssetExecutionContext, store: OmnivaStore, item: Any) -> Any:
    """``item`` as the body yielded it; invoked directly (no run), a recorded output is settled
    here, while the context is still bound to the asset, and carries its plain value."""
    if not (isinstance(item, dg.Output) and isinstance(item.value, Record)) or _run(context) is not None:
        return item
    value, meta = settle(context, store, item.value)
    return dg.Output(
        value,
        output_name=item.output_name,
        metadata={**meta, **item.metadata},
        data_version=item.data_version,
        tags=item.tags,
    )


def with_user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The asset body under :func:`user_errors` (put it under ``@dg.asset``): a typed Omniva
    error anywhere in it fails the step with a clear message, written to the ``logs`` table.
    Invoked directly, outside a run, its record is settled here (``settle``): no IO manager."""

    def store_of(context: dg.AssetExecutionContext, kwargs: dict[str, Any]) -> OmnivaStore:
        store: OmnivaStore = kwargs["store"] if "store" in kwargs else context.resources.store  # noqa: SIM401
        return store

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def steps(context: dg.AssetExecutionContext, *args: Any, **kwargs: Any) -> Iterator[Any]:
            store = store_of(context, kwargs)
            with user_errors(context, store):
                for item in fn(context, *args, **kwargs):
                    yield _settled_if_direct(context, store, item)

        return steps

    @functools.wraps(fn)
    def step(context: dg.AssetExecutionContext, *args: Any, **kwargs: Any) -> Any:
        store = store_of(context, kwargs)
        with user_errors(context, store):
            return _settled_if_direct(context, store, fn(context, *args, **kwargs))

    return step


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
