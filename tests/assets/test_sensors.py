"""Sensors and the schedule, evaluated against a real (ephemeral) instance."""

from datetime import UTC, datetime

import dagster as dg

from omniva.settings import Layout
from omniva_assets.partitions import creators_partitions
from omniva_assets.policy import LaunchPolicy
from omniva_assets.scraper.sensors import creator_sensor, daily_posts_schedule
from omniva_resources import creators
from omniva_resources.resources import OmnivaStore, resources_from_env


def test_creator_sensor_registers_new_creators_once(tmp_path):
    creators.add(Layout(tmp_path), "alice", "https://www.youtube.com/@alice")
    store = OmnivaStore(home=str(tmp_path))
    with dg.instance_for_test() as instance:
        result = creator_sensor(dg.build_sensor_context(instance=instance), store=store)
        assert [r.partition_key for r in result.run_requests] == ["alice"]
        (req,) = result.dynamic_partitions_requests
        assert req.partitions_def_name == "creators" and list(req.partition_keys) == ["alice"]
        # What the daemon does with the request; then the sensor has nothing new.
        instance.add_dynamic_partitions(creators_partitions.name, ["alice"])
        again = creator_sensor(dg.build_sensor_context(instance=instance), store=store)
        assert isinstance(again, dg.SkipReason)


def test_removed_creator_gets_no_daily_run(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNIVA_HOME", str(tmp_path))
    lay = Layout(tmp_path)
    creators.add(lay, "alice", "https://example.org/feed.xml")
    creators.add(lay, "bob", "https://example.org/bob.xml")
    creators.remove(lay, "bob")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(creators_partitions.name, ["alice", "bob"])
        # left open, the context leaves Dagster's current defs-state storage on this test's
        # instance, and the next dg.materialize in the process fails on the disposed instance
        with dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime(2025, 6, 3, 6, 0, tzinfo=UTC),
            resources={"store": OmnivaStore(home=str(tmp_path))},
        ) as ctx:
            requests = daily_posts_schedule(ctx)
        keys = [str(r.partition_key) for r in requests]
        assert len(keys) == 1 and keys[0] == "alice|2025-06-02"


def test_zenith_gate_on_the_instance_skips_quarantined_and_records_why(tmp_path):
    store = OmnivaStore(home=str(tmp_path))
    store.quarantine("videos", "v2", "bad_input", "not a readable media file", 3)
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization("clip_selections", partition="v3"))
        plan = LaunchPolicy.of(instance, {**resources_from_env(), "store": store}).plan(
            "video", ["v1", "v2", "v3"], "test"
        )
    assert plan.crisis is None  # no runs, no crisis
    assert [la.partition_key for la in plan.launches] == ["v1"]
    assert [(d.partition_key, d.action) for d in plan.decisions] == [
        ("v1", "request"),
        ("v2", "skip"),
        ("v3", "skip"),
    ]
    rows = store.warehouse.query("SELECT partition_key, action, reason FROM zenith_decisions ORDER BY 1")
    assert [(r["partition_key"], r["action"]) for r in rows] == [
        ("v1", "request"),
        ("v2", "skip"),
        ("v3", "skip"),
    ]
