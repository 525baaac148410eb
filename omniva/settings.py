"""Where Omniva keeps its working state.

Everything lives under one working folder (``OMNIVA_HOME``, default ``.omniva`` in
the current directory): the Dagster instance, the media store, the warehouse.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def omniva_home() -> Path:
    return Path(os.environ.get("OMNIVA_HOME", ".omniva")).resolve()


@dataclass(frozen=True, slots=True)
class Layout:
    """The folders inside one Omniva working folder."""

    home: Path

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


def layout() -> Layout:
    return Layout(omniva_home())


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
