"""The creator registry: ``creators.json`` in the working folder.

``omniva creators add`` writes it; the creator sensor turns each active entry into
a ``creators`` partition. Removing a creator marks it inactive and keeps history.
An entry may carry the creator's rules (duration, Shorts or long-form only) and a cookies
file for sources that need a login: a copy kept owner-only under
``$OMNIVA_HOME/secrets/cookies/NAME.txt`` (``Layout.cookies``), whose contents are never
printed or logged.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

from omniva.errors import ConfigError
from omniva.records import Creator
from omniva.settings import Layout
from omniva.source_rules import SourceRules, SourceSettings, platform_of
from omniva_resources import project_file
from omniva_resources.folder_source import folder_path, folder_url

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")


def _read(layout: Layout) -> dict:
    if not layout.creators_file.exists():
        return {}
    return json.loads(layout.creators_file.read_text())


def _write(layout: Layout, data: dict) -> None:
    layout.creators_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = layout.creators_file.with_suffix(".json.partial")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.replace(tmp, layout.creators_file)


def normalize_url(url: str) -> str:
    """A full http(s) URL, or a local folder as ``folder:///absolute/path``."""
    if (
        url.startswith("folder://")
        or url.startswith(("/", "~", "./"))
        or (not re.match(r"^[a-z][a-z0-9+.-]*://", url) and os.path.isdir(url))
    ):
        folder = folder_url(url)
        if not folder_path(folder).is_dir():
            raise ConfigError(f"folder {folder_path(folder)} does not exist (create it, or give a URL)")
        return folder
    if not re.match(r"^(https?|file)://", url):
        raise ConfigError(
            f"creator URL {url!r}: give a full http(s):// URL (channel, feed or page) or a folder path"
        )
    return url


def add(
    layout: Layout,
    name: str,
    url: str,
    *,
    cookies: str | Path | None = None,
    rules: SourceRules | None = None,
    project: str | None = None,
) -> Creator:
    """Register (or update) a creator; ``project``: also join that project."""
    if not NAME.match(name):
        raise ConfigError(
            f"creator name {name!r}: use lowercase letters, digits, '-' or '_' (it becomes a partition key)"
        )
    url = normalize_url(url)
    if project:
        project_file.get(project, layout)  # a clear error before anything is written
    data = _read(layout)
    entry = data.get(name, {})
    entry.update(url=url, platform=platform_of(url), active=True)
    entry.setdefault("added_at", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    if rules is not None:
        entry["rules"] = rules.as_dict()
    if cookies:
        entry["cookies"] = str(_keep_cookies(layout, name, Path(cookies).expanduser()))
    data[name] = entry
    _write(layout, data)
    if project:
        project_file.add_member(project, name, layout)
    return Creator(name, url, entry["platform"])


def _keep_cookies(layout: Layout, name: str, source: Path) -> Path:
    """Copy a Netscape cookies file to the secrets folder, owner-only (yt-dlp also writes
    refreshed cookies back to it)."""
    if not source.is_file():
        raise ConfigError(f"cookies file {source} does not exist (export one in Netscape format)")
    head = source.read_text(errors="replace")[:4096]
    if "\t" not in head and "# Netscape HTTP Cookie File" not in head:
        raise ConfigError(f"cookies file {source}: not in Netscape cookies.txt format (tab-separated)")
    folder = layout.cookies
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    target = folder / f"{name}.txt"
    tmp = target.with_suffix(".partial")
    shutil.copyfile(source, tmp)
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
    return target


def settings_for(layout: Layout, name: str, shared: SourceSettings | None = None) -> SourceSettings:
    """How to reach this creator: ``shared`` (the proxy, interval and retry settings every
    creator shares: the ``scrape`` resource's) with its own rules and cookies file."""
    entry = _read(layout).get(name, {})
    cookies = entry.get("cookies")
    default = layout.cookies / f"{name}.txt"
    if not cookies and default.exists():
        cookies = str(default)
    if cookies and not Path(cookies).exists():
        raise ConfigError(
            f"creator {name!r}: its cookies file {cookies} is gone; add it again with --cookies"
        )
    return dataclasses.replace(
        shared or SourceSettings(), cookies_file=cookies, rules=SourceRules(**entry.get("rules", {}))
    )


def describe(layout: Layout, name: str) -> dict:
    """The registry entry without secrets (a cookies file shows as present or not)."""
    entry = dict(_read(layout).get(name, {}))
    if entry.pop("cookies", None):
        entry["cookies"] = "set"
    return entry


def remove(layout: Layout, name: str) -> None:
    data = _read(layout)
    if name not in data:
        raise ConfigError(f"no creator named {name!r}")
    data[name]["active"] = False
    _write(layout, data)


def active(layout: Layout) -> list[Creator]:
    return [
        Creator(n, e["url"], e.get("platform", "other"))
        for n, e in sorted(_read(layout).items())
        if e.get("active", True)
    ]


def get(layout: Layout, name: str) -> Creator:
    entry = _read(layout).get(name)
    if not entry:
        raise ConfigError(f"no creator named {name!r}: add it with `omniva creators add {name} URL`")
    return Creator(name, entry["url"], entry.get("platform", "other"))


def is_active(layout: Layout, name: str) -> bool:
    return bool(_read(layout).get(name, {}).get("active", False))


def added_at(layout: Layout, name: str) -> str:
    return _read(layout).get(name, {}).get("added_at", "")
