"""What a step reads of its run works in a run and when an asset is invoked directly (a test, a
notebook, bench/e2e.py's plain loop), where Dagster has no run to give."""

import dagster as dg

from omniva_assets.common import launched_by_daemon, run_tag


def test_a_directly_invoked_asset_has_no_run_and_no_tags():
    context = dg.build_asset_context()
    assert launched_by_daemon(context) is False
    assert run_tag(context, "omniva/ffmpeg_threads") == ""


def test_in_a_run_the_tags_are_read_and_the_launcher_is_this_process():
    seen = {}

    @dg.asset
    def probe(context: dg.AssetExecutionContext) -> None:
        seen["daemon"] = launched_by_daemon(context)
        seen["threads"] = run_tag(context, "omniva/ffmpeg_threads")
        seen["missing"] = run_tag(context, "omniva/nothing")

    assert dg.materialize([probe], tags={"omniva/ffmpeg_threads": "3"}).success
    assert seen == {"daemon": False, "threads": "3", "missing": ""}
