"""Stardust: the fixed provenance keys every materialization carries.

One helper builds them; every asset calls it. The same packet goes into Dagster's
materialization metadata (the ledger the UI shows) and into the warehouse's
``stardust_metadata`` table (the ledger analysts query).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version

import dagster as dg

from omniva.records import stable_id


def trace_id_for(video_key: str) -> str:
    """Stable per source video: every stage of one video shares it."""
    return stable_id("trace", video_key)


@cache
def tool_versions() -> dict[str, str]:
    """Versions of the Python packages that do the work. Binaries (ffmpeg) are reported by
    the adapter that runs them, through ``packet(tools=...)``: this layer runs nothing."""
    out: dict[str, str] = {}
    for dist in (
        "dagster",
        "yt-dlp",
        "whisperx",
        "faster-whisper",
        "spacy",
        "duckdb",
        "google-api-python-client",
    ):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


def packet_id(asset_key: str, partition: str | None) -> str:
    """The id of the Stardust packet of ``asset_key``'s ``partition`` (its latest
    materialization): what ``_meta_parents`` lists."""
    return stable_id("stardust", asset_key, partition)


def run_id_of(context) -> str:
    """The Dagster run's id; "direct-invocation" when an asset function is called outside a
    run (``bench/e2e.py`` calls them from a plain loop to measure Dagster's overhead)."""
    try:
        return context.run.run_id
    except dg.DagsterError:
        return "direct-invocation"


def packet(
    context: dg.AssetExecutionContext,
    *,
    entity_type: str,
    entity_id: str,
    trace_id: str,
    source_url: str | None,
    creator: str | None,
    inputs: Mapping[str, str] | None = None,
    outputs: Mapping[str, str] | None = None,
    tools: Mapping[str, str] | None = None,
    params: Mapping[str, object] | None = None,
    decision: str | None = None,
    parents: list[str] | None = None,
) -> tuple[dict, dict]:
    """Return (dagster metadata, stardust_metadata row) for this materialization.

    ``parents``: the packet ids of the inputs it was made from (``_meta_parents``), so a walk
    over packets alone goes from an upload back to its source."""
    asset_key = context.asset_key.to_user_string()
    partition = context.partition_key if context.has_partition_key else None
    ins, outs, param_map = dict(inputs or {}), dict(outputs or {}), dict(params or {})
    all_tools = {**tool_versions(), **dict(tools or {})}
    lineage = {
        "trace_id": trace_id,
        "source_url": source_url,
        "creator": creator,
        "inputs": ins,
        "outputs": outs,
        "tools": all_tools,
        "params": param_map,
        "run_id": run_id_of(context),
        "partition": partition,
        "_meta_parents": list(parents or []),
    }
    metadata: dict[str, object] = {
        "stardust/trace_id": trace_id,
        "stardust/source_url": dg.MetadataValue.url(source_url) if source_url else "",
        "stardust/creator": creator or "",
        "stardust/inputs": dg.MetadataValue.json(ins),
        "stardust/outputs": dg.MetadataValue.json(outs),
        "stardust/tools": dg.MetadataValue.json(all_tools),
        "stardust/params": dg.MetadataValue.json(json.loads(json.dumps(param_map, default=str))),
        "stardust/id": packet_id(asset_key, partition),
        "stardust/parents": dg.MetadataValue.json(list(parents or [])),
    }
    if decision:
        metadata["stardust/decision"] = dg.MetadataValue.md(decision)
    row = {
        "stardust_id": packet_id(asset_key, partition),
        "entity_type": entity_type,
        "entity_id": entity_id,
        "asset_key": asset_key,
        "partition_key": partition,
        "trace_id": trace_id,
        "run_id": run_id_of(context),
        "lineage": lineage,
        "decision_chain": {"summary": decision} if decision else None,
        "created_at": now_iso(),
    }
    return metadata, row


def content_version(*parts: object) -> dg.DataVersion:
    """A data version from content: sha256 of the canonical JSON of ``parts``.

    Dataclass records are serialised field by field, so the same output gives the same
    version whatever run produced it, and downstream assets stay fresh.
    """

    def plain(o):
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return dataclasses.asdict(o)
        return str(o)

    blob = json.dumps(parts, default=plain, sort_keys=True).encode()
    return dg.DataVersion(hashlib.sha256(blob).hexdigest())


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
