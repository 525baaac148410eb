"""A project's copy templates applied to a clip (#29): the values from the warehouse, the
templates from the project's settings, YouTube's limits checked on the result.

The upload asset sends the templated copy (a person's own edit of a clip still wins over it);
the API previews it on a real clip and refuses a template whose output breaks YouTube's limits.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from cognitive_sensors import chorus
from omniva import templates
from omniva.records import ClipCopy
from omniva.settings import Layout
from omniva_resources import projects
from omniva_resources.warehouse import Warehouse
from omniva_resources.youtube.metadata import UploadRequest, metadata_violations

MAX_TAG_CHARS = chorus.TAG_MAX_CHARS


def project_templates(own: dict[str, Any]) -> dict[str, str]:
    """The templates among a project's own settings (empty ones left out)."""
    return {k: str(own[k]) for k in templates.FIELDS if own.get(k)}


def inputs(wh: Warehouse, clip_ids: list[str]) -> list[tuple[ClipCopy, dict[str, Any]]]:
    """Chorus's copy and the source's values (creator, source title and address, licence,
    language, key phrases) of each clip that has copy, in the order asked, in one query."""
    rows = wh.query_file("clips_template_inputs", [clip_ids]) if clip_ids else []
    order = {c: i for i, c in enumerate(clip_ids)}
    out = []
    for r in sorted(rows, key=lambda r: order.get(r["clip_id"], len(order))):
        copy = ClipCopy(
            r["clip_id"], r["title"] or "", r["description"] or "", tuple(r["keywords"] or ()),
            r["category_id"] or "22", r["language"] or "",
        )  # fmt: skip
        out.append((copy, dict(r)))
    return out


def apply(
    chorus: ClipCopy, source: dict[str, Any], tmpl: dict[str, str]
) -> tuple[ClipCopy, list[dict[str, str]]]:
    """Chorus's copy through the templates, and every YouTube limit the result breaks (each
    naming its field)."""
    base = templates.Copy(chorus.title, chorus.description, chorus.tags)
    out = templates.render_copy(tmpl, templates.values_of(base, source), base)
    copy = dataclasses.replace(chorus, title=out.title, description=out.description, tags=out.tags)
    return copy, problems(copy)


def problems(copy: ClipCopy) -> list[dict[str, str]]:
    """Every reason YouTube (or Omniva's limit of 30 characters a tag) refuses ``copy``, each
    naming its field: title, description or tags."""
    req = UploadRequest(path=Path("-"), title=copy.title, description=copy.description, tags=copy.tags)
    out = []
    for problem in metadata_violations(req):
        field = problem.split(" ", 1)[0]
        out.append({"field": "tags" if field in ("tag", "tags") else field, "problem": problem})
    out += [
        {"field": "tags", "problem": f"tag {t!r} is {len(t)} characters (at most {MAX_TAG_CHARS})"}
        for t in copy.tags
        if len(t) > MAX_TAG_CHARS
    ]
    return out


def templated(lay: Layout, wh: Warehouse, chorus: ClipCopy) -> tuple[ClipCopy, dict[str, str], str]:
    """The copy an upload sends before a person's edit: the clip's project's templates over
    Chorus's copy; (copy, the templates used, a note). A result YouTube would refuse is not
    sent: Chorus's copy goes instead and the note says why."""
    found = inputs(wh, [chorus.clip_id])
    source = found[0][1] if found else {}
    owner = projects.project_of(str(source.get("creator") or ""), lay)
    tmpl = project_templates(projects.own_settings(owner.name, lay)) if owner else {}
    if not tmpl:
        return chorus, {}, ""
    copy, bad = apply(chorus, source, tmpl)
    written = {templates.FIELDS[k] for k in tmpl}  # only what a template wrote is its problem
    bad = [p for p in bad if p["field"] in written]
    if bad:
        why = "; ".join(p["problem"] for p in bad[:3])
        return (
            chorus,
            {},
            f"the project's copy templates give copy YouTube refuses ({why}): Chorus's copy sent",
        )
    return copy, tmpl, ""
