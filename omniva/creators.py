"""The creator registry: ``creators.json`` in the working folder.

``omniva creators add`` writes it; the creator sensor turns each active entry into
a ``creators`` partition. Removing a creator marks it inactive and keeps history.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime

from omniva.errors import ConfigError
from omniva.records import Creator
from omniva.settings import Layout

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


def add(layout: Layout, name: str, url: str) -> Creator:
    from omniva_resources.scraper import platform_of

    if not NAME.match(name):
        raise ConfigError(
            f"creator name {name!r}: use lowercase letters, digits, '-' or '_' (it becomes a partition key)"
        )
    if not re.match(r"^(https?|file)://", url):
        raise ConfigError(f"creator URL {url!r}: give a full http(s):// URL (channel, feed or page)")
    data = _read(layout)
    entry = data.get(name, {})
    entry.update(url=url, platform=platform_of(url), active=True)
    entry.setdefault("added_at", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    data[name] = entry
    _write(layout, data)
    return Creator(name, url, entry["platform"])


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


def added_at(layout: Layout, name: str) -> str:
    return _read(layout).get(name, {}).get("added_at", "")
