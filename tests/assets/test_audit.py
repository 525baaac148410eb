"""The audit trail appends: no event or decision replaces another (real warehouse, temp folder)."""

import json

import dagster as dg

from omniva_assets.policy import LaunchPolicy
from omniva_resources.resources import OmnivaStore, resources_from_env


def test_zenith_keeps_every_stage_decision_on_one_partition(tmp_path):
    """The demo's clip runs and their uploads gate the same partition: both stages stay."""
    store = OmnivaStore(home=str(tmp_path))
    with dg.instance_for_test() as instance:
        # Pantheon selected rank 1 of v1 (Zenith refuses a clip it did not select).
        instance.report_runless_asset_event(
            dg.AssetMaterialization("clip_selections", partition="v1", metadata={"ranks": [1]})
        )
        policy = LaunchPolicy.of(instance, {**resources_from_env(), "store": store})
        for stage in ("clip", "upload"):
            policy.plan(stage, ["1|v1"], "omniva-cli")
        # A sensor deciding the same thing every tick is still one decision.
        policy.plan("upload", ["1|v1"], "omniva-cli")
        # The API's gate: each job's decision is its own.
        for job in ("job-1", "job-2"):
            policy.plan("clip", ["1|v1"], "omniva-api", again=True, record_tags={"api_job": job})
    rows = store.warehouse.query(
        "SELECT source, stage, partition_key, action, tags FROM zenith_decisions ORDER BY 1, 2, 5"
    )
    assert [(r["source"], r["stage"], r["action"]) for r in rows] == [
        ("omniva-api", "clip", "request"),
        ("omniva-api", "clip", "request"),
        ("omniva-cli", "clip", "request"),
        ("omniva-cli", "upload", "request"),
    ]
    assert {json.loads(r["tags"]).get("api_job") for r in rows} == {"job-1", "job-2", None}


def test_two_keys_doing_the_same_thing_leave_two_audit_lines(tmp_path):
    store = OmnivaStore(home=str(tmp_path))
    for key_id in ("aaaaaaaaaaaa", "bbbbbbbbbbbb", "bbbbbbbbbbbb"):
        store.log(
            "api", "INFO", "project proj_a stopping (api)", key_id=key_id, path="/v1/projects/proj_a/stop"
        )
    rows = store.warehouse.query("SELECT log_id, metadata FROM logs ORDER BY created_at")
    assert len({r["log_id"] for r in rows}) == 3
    assert sorted(json.loads(r["metadata"])["key_id"] for r in rows) == [
        "aaaaaaaaaaaa",
        "bbbbbbbbbbbb",
        "bbbbbbbbbbbb",
    ]


def test_a_run_reporting_the_same_failure_again_is_one_line(tmp_path):
    """A retried step failing the same way in the same run is the same event; another run is not."""
    store = OmnivaStore(home=str(tmp_path))
    for run_id in ("run-1", "run-1", "run-2"):
        store.log("videos", "ERROR", "the link is dead", partition="p", run_id=run_id)
    rows = store.warehouse.query("SELECT metadata FROM logs")
    assert sorted(json.loads(r["metadata"])["run_id"] for r in rows) == ["run-1", "run-2"]
