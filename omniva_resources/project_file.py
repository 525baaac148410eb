"""``projects.json``: the projects and which creators each groups, read and written here only.

Both registries use it: ``creators.add(project=...)`` joins a new creator to a project, and
``projects`` (the API over projects) checks creators against ``creators``. Keeping the file
here, below both, is what lets ``projects`` import ``creators`` without a cycle.

Each project's automation is "on" or "off" (``set_automation``; absent: never started, so
off): the launch policy and the scraper's sensors skip the creators of a project that is not
started. A creator in no project (the admin scope) is always served.

Every creator belongs to at most one project (its owner; a creator in none belongs to the
admin scope). The owner decides whose key may read its clips and which channel they go to, so
joining a creator another project owns is refused here, under the file's lock, where two
writers cannot both win.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from omniva.errors import ConfigError
from omniva.settings import Layout
from omniva_resources.private_files import locked, write_private_json

ON, OFF = "on", "off"
#: Review before publish (#28): "required" holds a project's uploads until a person approves
#: each clip; "auto" (the default, and every creator in no project) publishes without one.
REVIEW_MODES = ("auto", "required")


@dataclass(frozen=True, slots=True)
class Project:
    name: str
    channel: str
    goals: str | None  # a Horizon goals YAML (like config/horizon.yaml); None: the default
    description: str
    creators: tuple[str, ...]
    created_at: str
    #: "on" | "off": started or stopped (the API's start/stop, `omniva projects start/stop`);
    #: None: never started, which is stopped too. Only a started project's creators are served
    #: by the sensors and the daily schedule.
    automation: str | None = None
    #: "auto" | "required" (``REVIEW_MODES``).
    review: str = "auto"

    @property
    def stopped(self) -> bool:
        return self.automation != ON

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "channel": self.channel,
            "goals": self.goals,
            "description": self.description,
            "creators": list(self.creators),
            "created_at": self.created_at,
            "automation": self.automation,
            "review": self.review,
        }


class CreatorOwnedError(ConfigError):
    """The creator belongs to another project; ``owner`` names it (show it to admins only)."""

    def __init__(self, creator: str, owner: str):
        super().__init__(
            f"creator {creator!r} belongs to project {owner!r}: "
            f"`omniva projects remove-creator {owner} {creator}` first to move it"
        )
        self.creator, self.owner = creator, owner


def path(lay: Layout) -> Path:
    return lay.home / "projects.json"


def owners(data: dict) -> dict[str, str]:
    """creator -> the project that owns it. A file written before ownership existed may list a
    creator in several projects: the oldest project keeps it (then the first by name), so a
    project added later can never take a creator, or its channel, over."""
    out: dict[str, str] = {}
    for name, entry in sorted(data.items(), key=lambda kv: (kv[1].get("created_at", ""), kv[0])):
        for creator in entry.get("creators", []):
            out.setdefault(creator, name)
    return out


def read(lay: Layout) -> dict:
    """The projects, each listing only the creators it owns."""
    file = path(lay)
    data = json.loads(file.read_text()) if file.exists() else {}
    owner = owners(data)
    for name, entry in data.items():
        if "creators" in entry:
            entry["creators"] = [c for c in entry["creators"] if owner[c] == name]
    return data


def write(lay: Layout, data: dict) -> None:
    write_private_json(path(lay), data)


@contextmanager
def editing(lay: Layout) -> Iterator[dict]:
    """Read, change and write ``projects.json`` under its lock; nothing is written if the
    block raises."""
    with locked(path(lay)):
        data = read(lay)
        yield data
        write(lay, data)


def project(name: str, entry: dict) -> Project:
    return Project(
        name=name,
        channel=entry["channel"],
        goals=entry.get("goals"),
        description=entry.get("description", ""),
        creators=tuple(entry.get("creators", [])),
        created_at=entry.get("created_at", ""),
        automation=entry.get("automation") if entry.get("automation") in (ON, OFF) else None,
        review=str(entry["review"]) if entry.get("review") in REVIEW_MODES else "auto",
    )


def get(name: str, lay: Layout) -> Project:
    entry = read(lay).get(name)
    if entry is None:
        raise ConfigError(
            f"no project named {name!r}: add it with `omniva projects add {name} --channel CHANNEL`"
        )
    return project(name, entry)


def owner_of(creator: str, lay: Layout) -> str | None:
    """The project that owns ``creator``; None: the admin scope (no project)."""
    return owners(read(lay)).get(creator)


def add_member(name: str, creator: str, lay: Layout) -> Project:
    """Put ``creator`` in project ``name`` (once); the caller has checked the creator.
    ``CreatorOwnedError`` if another project owns it."""
    with editing(lay) as data:
        if name not in data:
            raise ConfigError(f"no project named {name!r}")
        owner = owners(data).get(creator)
        if owner is not None and owner != name:
            raise CreatorOwnedError(creator, owner)
        members = data[name].setdefault("creators", [])
        if creator not in members:
            members.append(creator)
    return project(name, data[name])


def set_automation(name: str, on: bool, lay: Layout, reason: str = "") -> Project:
    """Start (``on``) or stop the project's automation: the sensors and the daily schedule skip
    the creators of a stopped project. Only this project's entry changes."""
    with editing(lay) as data:
        if name not in data:
            raise ConfigError(f"no project named {name!r}")
        data[name]["automation"] = ON if on else OFF
        data[name]["automation_reason"] = reason
    return project(name, data[name])


def stopped_creators(lay: Layout) -> dict[str, str]:
    """creator -> the project that owns it, for every project not started (automation not on)."""
    data = read(lay)
    owner = owners(data)
    return {c: name for c, name in owner.items() if data[name].get("automation") != ON}


def set_review(name: str, mode: str, lay: Layout) -> Project:
    """Set the project's review mode (``REVIEW_MODES``); only this project's entry changes."""
    if mode not in REVIEW_MODES:
        raise ConfigError(f"review mode {mode!r}: use one of {', '.join(REVIEW_MODES)}")
    with editing(lay) as data:
        if name not in data:
            raise ConfigError(f"no project named {name!r}")
        data[name]["review"] = mode
    return project(name, data[name])


def review_required_creators(lay: Layout) -> dict[str, str]:
    """creator -> the project that owns it, for every project whose review is "required"."""
    data = read(lay)
    owner = owners(data)
    return {c: name for c, name in owner.items() if data[name].get("review") == "required"}


def own_settings(entry: dict) -> dict:
    """The project's own settings (#29): ``settings`` in its entry, and its review mode."""
    out = dict(entry.get("settings") or {})
    if entry.get("review"):
        out["review"] = entry["review"]
    return out


def update_settings(name: str, clean: dict, lay: Layout) -> tuple[dict, dict]:
    """Apply checked settings (``omniva.project_settings.validate``; None removes the project's
    own value) under the file's lock; the project's own settings before and after."""
    with editing(lay) as data:
        if name not in data:
            raise ConfigError(f"no project named {name!r}")
        entry = data[name]
        before = own_settings(entry)
        stored = dict(entry.get("settings") or {})
        for key, value in clean.items():
            if key == "review":
                entry["review"] = value or "auto"
            elif value is None:
                stored.pop(key, None)
            else:
                stored[key] = value
        entry["settings"] = stored
        after = own_settings(entry)
    return before, after
