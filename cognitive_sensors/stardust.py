"""Stardust: the fixed provenance keys every materialization carries.

One helper builds them; every asset calls it. The same packet goes into Dagster's
materialization metadata (the ledger the UI shows) and into the warehouse's
``stardust_metadata`` table (the ledger analysts query).

This module is pure: it takes plain values (the asset key, the partition, the run's id) and
says what each metadata entry holds and how it should be shown (``MetaField``). Turning that
into Dagster's ``MetadataValue``s, from an asset's context, is ``omniva_assets.stardust_meta``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

from omniva.records import stable_id

#: How a metadata entry is shown: plain text, a link, JSON, Markdown.
MetaKind = Literal["text", "url", "json", "md"]

# The fixed keys, in the order Dagster's UI lists them.
TRACE_ID = "stardust/trace_id"
SOURCE_URL = "stardust/source_url"
CREATOR = "stardust/creator"
INPUTS = "stardust/inputs"
OUTPUTS = "stardust/outputs"
TOOLS = "stardust/tools"
PARAMS = "stardust/params"
ID = "stardust/id"
PARENTS = "stardust/parents"
DECISION = "stardust/decision"  # only when the stage made a decision


@dataclass(frozen=True, slots=True)
class MetaField:
    """One metadata entry: its value and how it is shown."""

    kind: MetaKind
    value: Any


@dataclass(frozen=True, slots=True)
class Packet:
    """A materialization's Stardust packet: the metadata entries and the warehouse row."""

    fields: dict[str, MetaField]
    row: dict[str, Any]


def trace_id_for(video_key: str) -> str:
    """Stable per source video: every stage of one video shares it."""
    return stable_id("trace", video_key)


@cache
def tool_versions() -> dict[str, str]:
    """Versions of the Python packages that do the work. Binaries (ffmpeg) are reported by
    the adapter that runs them, through ``build(tools=...)``: this layer runs nothing."""
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


def build(
    *,
    asset_key: str,
    partition: str | None,
    run_id: str,
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
    created_at: str | None = None,
) -> Packet:
    """The packet of ``asset_key``'s ``partition`` made by run ``run_id``.

    ``parents``: the packet ids of the inputs it was made from (``_meta_parents``), so a walk
    over packets alone goes from an upload back to its source. ``created_at``: now when None."""
    ins, outs, param_map = dict(inputs or {}), dict(outputs or {}), dict(params or {})
    all_tools = {**tool_versions(), **dict(tools or {})}
    parent_ids = list(parents or [])
    pid = packet_id(asset_key, partition)
    lineage = {
        "trace_id": trace_id,
        "source_url": source_url,
        "creator": creator,
        "inputs": ins,
        "outputs": outs,
        "tools": all_tools,
        "params": param_map,
        "run_id": run_id,
        "partition": partition,
        "_meta_parents": parent_ids,
    }
    fields = {
        TRACE_ID: MetaField("text", trace_id),
        SOURCE_URL: MetaField("url", source_url) if source_url else MetaField("text", ""),
        CREATOR: MetaField("text", creator or ""),
        INPUTS: MetaField("json", ins),
        OUTPUTS: MetaField("json", outs),
        TOOLS: MetaField("json", all_tools),
        PARAMS: MetaField("json", json.loads(json.dumps(param_map, default=str))),
        ID: MetaField("text", pid),
        PARENTS: MetaField("json", parent_ids),
    }
    if decision:
        fields[DECISION] = MetaField("md", decision)
    row = {
        "stardust_id": pid,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "asset_key": asset_key,
        "partition_key": partition,
        "trace_id": trace_id,
        "run_id": run_id,
        "lineage": lineage,
        "decision_chain": {"summary": decision} if decision else None,
        "created_at": created_at or now_iso(),
    }
    return Packet(fields, row)


def content_digest(*parts: object) -> str:
    """sha256 of the canonical JSON of ``parts``: a data version from content.

    Dataclass records are serialised field by field, so the same output gives the same
    digest whatever run produced it, and downstream assets stay fresh.
    """

    def plain(o: object) -> object:
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return dataclasses.asdict(o)
        return str(o)

    blob = json.dumps(parts, default=plain, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
