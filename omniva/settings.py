"""Where Omniva keeps its working state.

Everything lives under one working folder (``OMNIVA_HOME``, default ``.omniva`` in
the current directory): the Dagster instance, the media store, the warehouse. The
environment is read when these functions are called (a front end starting up), never at
import; Dagster code gets the same folders from the ``store`` resource
(``omniva_resources.resources.resources_from_env``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def omniva_home(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("OMNIVA_HOME", ".omniva")).resolve()


@dataclass(frozen=True, slots=True)
class Layout:
    """The folders inside one Omniva working folder."""

    home: Path
    cookies_dir: Path | None = None  # creators' cookies files; None: <home>/secrets/cookies

    @property
    def cookies(self) -> Path:
        return self.cookies_dir or self.home / "secrets" / "cookies"

    @property
    def media(self) -> Path:
        return self.home / "media"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse"

    @property
    def duckdb_path(self) -> Path:
        return self.home / "omniva.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def creators_file(self) -> Path:
        return self.home / "creators.json"

    @property
    def download_archive(self) -> Path:
        return self.home / "download-archive.txt"

    @property
    def upload_ledger(self) -> Path:
        return self.home / "uploads"

    @property
    def tmp(self) -> Path:
        return self.home / "tmp"


def layout(environ: Mapping[str, str] | None = None) -> Layout:
    """The working folder the environment names (``OMNIVA_HOME``, ``OMNIVA_COOKIES_DIR``)."""
    env = os.environ if environ is None else environ
    cookies = env.get("OMNIVA_COOKIES_DIR")
    return Layout(omniva_home(env), Path(cookies) if cookies else None)


def ensure_dagster_home() -> Path:
    """Point DAGSTER_HOME at the working folder, seeded with the repo's dagster.yaml.

    An explicit DAGSTER_HOME (production, see README) is left alone.
    """
    if os.environ.get("DAGSTER_HOME"):
        return Path(os.environ["DAGSTER_HOME"])
    home = layout().dagster_home
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    source = REPO_ROOT / "dagster.yaml"
    if source.exists() and not target.exists():
        shutil.copyfile(source, target)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def warm_runs(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the embedded instance's run launcher forks Omniva's runs from a warm process
    (``OMNIVA_WARM_RUNS``: ``auto``, the default, or ``off``; ``omniva_app.run_launcher``)."""
    env = os.environ if environ is None else environ
    value = env.get("OMNIVA_WARM_RUNS", "auto").strip().lower()
    if value in ("", "auto", "on", "1", "true"):
        return True
    if value in ("off", "0", "false"):
        return False
    raise ValueError(f"OMNIVA_WARM_RUNS={value!r}: auto or off")


def render_parallelism(configured: str = "auto") -> tuple[int, int]:
    """(renders at once, ffmpeg threads for each) for ``omniva run``'s clip stage.

    ``configured``: a number, or "auto": one render per core, at most one per 2 GiB of memory
    (a 1080x1920 render with face tracking peaks near 0.5 GiB; the rest is headroom for the
    models the run keeps loaded). Each render's encoder gets the cores divided among them, so
    together they do not oversubscribe the machine; one render alone keeps ffmpeg's default.
    """
    cores = os.cpu_count() or 1
    if configured.strip().lower() in ("", "auto"):
        try:
            mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        except (ValueError, OSError, AttributeError):
            mem_gib = 2.0
        parallel = max(1, min(cores, int(mem_gib // 2)))
    else:
        try:
            parallel = max(1, int(configured))
        except ValueError:
            raise ValueError(f"OMNIVA_RENDER_PARALLEL={configured!r}: a number of renders, or auto") from None
    return parallel, encoder_threads(parallel, cores)


def encoder_threads(renders_at_once: int, cores: int | None = None) -> int:
    """ffmpeg's ``-threads`` for each of ``renders_at_once`` renders sharing ``cores``: their share
    of the cores, so together they do not oversubscribe the machine; 0 (ffmpeg's default, every
    core) for a render alone."""
    cores = cores or os.cpu_count() or 1
    return 0 if renders_at_once <= 1 else max(1, cores // renders_at_once)


def notify_allow_loopback(environ: Mapping[str, str] | None = None) -> bool:
    """Whether notification webhooks and PagerDuty endpoints may be loopback addresses
    (``OMNIVA_NOTIFY_ALLOW_LOOPBACK=1``; off by default). Off, they must be public https
    addresses, as creators' URLs must be (``omniva_resources.source_guard``); on, a receiver on
    this machine is accepted too (the tests' local receivers, a relay beside the farm)."""
    env = os.environ if environ is None else environ
    return env.get("OMNIVA_NOTIFY_ALLOW_LOOPBACK", "").strip().lower() in ("1", "true", "on", "yes")


def dagster_ui_url(environ: Mapping[str, str] | None = None) -> str:
    """The Dagster UI's address for links to runs (``OMNIVA_DAGSTER_UI``)."""
    env = os.environ if environ is None else environ
    return (env.get("OMNIVA_DAGSTER_UI") or "http://127.0.0.1:3000").rstrip("/")
