"""The dashboard in headless Chromium: shared by the dashboard's browser tests (#28).

Playwright drives Debian's ``/usr/bin/chromium`` (no browser download) through the built app
under ``/app/`` (``make setup`` builds ``dashboard/dist``; ``built()`` builds it when missing).
Pages take screenshots into a temporary folder, or into the docs with
``OMNIVA_SCREENSHOTS=docs/img`` (how ``docs/img/dashboard-<page>.png`` are made), so a test run
leaves the work tree as it was.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import ApiServer, free_port

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "dashboard"
SHOTS = Path(os.environ.get("OMNIVA_SCREENSHOTS") or Path(tempfile.gettempdir()) / "omniva-dashboard-shots")
if not SHOTS.is_absolute():
    SHOTS = ROOT / SHOTS
CHROMIUM = Path(os.environ.get("OMNIVA_CHROMIUM", "/usr/bin/chromium"))


def built() -> Path:
    """dashboard/dist, built here when missing (as `make setup` does)."""
    index = DASHBOARD / "dist" / "index.html"
    if not index.exists():
        if not shutil.which("npm"):
            pytest.skip("dashboard/dist is not built and npm is missing: run make setup")
        for cmd in (["npm", "ci", "--no-audit", "--no-fund"], ["npm", "run", "build"]):
            out = subprocess.run(cmd, cwd=DASHBOARD, capture_output=True, text=True, timeout=600)
            assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return index


def home_env(home: Path) -> dict:
    """The environment of ``omniva`` commands on ``home``, uploads to a fresh loopback port."""
    env = {
        **os.environ,
        "OMNIVA_HOME": str(home),
        "OMNIVA_YOUTUBE_API_ROOT": f"http://127.0.0.1:{free_port()}/",
    }
    env.pop("DAGSTER_HOME", None)
    return env


@contextmanager
def dashboard(home: Path, env: dict, keys: dict[str, str]) -> Iterator[dict]:
    """``omniva api`` on ``home``, an HTTP client per key and a headless Chromium."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip playwright (make setup)")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (make setup)")
    built()
    server = ApiServer.start(home, env, free_port(), timeout=180)
    clients = {
        name: httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {k}"}, timeout=120)
        for name, k in keys.items()
    }
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM),
                headless=True,
                args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
            )
            try:
                yield {"base": server.base, "keys": keys, "home": home, "browser": browser, **clients}
            finally:
                browser.close()
    finally:
        for c in clients.values():
            c.close()
        server.stop()


def data(resp: httpx.Response, status: int = 200):
    body = resp.json()
    assert resp.status_code == status, body
    return body["data"]


class Page:
    """One browser context (its own cookies) with the app open, its alerts and errors kept."""

    def __init__(self, ui: dict):
        self.ui = ui
        self.context = ui["browser"].new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(20000)
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _dialog(self, dialog) -> None:
        """An alert, confirm or prompt: recorded (none should ever open) and dismissed."""
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def goto(self, hash_path: str = "") -> None:
        self.page.goto(f"{self.ui['base']}/app/{hash_path}")

    def sign_in(self, who: str = "demo", shot: str | None = None) -> None:
        self.goto("#/signin")
        self.page.fill("#api-key", self.ui["keys"][who])
        if shot:
            self.shot(shot)
        self.page.click("button[type=submit]")
        self.page.wait_for_selector(".project-card")

    def open_clip(self, clip_id: str) -> None:
        self.goto(f"#/clips/{clip_id}")
        self.page.wait_for_selector("[data-testid=clip-title]")

    def shot(self, name: str, full: bool = True) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"dashboard-{name}.png"), full_page=full)

    def close(self) -> None:
        assert not self.errors, self.errors
        self.context.close()
