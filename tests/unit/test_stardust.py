"""Stardust's packet: built from plain values in the pure layer, shown as Dagster metadata by
``omniva_assets.stardust_meta`` (#25)."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import dagster as dg

from cognitive_sensors import stardust
from omniva_assets import stardust_meta


def _build(**extra):
    return stardust.build(
        asset_key="renders",
        partition="alice-v1|1",
        run_id="run-1",
        entity_type="render",
        entity_id="r1",
        trace_id=stardust.trace_id_for("alice-v1"),
        source_url="https://example.org/v",
        creator="alice",
        inputs={"clip": "c1"},
        params={"crf": 20},
        parents=[stardust.packet_id("clips", "alice-v1|1")],
        created_at="2025-06-02T00:00:00Z",
        **extra,
    )


def test_the_packet_is_built_from_plain_values():
    built = _build(decision="kept: loud enough")
    row = built.row
    assert row["stardust_id"] == stardust.packet_id("renders", "alice-v1|1")
    assert row["run_id"] == row["lineage"]["run_id"] == "run-1"
    assert row["lineage"]["_meta_parents"] == [stardust.packet_id("clips", "alice-v1|1")]
    assert row["decision_chain"] == {"summary": "kept: loud enough"}
    assert row["created_at"] == "2025-06-02T00:00:00Z"
    assert list(built.fields) == [
        stardust.TRACE_ID,
        stardust.SOURCE_URL,
        stardust.CREATOR,
        stardust.INPUTS,
        stardust.OUTPUTS,
        stardust.TOOLS,
        stardust.PARAMS,
        stardust.ID,
        stardust.PARENTS,
        stardust.DECISION,
    ]
    assert built.fields[stardust.SOURCE_URL].kind == "url"
    assert built.fields[stardust.ID].value == row["stardust_id"]
    assert "dagster" in built.fields[stardust.TOOLS].value  # the package versions


def test_no_source_url_is_empty_text_and_no_decision_no_entry():
    built = stardust.build(
        asset_key="creators",
        partition=None,
        run_id="r",
        entity_type="creator",
        entity_id="alice",
        trace_id="t",
        source_url=None,
        creator=None,
    )
    assert built.fields[stardust.SOURCE_URL] == stardust.MetaField("text", "")
    assert stardust.DECISION not in built.fields and built.row["decision_chain"] is None


@dataclass(frozen=True)
class _Rec:
    name: str
    n: int


def test_content_digest_is_the_same_for_the_same_content():
    assert stardust.content_digest(_Rec("a", 1)) == stardust.content_digest(_Rec("a", 1))
    assert stardust.content_digest(_Rec("a", 1)) != stardust.content_digest(_Rec("a", 2))
    version = stardust_meta.content_version(_Rec("a", 1))
    assert isinstance(version, dg.DataVersion) and version.value == stardust.content_digest(_Rec("a", 1))


def test_the_meta_packet_reads_the_context_and_makes_dagster_metadata():
    context = SimpleNamespace(
        asset_key=dg.AssetKey("renders"),
        partition_key="alice-v1|1",
        has_partition_key=True,
        run=SimpleNamespace(run_id="run-9"),
    )
    meta, row = stardust_meta.packet(
        context,
        entity_type="render",
        entity_id="r1",
        trace_id="t",
        source_url="https://example.org/v",
        creator="alice",
        decision="why",
    )
    assert row["run_id"] == "run-9" and row["partition_key"] == "alice-v1|1"
    assert row["asset_key"] == "renders"
    assert isinstance(meta[stardust.SOURCE_URL], dg.UrlMetadataValue)
    assert isinstance(meta[stardust.INPUTS], dg.JsonMetadataValue)
    assert isinstance(meta[stardust.DECISION], dg.MarkdownMetadataValue)
    assert meta[stardust.TRACE_ID] == "t" and meta[stardust.ID] == row["stardust_id"]


def test_outside_a_run_the_run_id_says_so():
    class NoRun:
        @property
        def run(self):
            raise dg.DagsterInvalidInvocationError("no run")

    assert stardust_meta.run_id_of(NoRun()) == "direct-invocation"
