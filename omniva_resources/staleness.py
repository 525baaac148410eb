"""Which materialized partitions Dagster considers stale (code or upstream data changed).

Dagster computes this for the UI ("Unsynced"); the resolver it uses is not public API, so it
comes through ``dagster_internals`` and is wrapped here, in one place, for the CLI's
``--refresh-stale`` and the tests.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from omniva_resources.dagster_internals import CachingStaleStatusResolver, LoadingContextForTest, StaleStatus


def stale_partitions(
    instance: dg.DagsterInstance, defs: dg.Definitions, asset: str, partitions: Iterable[str]
) -> dict[str, list[str]]:
    """{partition: [reasons]} for the given partitions of ``asset`` that are stale."""
    resolver = CachingStaleStatusResolver(
        instance, defs.resolve_asset_graph(), LoadingContextForTest(instance)
    )
    key = dg.AssetKey(asset)
    out = {}
    for p in partitions:
        if resolver.get_status(key, p) == StaleStatus.STALE:
            out[p] = [
                f"{c.key.asset_key.to_user_string()}: {c.reason}" for c in resolver.get_stale_causes(key, p)
            ]
    return out
