"""The Uploader's definitions: uploads, their version carrying the renders'."""

from __future__ import annotations

import dagster as dg

from omniva_assets.editor.definitions import render_code_version, with_code_version
from omniva_assets.uploader.assets import uploads
from omniva_assets.uploader.jobs import upload_job
from omniva_assets.uploader.sensors import upload_sensor
from omniva_resources.resources import RenderSettings


def definitions(render: RenderSettings) -> dg.Definitions:
    version = f"{uploads.specs_by_key[uploads.key].code_version}-{render_code_version(render)}"
    return dg.Definitions(
        assets=[with_code_version(uploads, version)], jobs=[upload_job], sensors=[upload_sensor]
    )
