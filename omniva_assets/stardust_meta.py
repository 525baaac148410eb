"""Stardust packets as Dagster metadata, read from an asset's context.

``cognitive_sensors.stardust`` builds the packet from plain values and stays free of Dagster;
this module supplies those values from the ``AssetExecutionContext`` (asset key, partition,
run id) and turns the packet's entries into ``dg.MetadataValue``s. The pure helpers assets
also use (``trace_id_for``, ``packet_id``, ``now_iso``, ``tool_versions``) are re-exported, so
an asset module needs this one import (``from omniva_assets import stardust_meta as stardust``).
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from cognitive_sensors import stardust as _stardust
from cognitive_sensors.stardust import MetaField, now_iso, packet_id, tool_versions, trace_id_for

__all__ = [
    "content_version",
    "metadata_value",
    "now_iso",
    "packet",
    "packet_id",
    "run_id_of",
    "tool_versions",
    "trace_id_for",
]


def run_id_of(context: dg.AssetExecutionContext) -> str:
    """The Dagster run's id; "direct-invocation" when an asset function is called outside a
    run (``bench/e2e.py`` calls them from a plain loop to measure Dagster's overhead)."""
    try:
        return context.run.run_id
    except dg.DagsterError:
        return "direct-invocation"


def metadata_value(field: MetaField) -> Any:
    """A packet entry as Dagster shows it: text stays a plain string."""
    if field.kind == "url":
        return dg.MetadataValue.url(field.value)
    if field.kind == "json":
        return dg.MetadataValue.json(field.value)
    if field.kind == "md":
        return dg.MetadataValue.md(field.value)
    return field.value


def packet(context: dg.AssetExecutionContext, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (dagster metadata, stardust_metadata row) for this materialization: the packet
    ``cognitive_sensors.stardust.build`` makes from ``fields`` (entity, trace, source, inputs,
    outputs, tools, params, decision, ``parents``: the packet ids of its inputs) for this step's
    asset, partition and run."""
    built = _stardust.build(
        asset_key=context.asset_key.to_user_string(),
        partition=context.partition_key if context.has_partition_key else None,
        run_id=run_id_of(context),
        **fields,
    )
    return {key: metadata_value(f) for key, f in built.fields.items()}, built.row


def content_version(*parts: object) -> dg.DataVersion:
    """A data version from content (``cognitive_sensors.stardust.content_digest``): the same
    output gives the same version whatever run produced it, so downstream assets stay fresh."""
    return dg.DataVersion(_stardust.content_digest(*parts))
