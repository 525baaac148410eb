"""The code location loads and every asset follows the house rules."""

import dagster as dg

from omniva_assets.definitions import ASSETS, defs


def test_definitions_load_and_jobs_resolve():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {
        "posts",
        "videos",
        "transcripts",
        "analyses",
        "clip_candidates",
        "clip_selections",
        "clips",
        "renders",
        "clip_copy",
        "uploads",
        "publish_plan",
    } <= keys
    for job in ("posts_job", "video_job", "clip_job", "publish_plan_job", "upload_job"):
        assert defs.resolve_job_def(job)


def test_every_asset_has_docstring_group_kinds_and_code_version():
    for a in ASSETS:
        spec = next(iter(a.specs))
        assert spec.description, a.key
        assert spec.group_name != "default", a.key
        assert spec.kinds, a.key
        assert spec.code_version, a.key


def test_partitioning_matches_the_architecture():
    graph = defs.resolve_asset_graph()
    pdef = lambda name: graph.get(dg.AssetKey(name)).partitions_def  # noqa: E731
    assert isinstance(pdef("posts"), dg.MultiPartitionsDefinition)
    assert isinstance(pdef("videos"), dg.DynamicPartitionsDefinition)
    # Clip-level assets: only the clips Pantheon selected exist (dynamic, added by the selection)
    for clip_level in ("clips", "renders", "clip_copy", "uploads", "clip_explanations"):
        assert isinstance(pdef(clip_level), dg.DynamicPartitionsDefinition), clip_level
        assert pdef(clip_level).name == "clips"
    assert pdef("publish_plan") is None
