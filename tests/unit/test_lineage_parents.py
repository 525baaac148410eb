"""Each materialization's parents (lineage/parents, _meta_parents) and the contracts at the
boundary between stages."""

import dagster as dg
import pytest

from cognitive_sensors import stardust
from omniva import contracts
from omniva.records import Creator
from omniva_assets.common import LEVEL, Lineage, Parent, check_received, emitted_contract, parent_partitions
from omniva_assets.definitions import defs
from omniva_assets.partitions import clip_key, split_clip_key, split_post_key


def test_levels_match_the_definitions_partitions():
    # Loading a repository reads the current instance's definitions state: a live one, not the
    # one an earlier test closed (Dagster keeps a weak reference to the last instance made).
    with dg.instance_for_test():
        graph = defs.resolve_asset_graph()
    names = {"creators": "creator", "videos": "video", "clips": "clip"}
    for asset, level in LEVEL.items():
        pdef = graph.get(dg.AssetKey(asset)).partitions_def
        if level is None:
            assert pdef is None, asset
        elif level == "post":
            assert isinstance(pdef, dg.MultiPartitionsDefinition), asset
        else:
            assert isinstance(pdef, dg.DynamicPartitionsDefinition) and names[pdef.name] == level, asset
    assert set(LEVEL) == {k.to_user_string() for k in graph.get_all_asset_keys()}


def test_parent_partitions_follow_the_keys():
    clip = clip_key("alice-v1", 2)
    assert clip == "2|alice-v1" and split_clip_key(clip) == ("alice-v1", 2)
    assert parent_partitions(None, "renders", clip, "clips") == [clip]
    assert parent_partitions(None, "clips", clip, "clip_selections") == ["alice-v1"]
    assert parent_partitions(None, "uploads", clip, "publish_plan") == [None]
    assert parent_partitions(None, "transcripts", "alice-v1", "videos") == ["alice-v1"]
    assert parent_partitions(None, "posts", "alice|2025-06-02", "creators") == ["alice"]
    assert split_post_key("my|creator|2025-06-02") == ("my|creator", "2025-06-02")
    assert parent_partitions(None, "publish_plan", None, "renders") == []
    with pytest.raises(ValueError, match="RANK"):
        split_clip_key("alice-v1")


def test_parents_are_packet_ids():
    p = Parent("videos", "alice-v1", 7, "run-1", "abc")
    assert p.stardust_id == stardust.packet_id("videos", "alice-v1")
    assert p.as_dict()["stardust_id"] == p.stardust_id and p.as_dict()["storage_id"] == 7


ALICE = Creator("alice", "https://example.org/feed.xml", "rss")


def _posts_lineage(*days: str) -> Lineage:
    """alice's posts lineage emitting a ScraperJob for one day, or a list of them for several."""

    def contract(trace, parents):
        jobs = [contracts.scraper_job(ALICE, day, trace, parents) for day in days]
        return jobs[0] if len(days) == 1 else jobs

    return Lineage("posts", "id", stardust.trace_id_for("alice"), contract=contract)


def test_the_emitted_contract_carries_the_parents_and_is_validated():
    lineage = _posts_lineage("2025-06-02")
    parents = [Parent("creators", "alice")]
    meta = emitted_contract(lineage, parents)
    assert meta["contract/name"] == "ScraperJob"
    payload = meta["contract/payload"].value
    assert payload["_meta_parents"] == [stardust.packet_id("creators", "alice")]
    assert payload["schema_version"] == "1.0.0"
    check_received("posts", "alice|2025-06-02", meta)  # what it emits, a receiver reads


def test_a_received_contract_of_an_unknown_major_version_is_refused_naming_the_input():
    creator = Creator("alice", "https://example.org/feed.xml", "rss")
    payload = contracts.dump(contracts.scraper_job(creator, "2025-06-02", stardust.trace_id_for("a")))
    check_received("posts", "alice|2025-06-02", {"contract/name": "ScraperJob", "contract/payload": payload})
    newer = {**payload, "schema_version": "2.0.0"}
    with pytest.raises(contracts.ContractError, match=r"input posts \[alice\|2025-06-02\].*2\.0\.0"):
        check_received(
            "posts", "alice|2025-06-02", {"contract/name": "ScraperJob", "contract/payload": newer}
        )


def test_the_publish_plan_sensor_queues_one_plan_at_a_time(tmp_path):
    from omniva_assets.scheduler.sensors import publish_plan_sensor

    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization("renders", partition="1|v"))
        first = publish_plan_sensor(dg.build_sensor_context(instance=instance, cursor="0"))
        assert len(first.run_requests) == 1
        queued = instance.create_run_for_job(
            defs.resolve_job_def("publish_plan_job"), status=dg.DagsterRunStatus.NOT_STARTED
        )
        instance.report_runless_asset_event(dg.AssetMaterialization("renders", partition="2|v"))
        held = publish_plan_sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
        assert isinstance(held, dg.SkipReason) and queued.run_id in held.skip_message
        instance.report_run_canceled(queued)
        again = publish_plan_sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
        assert len(again.run_requests) == 1


def test_a_stage_may_emit_several_messages_each_validated():
    lineage = _posts_lineage("2025-06-02", "2025-06-03")
    meta = emitted_contract(lineage, [Parent("creators", "alice")])
    assert meta["contract/name"] == "ScraperJob" and len(meta["contract/payload"].value) == 2
    check_received("posts", "alice|2025-06-02", meta)
    newer = [{**m, "schema_version": "3.1.0"} for m in meta["contract/payload"].value]
    with pytest.raises(contracts.ContractError, match="3.1.0"):
        check_received("posts", "p", {"contract/name": "ScraperJob", "contract/payload": newer})
    assert emitted_contract(Lineage("x", "y", "z", contract=lambda t, p: []), []) == {}
