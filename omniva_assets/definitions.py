"""The one Definitions entry point of the Omniva code location: the domains' definitions merged.

Each worker folder (``scraper``, ``analyzer``, ``editor``, ``scheduler``, ``uploader``, ``insights``)
owns its assets, checks, jobs, sensors and schedules and builds its own ``Definitions``; this module
merges them with what is shared: the resources, Eclipse's run-failure sensor and the executor.

The definitions depend on settings (the resources, the executor, and the render settings that
are part of the renders' and uploads' code versions), so they are built when first asked for,
not when this module is imported: Dagster calls ``build_defs`` (``@dg.definitions``), and
``defs`` and ``ASSETS`` are built on first use for code that imports them.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import dagster as dg

from omniva_assets.analyzer import definitions as analyzer
from omniva_assets.deployment import executor_from_env
from omniva_assets.eclipse import eclipse_sensor
from omniva_assets.editor import definitions as editor
from omniva_assets.insights import definitions as insights
from omniva_assets.io_manager import record_io_manager
from omniva_assets.scheduler import definitions as scheduler
from omniva_assets.scraper import definitions as scraper
from omniva_assets.uploader import definitions as uploader
from omniva_resources.resources import RenderSettings, resources_from_env

if TYPE_CHECKING:  # built on first use (module __getattr__ below)
    defs: dg.Definitions
    ASSETS: list[dg.AssetsDefinition]

# The chain's order: what is listed, understood, edited, planned, published and explained.
DOMAINS = (scraper, analyzer, editor, scheduler, uploader, insights)


def domain_definitions(render: RenderSettings) -> list[dg.Definitions]:
    return [d.definitions(render) for d in DOMAINS]


def assets_for(render: RenderSettings) -> list[dg.AssetsDefinition]:
    """Every asset, the renders' and uploads' code versions carrying ``render``."""
    return [
        a for d in domain_definitions(render) for a in (d.assets or []) if isinstance(a, dg.AssetsDefinition)
    ]


@cache
def _defs() -> dg.Definitions:
    resources = resources_from_env()
    return dg.Definitions.merge(
        *domain_definitions(resources["render"]),
        dg.Definitions(
            sensors=[eclipse_sensor],
            # Every asset's record: stored per partition, loaded for its children, and written to
            # the warehouse with its Stardust packet (omniva_assets/io_manager.py).
            resources={**resources, "io_manager": record_io_manager()},
            executor=executor_from_env(),  # OMNIVA_EXECUTOR (docs/deployment.md); unset: in the run's process
        ),
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
