"""Projects: a group of creators and the channel their clips go to, with its Horizon goals.

Kept in ``projects.json`` in the working folder (beside ``creators.json``). The API is small on
purpose (the CLI and the REST API both use it)::

    list_projects()                      -> [Project, ...]
    get_project(name)                    -> Project            (ConfigError if unknown)
    add_project(name, channel, goals=None, description="")     (adds or updates)
    remove_project(name)                 the grouping goes; creators and their history stay
    add_creator(project, creator) / remove_creator(project, creator)
    creators_of(name)                    -> [Creator, ...]     the project's active creators

Removing a creator from a project only ungroups it; ``omniva creators remove`` stops its work.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from omniva.errors import ConfigError
from omniva.records import Creator
from omniva.settings import Layout
from omniva.settings import layout as default_layout

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")


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


def _file(lay: Layout) -> Path:
    return lay.home / "projects.json"


def _read(lay: Layout) -> dict:
    path = _file(lay)
    return json.loads(path.read_text()) if path.exists() else {}


def _write(lay: Layout, data: dict) -> None:
    path = _file(lay)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.partial")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.replace(tmp, path)


def _project(name: str, entry: dict) -> Project:
    return Project(
        name=name,
        channel=entry["channel"],
        goals=entry.get("goals"),
        description=entry.get("description", ""),
        creators=tuple(entry.get("creators", [])),
        created_at=entry.get("created_at", ""),
    )


def list_projects(lay: Layout | None = None) -> list[Project]:
    return [_project(n, e) for n, e in sorted(_read(lay or default_layout()).items())]


def get_project(name: str, lay: Layout | None = None) -> Project:
    entry = _read(lay or default_layout()).get(name)
    if entry is None:
        raise ConfigError(
            f"no project named {name!r}: add it with `omniva projects add {name} --channel CHANNEL`"
        )
    return _project(name, entry)


def add_project(
    name: str,
    channel: str,
    goals: str | Path | None = None,
    description: str = "",
    lay: Layout | None = None,
) -> Project:
    """Create the project, or update its channel, goals and description (creators stay)."""
    lay = lay or default_layout()
    if not NAME.match(name):
        raise ConfigError(f"project name {name!r}: use lowercase letters, digits, '-' or '_'")
    if not channel or not channel.strip():
        raise ConfigError(f"project {name!r}: give the target channel (--channel, the YouTube token's name)")
    goals_path = None
    if goals:
        goals_path = Path(goals).expanduser().resolve()
        if not goals_path.is_file():
            raise ConfigError(f"project {name!r}: goals file {goals_path} does not exist")
        from cognitive_sensors.goals import load_goals

        load_goals(str(goals_path))  # refuse a goals file Horizon cannot read
    data = _read(lay)
    entry = data.get(name, {"creators": [], "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})
    entry.update(channel=channel.strip(), goals=str(goals_path) if goals_path else entry.get("goals"))
    if description:
        entry["description"] = description
    data[name] = entry
    _write(lay, data)
    return _project(name, entry)


def remove_project(name: str, lay: Layout | None = None) -> Project:
    lay = lay or default_layout()
    data = _read(lay)
    if name not in data:
        raise ConfigError(f"no project named {name!r}")
    gone = _project(name, data.pop(name))
    _write(lay, data)
    return gone


def add_creator(project: str, creator: str, lay: Layout | None = None) -> Project:
    lay = lay or default_layout()
    from omniva_resources import creators

    creators.get(lay, creator)  # must be registered
    data = _read(lay)
    if project not in data:
        raise ConfigError(f"no project named {project!r}")
    members = data[project].setdefault("creators", [])
    if creator not in members:
        members.append(creator)
    _write(lay, data)
    return _project(project, data[project])


def remove_creator(project: str, creator: str, lay: Layout | None = None) -> Project:
    lay = lay or default_layout()
    data = _read(lay)
    if project not in data:
        raise ConfigError(f"no project named {project!r}")
    members = data[project].get("creators", [])
    if creator not in members:
        raise ConfigError(f"creator {creator!r} is not in project {project!r}")
    members.remove(creator)
    _write(lay, data)
    return _project(project, data[project])


def creators_of(name: str, lay: Layout | None = None) -> list[Creator]:
    """The project's creators that are still active (removed ones keep their history only)."""
    lay = lay or default_layout()
    from omniva_resources import creators

    active = {c.name: c for c in creators.active(lay)}
    return [active[n] for n in get_project(name, lay).creators if n in active]


def project_of(creator: str, lay: Layout | None = None) -> Project | None:
    """The (first) project a creator belongs to, if any."""
    return next((p for p in list_projects(lay) if creator in p.creators), None)


def goals_for(creator: str, lay: Layout | None = None):
    """Horizon's goals for a creator's clips (Pantheon's weights, quorum and brand rules,
    Chorus's tone, the topic mix): its project's goals file, else the global one."""
    from cognitive_sensors.goals import load_goals

    p = project_of(creator, lay)
    return load_goals(p.goals if p and p.goals else None)
