"""The record IO manager: records stored where Dagster's filesystem IO manager keeps them, a clip's
video-level inputs loaded from its video's partition, and each record's bookkeeping (rows,
Stardust packet, lineage) written on output."""

import pickle
from pathlib import Path

import dagster as dg
import pytest

from omniva.errors import DeadLinkError
from omniva.records import stable_id
from omniva.settings import Layout
from omniva_assets.common import Lineage, recorded, with_user_errors
from omniva_assets.io_manager import record_io_manager
from omniva_assets.partitions import RECORDED_IN_METADATA, clip_partitions, videos_partitions
from omniva_assets.scraper.assets import creators
from omniva_resources import creators as creator_registry
from omniva_resources.resources import OmnivaStore

VIDEO = "alice-3f2a9c1b"


@dg.asset(name="videos", partitions_def=videos_partitions)
@with_user_errors
def videos_stub(context: dg.AssetExecutionContext, store: OmnivaStore) -> dg.Output:
    if context.partition_key.startswith("dead-"):
        raise DeadLinkError(f"{context.partition_key}: the source answered 404")
    value = {"video_key": context.partition_key, "sha256": "abc"}
    key = context.partition_key
    lineage = Lineage("videos", stable_id("video", key), stable_id("trace", key), creator="alice")
    return recorded(value, lineage, None, {"sha256": "abc"}, dg.DataVersion("abc"))


@dg.asset(
    name="clips",
    partitions_def=clip_partitions,
    ins={"videos": dg.AssetIn("videos", partition_mapping=RECORDED_IN_METADATA)},
)
@with_user_errors
def clips_stub(context: dg.AssetExecutionContext, store: OmnivaStore, videos: dict) -> dg.Output:
    lineage = Lineage(
        "clips", stable_id("clip", context.partition_key), stable_id("trace", videos["video_key"])
    )
    return recorded(f"edit of {videos['video_key']}", lineage, None, {"from": videos["video_key"]})


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def instance(tmp_path: Path):
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as inst:
        inst.add_dynamic_partitions("videos", [VIDEO, "alice-old", "alice-missing", "dead-1"])
        inst.add_dynamic_partitions("clips", [f"1|{VIDEO}", "1|alice-old", "1|alice-missing"])
        yield inst


def run(assets, key, instance, home, io_manager=None):
    return dg.materialize(
        assets,
        partition_key=key,
        instance=instance,
        resources={"store": OmnivaStore(home=str(home)), "io_manager": io_manager or record_io_manager()},
        selection=[assets[-1]],
        raise_on_error=False,
    )


def stored(instance, asset: str, partition: str):
    return pickle.loads((Path(instance.storage_directory()) / asset / partition).read_bytes())


def metadata(instance, asset: str, partition: str) -> dict:
    found = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=1
    ).records
    return {k: getattr(v, "value", v) for k, v in found[0].asset_materialization.metadata.items()}


def test_the_value_is_stored_as_dagsters_filesystem_io_manager_stores_it(instance, home):
    assert run([videos_stub], VIDEO, instance, home).success
    path = Path(instance.storage_directory()) / "videos" / VIDEO
    assert pickle.loads(path.read_bytes()) == {"video_key": VIDEO, "sha256": "abc"}  # the value alone
    meta = metadata(instance, "videos", VIDEO)
    assert meta["sha256"] == "abc" and meta["path"] == str(path)
    assert meta["stardust/trace_id"] == stable_id("trace", VIDEO) and "stardust/id" in meta
    assert meta["lineage/parents"] == [] and "omniva/bookkeeping_s" in meta
    # The packet is in the warehouse, and the data version is the asset's.
    rows = OmnivaStore(home=str(home)).warehouse.query(
        "SELECT asset_key, partition_key FROM stardust_metadata"
    )
    assert [(r["asset_key"], r["partition_key"]) for r in rows] == [("videos", VIDEO)]
    (rec,) = instance.fetch_materializations(dg.AssetKey("videos"), limit=1).records
    assert rec.asset_materialization.tags["dagster/data_version"] == "abc"


