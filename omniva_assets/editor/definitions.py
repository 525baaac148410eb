"""The Editor's definitions: edit decision lists, renders and copy, per selected clip."""

from __future__ import annotations

import dagster as dg

from omniva_assets.editor.assets import clip_copy, clips, renders
from omniva_assets.editor.jobs import clip_job
from omniva_assets.editor.sensors import clip_sensor
from omniva_resources.resources import RenderSettings


def render_code_version(render: RenderSettings) -> str:
    """The renders' code version carries the render settings, so changing one marks renders (and
    uploads, whose version carries this one) unsynced while everything upstream stays fresh."""
    return f"{renders.specs_by_key[renders.key].code_version}-{render.code_fingerprint()}"


def with_code_version(asset: dg.AssetsDefinition, version: str) -> dg.AssetsDefinition:
    return asset.map_asset_specs(lambda spec: spec.replace_attributes(code_version=version))


def definitions(render: RenderSettings) -> dg.Definitions:
    return dg.Definitions(
        assets=[clips, with_code_version(renders, render_code_version(render)), clip_copy],
        jobs=[clip_job],
        sensors=[clip_sensor],
    )
