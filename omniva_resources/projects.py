"""Projects: a group of creators and the channel their clips go to, with its Horizon goals.

Kept in ``projects.json`` in the working folder (beside ``creators.json``). The API is small on
purpose (the CLI and the REST API both use it)::

    list_projects()                      -> [Project, ...]
    get_project(name)                    -> Project            (ConfigError if unknown)
    add_project(name, channel, goals=None, description="")     (adds or updates)
    set_channel(name, channel)           the channel its clips go to (#29), nothing else changes
    remove_project(name)                 the grouping goes; creators and their history stay
    add_creator(project, creator) / remove_creator(project, creator)
    creators_of(name)                    -> [Creator, ...]     the project's active creators
    project_of(creator)                  -> Project | None     the project that owns it
    set_automation(name, on, reason)     start or stop this project's automation only
    stopped_creators()                   -> {creator: project} of the stopped projects
    set_review(name, "required"|"auto")  review before publish (#28; default "auto")
    review_required_creators()           -> {creator: project} whose uploads wait for approval

A creator belongs to one project at most (``project_file``): joining one another project owns
raises ``CreatorOwnedError``. Removing a creator from a project only ungroups it (back to the
admin scope); ``omniva creators remove`` stops its work. The file is written atomically under
a lock, readable by its owner only.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cognitive_sensors.goals import Goals, load_goals
from omniva import project_settings
from omniva.errors import ConfigError
from omniva.records import Creator
from omniva.settings import Layout
from omniva.settings import layout as default_layout
from omniva_resources import creators, project_file
from omniva_resources.project_file import CreatorOwnedError, Project
from omniva_resources.youtube.auth import check_channel_name
from omniva_resources.youtube.errors import YouTubeError

__all__ = [
    "NAME",
    "CreatorOwnedError",
    "Project",
    "add_creator",
    "add_project",
    "channels_by_creator",
    "creators_of",
    "get_project",
    "goals_for",
    "list_projects",
    "project_of",
    "remove_creator",
    "remove_project",
    "set_channel",
    "review_required_creators",
    "set_automation",
    "set_review",
    "stopped_creators",
]

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")


def list_projects(lay: Layout | None = None) -> list[Project]:
    return [project_file.project(n, e) for n, e in sorted(project_file.read(lay or default_layout()).items())]


def get_project(name: str, lay: Layout | None = None) -> Project:
    return project_file.get(name, lay or default_layout())


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
    try:
        # The channel names its token file (secrets/youtube/CHANNEL.json): no path in it.
        channel = check_channel_name(channel.strip())
    except YouTubeError as exc:
        raise ConfigError(f"project {name!r}: {exc}") from exc
    goals_path = None
    if goals:
        goals_path = Path(goals).expanduser().resolve()
        if not goals_path.is_file():
            raise ConfigError(f"project {name!r}: goals file {goals_path} does not exist")
        load_goals(str(goals_path))  # refuse a goals file Horizon cannot read
    with project_file.editing(lay) as data:
        entry = data.get(
            name, {"creators": [], "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        )
        entry.update(channel=channel, goals=str(goals_path) if goals_path else entry.get("goals"))
        if description:
            entry["description"] = description
        data[name] = entry
    return project_file.project(name, entry)


def set_channel(name: str, channel: str, lay: Layout | None = None) -> tuple[str, Project]:
    """Point project ``name`` at ``channel`` (a token's name); (the channel before, the project)."""
    try:
        channel = check_channel_name((channel or "").strip())
    except YouTubeError as exc:
        raise ConfigError(f"project {name!r}: {exc}") from exc
    with project_file.editing(lay or default_layout()) as data:
        if name not in data:
            raise ConfigError(f"no project named {name!r}")
        before = str(data[name].get("channel") or "")
        data[name]["channel"] = channel
    return before, project_file.project(name, data[name])


def remove_project(name: str, lay: Layout | None = None) -> Project:
    with project_file.editing(lay or default_layout()) as data:
        if name not in data:
            raise ConfigError(f"no project named {name!r}")
        gone = project_file.project(name, data.pop(name))
    return gone


def add_creator(project: str, creator: str, lay: Layout | None = None) -> Project:
    lay = lay or default_layout()
    creators.get(lay, creator)  # must be registered
    return project_file.add_member(project, creator, lay)


def remove_creator(project: str, creator: str, lay: Layout | None = None) -> Project:
    with project_file.editing(lay or default_layout()) as data:
        if project not in data:
            raise ConfigError(f"no project named {project!r}")
        members = data[project].get("creators", [])
        if creator not in members:
            raise ConfigError(f"creator {creator!r} is not in project {project!r}")
        members.remove(creator)
    return project_file.project(project, data[project])


def creators_of(name: str, lay: Layout | None = None) -> list[Creator]:
    """The project's creators that are still active (removed ones keep their history only)."""
    lay = lay or default_layout()
    active = {c.name: c for c in creators.active(lay)}
    return [active[n] for n in get_project(name, lay).creators if n in active]


def project_of(creator: str, lay: Layout | None = None) -> Project | None:
    """The project that owns a creator; None: it is in none (the admin scope)."""
    owner = project_file.owner_of(creator, lay or default_layout())
    return get_project(owner, lay) if owner else None


def goals_for(creator: str, lay: Layout | None = None, default_file: str | None = None) -> Goals:
    """Horizon's goals for a creator's clips (Pantheon's weights, quorum and brand rules,
    Chorus's tone, the topic mix): its project's goals file, else ``default_file`` (the
    ``horizon`` resource's), else config/horizon.yaml; then the project's own settings (#29:
    goal topics, banned words, clips a day) over the file's."""
    lay = lay or default_layout()
    p = project_of(creator, lay)
    goals = load_goals(p.goals if p and p.goals else default_file or None)
    own = own_settings(p.name, lay) if p else {}
    changes: dict[str, Any] = {}
    if own.get("goal_topics"):
        changes["topics"] = {k: tuple(v) for k, v in own["goal_topics"].items()}
    if own.get("banned_words") is not None:
        changes["banned_words"] = tuple(w.lower() for w in own["banned_words"])
    if own.get("daily_clips") is not None:
        changes["daily_quota"] = int(own["daily_clips"])
    return dataclasses.replace(goals, **changes) if changes else goals


# ---------------------------------------------------------------- settings (#29)
def own_settings(name: str, lay: Layout | None = None) -> dict[str, Any]:
    """The settings project ``name`` sets itself (``PUT /v1/projects/{id}/settings``)."""
    data = project_file.read(lay or default_layout())
    if name not in data:
        raise ConfigError(f"no project named {name!r}")
    return project_file.own_settings(data[name])


def settings_in_force(
    name: str,
    lay: Layout | None = None,
    environ: Mapping[str, str] | None = None,
    default_goals: str | None = None,
) -> list[project_settings.InForce]:
    """Each setting's value for project ``name`` and where it comes from: the project, the
    deployment's environment (``environ``, default ``os.environ``), its goals file (the
    project's, else ``default_goals``: the ``horizon`` resource's), or the built-in default."""
    lay = lay or default_layout()
    p = get_project(name, lay)
    file = p.goals or default_goals or None
    goals = load_goals(file)
    return project_settings.in_force(
        own_settings(name, lay),
        os.environ if environ is None else environ,
        {"daily_quota": goals.daily_quota, "topics": goals.topics, "banned_words": goals.banned_words},
        file or "config/horizon.yaml",
    )


def set_settings(
    name: str, changes: Mapping[str, Any], lay: Layout | None = None, default_goals: str | None = None
) -> dict[str, dict]:
    """Check ``changes`` (``project_settings.validate``: ``SettingsError`` names each bad
    field) and keep them as the project's own; name -> {"before", "after"} of the values in
    force that changed."""
    lay = lay or default_layout()
    clean = project_settings.validate(changes)
    before = {s.name: s.value for s in settings_in_force(name, lay, default_goals=default_goals)}
    project_file.update_settings(name, clean, lay)
    after = {s.name: s.value for s in settings_in_force(name, lay, default_goals=default_goals)}
    return project_settings.changed(before, after)


def creator_settings(lay: Layout) -> dict[str, dict[str, Any]]:
    """creator -> its project's own settings (one read of ``projects.json``), for the assets
    that apply them over the deployment's (clip lengths, the cadence, the scraping window)."""
    data = project_file.read(lay)
    return {c: project_file.own_settings(data[p]) for c, p in project_file.owners(data).items()}


def channel_settings(lay: Layout) -> dict[str, dict[str, Any]]:
    """channel -> the own settings of the project that publishes to it (the first by name when
    several share a channel)."""
    out: dict[str, dict[str, Any]] = {}
    for _, entry in sorted(project_file.read(lay).items()):
        out.setdefault(entry.get("channel", ""), project_file.own_settings(entry))
    return out


def channels_by_creator(lay: Layout, default: str) -> dict[str, str]:
    """creator -> the channel of the project that owns it (``default`` if it has none)."""
    return {creator: p.channel or default for p in list_projects(lay) for creator in p.creators}


def set_automation(name: str, on: bool, reason: str = "", lay: Layout | None = None) -> Project:
    """Start or stop project ``name``'s automation (no other project changes); the sensors and
    the daily schedule skip the creators of a stopped project."""
    return project_file.set_automation(name, on, lay or default_layout(), reason)


def stopped_creators(lay: Layout | None = None) -> dict[str, str]:
    """creator -> its project, for the creators whose project is stopped (or never started)."""
    return project_file.stopped_creators(lay or default_layout())


def set_review(name: str, mode: str, lay: Layout | None = None) -> Project:
    """Review before publish for project ``name``: "required" holds its uploads until each clip
    is approved; "auto" (the default) publishes without a review."""
    return project_file.set_review(name, mode, lay or default_layout())


def review_required_creators(lay: Layout | None = None) -> dict[str, str]:
    """creator -> its project, for the creators whose project requires review before publish."""
    return project_file.review_required_creators(lay or default_layout())
