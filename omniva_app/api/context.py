"""What every request shares: the working folder's stores, and the caller's verified key.

The app builds one ``ApiContext`` and the authentication middleware puts the caller's
``ApiKey`` on the request; routes reach both through ``ctx_of`` and ``key_of``. Keys and
projects load cheaply (``omniva api keys`` uses them without Dagster); the Dagster side
loads on first use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Request

from omniva.settings import Layout
from omniva_app.api.keys import ApiKey, KeyStore, RateLimit
from omniva_app.api.project_registry import ProjectRegistry

if TYPE_CHECKING:
    from omniva_app.api.dagster_ops import Actions
    from omniva_app.api.session import SessionStore
    from omniva_resources.resources import OmnivaStore
    from omniva_resources.warehouse import Warehouse


def api_dir(lay: Layout) -> Path:
    return lay.home / "api"


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        return float(env.get(name) or default)
    except ValueError:
        return default


@dataclass(frozen=True)
class ApiSettings:
    """The API server's limits and links; ``from_env`` is the one place they are read."""

    max_body_bytes: int = 1024 * 1024  # OMNIVA_API_MAX_BODY_BYTES: larger requests get 413
    rate_limit_per_min: int = 600  # OMNIVA_API_RATE_LIMIT: requests a minute per key (0: none)
    auth_failures: int = 10  # OMNIVA_API_AUTH_FAILURES: wrong secrets per key id per window...
    auth_window_s: float = 60.0  # OMNIVA_API_AUTH_WINDOW_S: ...before 429 (0 failures: no limit)
    dagster_ui: str = "http://127.0.0.1:3000"  # OMNIVA_DAGSTER_UI: run links in answers
    # OMNIVA_DASHBOARD_DIST: the built dashboard served under /app (default: dashboard/dist)
    dashboard_dist: Path = Path(__file__).resolve().parents[2] / "dashboard" / "dist"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ApiSettings:
        env = os.environ if environ is None else environ
        return cls(
            max_body_bytes=int(_number(env, "OMNIVA_API_MAX_BODY_BYTES", cls.max_body_bytes)),
            rate_limit_per_min=int(_number(env, "OMNIVA_API_RATE_LIMIT", cls.rate_limit_per_min)),
            auth_failures=int(_number(env, "OMNIVA_API_AUTH_FAILURES", cls.auth_failures)),
            auth_window_s=_number(env, "OMNIVA_API_AUTH_WINDOW_S", cls.auth_window_s),
            dagster_ui=(env.get("OMNIVA_DAGSTER_UI") or cls.dagster_ui).rstrip("/"),
            dashboard_dist=Path(env.get("OMNIVA_DASHBOARD_DIST") or cls.dashboard_dist),
        )


@dataclass
class ApiContext:
    """What every request uses; the Dagster side is loaded on first use."""

    layout: Layout
    settings: ApiSettings = field(default_factory=ApiSettings.from_env)

    @cached_property
    def keys(self) -> KeyStore:
        return KeyStore(
            api_dir(self.layout) / "keys.json",
            max_failures=self.settings.auth_failures,
            window_s=self.settings.auth_window_s,
        )

    @cached_property
    def rate_limit(self) -> RateLimit:
        return RateLimit(self.settings.rate_limit_per_min)

    @cached_property
    def sessions(self) -> SessionStore:
        """The dashboard's signed-in sessions (memory only)."""
        from omniva_app.api.session import SessionStore

        return SessionStore()

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
        return self.settings.dagster_ui


def ctx_of(request: Request) -> ApiContext:
    return request.app.state.ctx


def key_of(request: Request) -> ApiKey:
    """The caller's key, verified by the app's middleware before any route runs."""
    return request.state.api_key
