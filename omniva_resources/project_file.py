"""``projects.json``: the projects and which creators each groups, read and written here only.

Both registries use it: ``creators.add(project=...)`` joins a new creator to a project, and
``projects`` (the API over projects) checks creators against ``creators``. Keeping the file
here, below both, is what lets ``projects`` import ``creators`` without a cycle.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from omniva.errors import ConfigError
from omniva.settings import Layout


@dataclass(frozen=True, slots=True)
class Project:
    name: str
    channel: str
    goals: str | None  # a Horizon goals YAML (like config/horizon.yaml); None: the default
    description: str
    creators: tuple[str, ...]
    created_at: str

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "channel": self.channel,
            "goals": self.goals,
            "description": self.description,
            "creators": list(self.creators),
            "created_at": self.created_at,
        }


def path(lay: Layout) -> Path:
    return lay.home / "projects.json"


def read(lay: Layout) -> dict:
    file = path(lay)
    return json.loads(file.read_text()) if file.exists() else {}


def write(lay: Layout, data: dict) -> None:
    file = path(lay)
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(".json.partial")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.replace(tmp, file)


def project(name: str, entry: dict) -> Project:
    return Project(
        name=name,
        channel=entry["channel"],
        goals=entry.get("goals"),
        description=entry.get("description", ""),
        creators=tuple(entry.get("creators", [])),
        created_at=entry.get("created_at", ""),
    )


def get(name: str, lay: Layout) -> Project:
    entry = read(lay).get(name)
    if entry is None:
        raise ConfigError(
            f"no project named {name!r}: add it with `omniva projects add {name} --channel CHANNEL`"
        )
    return project(name, entry)


def add_member(name: str, creator: str, lay: Layout) -> Project:
    """Put ``creator`` in project ``name`` (once); the caller has checked the creator."""
    data = read(lay)
    if name not in data:
        raise ConfigError(f"no project named {name!r}")
    members = data[name].setdefault("creators", [])
    if creator not in members:
        members.append(creator)
    write(lay, data)
    return project(name, data[name])
