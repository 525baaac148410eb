"""Projects as the API sees them: ``omniva_resources.projects`` (name, channel, goals, creators; shared
with `omniva projects`) plus what only the API keeps, in ``$OMNIVA_HOME/api/projects.json``:
the display name and the spec's settings (scrape window, ...). RUNNING/PAUSED is the project's
automation in ``projects.json`` (``projects.set_automation``), where the sensors read it; a
project never switched shows the state the API kept before (PAUSED by default).

A project's id is ``proj_<name>``; names follow ``omniva_resources.projects.NAME``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from omniva.errors import ConfigError
from omniva.settings import Layout
from omniva_app.api.envelope import ApiError, now_iso
from omniva_resources import project_file, projects
from omniva_resources.private_files import locked, write_private_json

PREFIX = "proj_"
SLUG = re.compile(r"[^a-z0-9_-]+")


def name_for(display_name: str) -> str:
    """The project name (a lowercase slug) for a display name such as "Creator Lab"."""
    name = SLUG.sub("-", display_name.strip().lower()).strip("-_")[:41]
    if not projects.NAME.match(name):
        raise ApiError(400, "VALIDATION_ERROR", f"project name {display_name!r} has no letters or digits")
    return name


def project_id_for(name: str) -> str:
    return name if name.startswith(PREFIX) else PREFIX + name_for(name)


def _status(p: projects.Project, extra: dict) -> str:
    if p.automation is not None:
        return "RUNNING" if p.automation == project_file.ON else "PAUSED"
    return extra.get("status", "PAUSED")


class ProjectRegistry:
    def __init__(self, lay: Layout, overlay: Path):
        self.layout = lay
        self.path = Path(overlay)

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}

    @contextmanager
    def _editing(self) -> Iterator[dict]:
        """Read-modify-write of the API's part under a file lock (several workers may write)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with locked(self.path):
            data = self._read()
            yield data
            write_private_json(self.path, data)

    def _view(self, p: projects.Project, extra: dict) -> dict:
        return {
            "project_id": PREFIX + p.name,
            "name": extra.get("display_name", p.name),
            "description": p.description,
            "channel": p.channel,
            "goals": p.goals,
            "creators": list(p.creators),
            "created_at": p.created_at,
            "status": _status(p, extra),
            "automation": p.automation,
            "review": p.review,  # "required": uploads wait for approval (#28)
            "status_changed_at": extra.get("status_changed_at"),
            "settings": extra.get("settings", {}),
        }

    def all(self) -> list[dict]:
        extra = self._read()
        return [self._view(p, extra.get(p.name, {})) for p in projects.list_projects(self.layout)]

    def get(self, project_id: str) -> dict:
        name = project_id.removeprefix(PREFIX)
        try:
            p = projects.get_project(name, self.layout) if project_id.startswith(PREFIX) else None
        except ConfigError:
            p = None
        if p is None:
            raise ApiError(404, "PROJECT_NOT_FOUND", f"no project {project_id!r}")
        return self._view(p, self._read().get(name, {}))

    def create(
        self, display_name: str, channel: str, description: str = "", settings: dict | None = None
    ) -> dict:
        name = name_for(display_name)
        if any(p.name == name for p in projects.list_projects(self.layout)):
            raise ApiError(409, "PROJECT_EXISTS", f"project {PREFIX + name!r} exists")
        try:
            p = projects.add_project(name, channel, description=description, lay=self.layout)
        except ConfigError as exc:
            raise ApiError(422, "INVALID_PROJECT", str(exc)) from exc
        p = projects.set_automation(name, False, reason="created through the API", lay=self.layout)
        with self._editing() as data:
            data[name] = {"display_name": display_name, "status": "PAUSED", "settings": settings or {}}
            return self._view(p, data[name])

    def owner_of(self, creator: str) -> str | None:
        """The id of the project that owns ``creator``; None: the admin scope."""
        p = projects.project_of(creator, self.layout)
        return PREFIX + p.name if p else None

    def attach_creator(self, project_id: str, creator: str) -> None:
        """Join ``creator`` to the project; ``CreatorOwnedError`` if another project owns it
        (decided under the registry's lock, so two projects cannot both take it)."""
        p = self.get(project_id)
        if creator in p["creators"]:
            raise ApiError(409, "CREATOR_EXISTS", f"creator {creator!r} is already in {project_id}")
        project_file.add_member(project_id.removeprefix(PREFIX), creator, self.layout)

    def detach_creator(self, project_id: str, creator: str) -> None:
        projects.remove_creator(project_id.removeprefix(PREFIX), creator, self.layout)

    def set_status(self, project_id: str, status: str, reason: str) -> dict:
        """RUNNING or PAUSED: this project's automation only (``projects.set_automation``)."""
        self.get(project_id)
        name = project_id.removeprefix(PREFIX)
        projects.set_automation(name, status == "RUNNING", reason=reason, lay=self.layout)
        with self._editing() as data:
            entry = data.setdefault(name, {})
            entry.update(status=status, status_reason=reason, status_changed_at=now_iso())
        return self.get(project_id)

    def running(self) -> list[str]:
        return [p["project_id"] for p in self.all() if p["status"] == "RUNNING"]

    def adopt_states(self) -> None:
        """Projects the API switched before the state moved to ``projects.json``: their
        RUNNING/PAUSED becomes their automation there, so the sensors skip the paused ones."""
        extra = self._read()
        for p in projects.list_projects(self.layout):
            status = extra.get(p.name, {}).get("status")
            if p.automation is None and status in ("RUNNING", "PAUSED"):
                projects.set_automation(
                    p.name, status == "RUNNING", reason="kept from the API", lay=self.layout
                )
