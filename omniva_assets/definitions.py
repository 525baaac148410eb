"""The one Definitions entry point of the Omniva code location.

The definitions depend on settings (the resources, the executor, and the render settings that
are part of the renders' and uploads' code versions), so they are built when first asked for,
not when this module is imported: Dagster calls ``build_defs`` (``@dg.definitions``), and
``defs`` and ``ASSETS`` are built on first use for code that imports them.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import dagster as dg

from omniva_assets.analyzer.assets import analyses, clip_candidates, clip_selections, transcripts
from omniva_assets.deployment import executor_from_env
from omniva_assets.eclipse import eclipse_sensor
from omniva_assets.editor.assets import clip_copy, clips, renders
from omniva_assets.insights.assets import clip_explanations, horizon_progress
from omniva_assets.jobs import ALL_JOBS
from omniva_assets.scheduler.assets import publish_plan
from omniva_assets.scraper.assets import creators, posts, videos
from omniva_assets.sensors import ALL_SENSORS, daily_posts_schedule, lineage_sync_sensor
from omniva_assets.uploader.assets import uploads
from omniva_resources.resources import RenderSettings, resources_from_env

if TYPE_CHECKING:  # built on first use (module __getattr__ below)
    defs: dg.Definitions
    ASSETS: list[dg.AssetsDefinition]


def _with_code_version(asset: dg.AssetsDefinition, version: str) -> dg.AssetsDefinition:
    return asset.map_asset_specs(lambda spec: spec.replace_attributes(code_version=version))


def assets_for(render: RenderSettings) -> list[dg.AssetsDefinition]:
    """Every asset, the renders' code version carrying the render settings (and the uploads'
    carrying the renders'), so changing one marks renders and uploads unsynced while
    transcripts and everything else upstream stay fresh."""
    render_version = f"{renders.specs_by_key[renders.key].code_version}-{render.code_fingerprint()}"
    upload_version = f"{uploads.specs_by_key[uploads.key].code_version}-{render_version}"
    return [
        creators,
        posts,
        videos,
        transcripts,
        analyses,
        clip_candidates,
        clip_selections,
        clips,
        _with_code_version(renders, render_version),
        clip_copy,
        publish_plan,
        _with_code_version(uploads, upload_version),
        clip_explanations,
        horizon_progress,
    ]


@cache
def _defs() -> dg.Definitions:
    resources = resources_from_env()
    return dg.Definitions(
        assets=assets_for(resources["render"]),
        jobs=ALL_JOBS,
        sensors=[*ALL_SENSORS, lineage_sync_sensor, eclipse_sensor],
        schedules=[daily_posts_schedule],
        resources=dict(resources),
        executor=executor_from_env(),  # OMNIVA_EXECUTOR (docs/deployment.md); unset: in the run's process
    )


@dg.definitions
def build_defs() -> dg.Definitions:
    """What ``dagster dev``, ``dagster definitions validate`` and the run workers load."""
    return _defs()


def __getattr__(name: str) -> object:
    if name == "defs":
        return _defs()
    if name == "ASSETS":
        return list(_defs().assets or [])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
