"""What every request shares: the working folder's stores, and the caller's verified key.

The app builds one ``ApiContext`` and the authentication middleware puts the caller's
``ApiKey`` on the request; routes reach both through ``ctx_of`` and ``key_of``. Keys and
projects load cheaply (``omniva api keys`` uses them without Dagster); the Dagster side
loads on first use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Request

from omniva.settings import Layout
from omniva_app.api.keys import ApiKey, KeyStore
from omniva_app.api.project_registry import ProjectRegistry

if TYPE_CHECKING:
    from omniva_app.api.dagster_ops import Actions
    from omniva_resources.resources import OmnivaStore
    from omniva_resources.warehouse import Warehouse


def api_dir(lay: Layout) -> Path:
    return lay.home / "api"


@dataclass
class ApiContext:
    """What every request uses; the Dagster side is loaded on first use."""

    layout: Layout

    @cached_property
    def keys(self) -> KeyStore:
        return KeyStore(api_dir(self.layout) / "keys.json")

    @cached_property
    def projects(self) -> ProjectRegistry:
        return ProjectRegistry(self.layout, api_dir(self.layout) / "projects.json")

    @cached_property
    def actions(self) -> Actions:
        # heavy: dagster and the whole code location load only when an action or read needs them
        import dagster as dg

        from omniva.settings import ensure_dagster_home
        from omniva_app.api.dagster_ops import Actions
        from omniva_assets.definitions import defs

        ensure_dagster_home()
        return Actions(defs, dg.DagsterInstance.get(), self.store, api_dir(self.layout) / "jobs")

    @cached_property
    def store(self) -> OmnivaStore:
        """The working folder (warehouse, logs, quarantine), without loading the code location."""
        from omniva_resources.resources import OmnivaStore  # heavy: dagster

        return OmnivaStore(home=str(self.layout.home))

    @property
    def warehouse(self) -> Warehouse:
        from omniva_resources.warehouse import Warehouse  # heavy: duckdb, pyarrow

        return Warehouse(self.layout.warehouse, self.layout.duckdb_path)

    @property
    def ui_url(self) -> str:
        return os.environ.get("OMNIVA_DAGSTER_UI", "http://127.0.0.1:3000").rstrip("/")


def ctx_of(request: Request) -> ApiContext:
    return request.app.state.ctx


def key_of(request: Request) -> ApiKey:
    """The caller's key, verified by the app's middleware before any route runs."""
    return request.state.api_key