def test_a_clip_reads_its_videos_value_and_records_that_partition_as_its_parent(instance, home):
    assert run([videos_stub], VIDEO, instance, home).success
    result = run([videos_stub, clips_stub], f"1|{VIDEO}", instance, home)
    assert result.success
    assert stored(instance, "clips", f"1|{VIDEO}") == f"edit of {VIDEO}"
    meta = metadata(instance, "clips", f"1|{VIDEO}")
    assert meta["from"] == VIDEO
    (parent,) = meta["lineage/parents"]
    video_mat = instance.fetch_materializations(dg.AssetKey("videos"), limit=1).records[0]
    assert (parent["asset"], parent["partition"], parent["storage_id"]) == (
        "videos",
        VIDEO,
        video_mat.storage_id,
    )
    assert parent["data_version"] == "abc"


def test_a_value_stored_before_the_record_io_manager_still_loads(instance, home):
    """A demo home made with Dagster's default IO manager: same paths, same pickles."""
    default = dg.FilesystemIOManager()

    @dg.asset(name="videos", partitions_def=videos_partitions)
    def plain_videos(context: dg.AssetExecutionContext) -> dict:
        return {"video_key": context.partition_key}

    assert run([plain_videos], "alice-old", instance, home, default).success
    result = run([videos_stub, clips_stub], "1|alice-old", instance, home)
    assert result.success and stored(instance, "clips", "1|alice-old") == "edit of alice-old"


def test_a_missing_video_fails_the_clip_with_what_to_run(instance, home):
    result = run([videos_stub, clips_stub], "1|alice-missing", instance, home)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure).step_failure_data.error
    assert "videos [alice-missing] has not been materialized" in failure.message
    assert "video_job" in failure.message


def test_a_typed_error_anywhere_in_the_body_fails_clearly_and_is_logged(instance, home):
    result = run([videos_stub], "dead-1", instance, home)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure).step_failure_data
    assert "videos [dead-1]: dead-1: the source answered 404" in failure.error.message
    assert failure.user_failure_data.metadata["error"].value == "DeadLinkError"
    logs = OmnivaStore(home=str(home)).warehouse.query("SELECT source, level, message FROM logs")
    assert [(r["source"], r["level"]) for r in logs] == [("videos", "ERROR")]
    assert not (Path(instance.storage_directory()) / "videos" / "dead-1").exists()


def test_a_real_asset_without_a_value_writes_its_rows_and_packet_only(instance, home):
    creator_registry.add(Layout(home), "alice", "https://www.youtube.com/@alice")
    instance.add_dynamic_partitions("creators", ["alice"])
    assert run([creators], "alice", instance, home).success
    meta = metadata(instance, "creators", "alice")
    assert meta["platform"] and meta["stardust/creator"] == "alice" and "contract/name" not in meta
    wh = OmnivaStore(home=str(home)).warehouse
    assert [r["username"] for r in wh.query("SELECT username FROM creators")] == ["alice"]
    assert wh.query("SELECT count(*) AS n FROM stardust_metadata")[0]["n"] == 1
    assert not (Path(instance.storage_directory()) / "creators").exists()


def test_invoked_directly_the_body_settles_its_own_record(home):
    """bench/e2e.py's plain loop: no run, so no IO manager; the value comes back plain, with the
    metadata and rows the IO manager would have written."""
    store = OmnivaStore(home=str(home))
    with dg.instance_for_test() as inst:
        inst.add_dynamic_partitions("videos", [VIDEO, "dead-2"])
        with dg.build_asset_context(partition_key=VIDEO, resources={"store": store}, instance=inst) as ctx:
            out = videos_stub(ctx)
        assert out.value == {"video_key": VIDEO, "sha256": "abc"} and out.data_version == dg.DataVersion(
            "abc"
        )
        assert out.metadata["lineage/parents"].value == [] and out.metadata["sha256"].value == "abc"
        assert (
            store.warehouse.query("SELECT run_id FROM stardust_metadata")[0]["run_id"] == "direct-invocation"
        )
        dead = dg.build_asset_context(partition_key="dead-2", resources={"store": store}, instance=inst)
        with dead as ctx, pytest.raises(dg.Failure, match=r"videos \[dead-2\]"):
            videos_stub(ctx)


def test_without_the_record_io_manager_the_step_says_what_is_missing(instance, home):
    result = run([videos_stub], VIDEO, instance, home, dg.FilesystemIOManager())
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure).step_failure_data.error
    assert "record_io_manager()" in str(failure)
