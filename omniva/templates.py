"""Copy templates (#29): a project's title, description and tags written with handlebars-style
variables that Chorus's copy and the clip's source fill, e.g.
``{{title}} | {{creator}}`` or ``{{description}}\\n\\nSource: {{source_url}} ({{licence}})``.

``check`` refuses a template with an unknown variable or stray braces, naming it; ``render``
fills one; ``render_copy`` fills the three (tags: a comma-separated list after filling, empty
entries dropped). A variable with no value becomes empty text, and the spaces around it close
up. Pure: the values come from the caller (the upload asset, the API's preview).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["FIELDS", "VARIABLES", "TemplateError", "check", "render", "render_copy"]

#: The variables a template may use, with what each holds.
VARIABLES: dict[str, str] = {
    "title": "Chorus's title for the clip",
    "description": "Chorus's description",
    "tags": "Chorus's tags, comma-separated",
    "keyphrases": "the source video's key phrases, comma-separated",
    "hashtags": "the key phrases as hashtags (#LikeThis), space-separated",
    "creator": "the creator's name in Omniva",
    "source_title": "the source post's title",
    "source_url": "the source post's address",
    "language": "the clip's language (ISO 639-1, e.g. en)",
    "licence": "the source's licence, when the platform gives one",
}
#: The project settings that hold the templates, and the copy field each writes.
FIELDS = {"title_template": "title", "description_template": "description", "tags_template": "tags"}
TOKEN = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class TemplateError(ValueError):
    """A template that cannot be filled: an unknown variable, or braces that open no variable."""


def check(template: str) -> list[str]:
    """The variables ``template`` uses; ``TemplateError`` names an unknown one or stray braces."""
    used = []
    for name in TOKEN.findall(template):
        if name not in VARIABLES:
            raise TemplateError(f"unknown variable {{{{{name}}}}} (variables: {', '.join(VARIABLES)})")
        used.append(name)
    rest = TOKEN.sub("", template)
    if "{{" in rest or "}}" in rest:
        raise TemplateError("'{{' or '}}' that is not a variable: write {{name}} with a variable's name")
    return used


def render(template: str, values: Mapping[str, str], *, one_line: bool = False) -> str:
    """``template`` with each variable's value (empty when it has none)."""
    check(template)
    text = TOKEN.sub(lambda m: str(values.get(m.group(1)) or ""), template)
    if one_line:
        return re.sub(r"\s+", " ", text).strip()
    lines = [re.sub(r"[ \t]{2,}", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


@dataclass(frozen=True)
class Copy:
    title: str
    description: str
    tags: tuple[str, ...]


def render_copy(templates: Mapping[str, str | None], values: Mapping[str, str], chorus: Copy) -> Copy:
    """Chorus's copy with each field that has a template replaced by the template's output."""
    title, description, tags = chorus.title, chorus.description, chorus.tags
    if templates.get("title_template"):
        title = render(str(templates["title_template"]), values, one_line=True)
    if templates.get("description_template"):
        description = render(str(templates["description_template"]), values)
    if templates.get("tags_template"):
        filled = render(str(templates["tags_template"]), values, one_line=True)
        tags = tuple(dict.fromkeys(t.strip() for t in filled.split(",") if t.strip()))
    return Copy(title, description, tags)


def values_of(chorus: Copy, source: Mapping[str, object]) -> dict[str, str]:
    """The variables' values: Chorus's copy and the clip's source (``source``: creator,
    source_title, source_url, language, licence, keyphrases as a list)."""
    raw = source.get("keyphrases")
    phrases = [str(p) for p in raw if str(p).strip()] if isinstance(raw, list | tuple) else []
    return {
        "title": chorus.title,
        "description": chorus.description,
        "tags": ", ".join(chorus.tags),
        "keyphrases": ", ".join(phrases),
        "hashtags": " ".join("#" + "".join(w[:1].upper() + w[1:] for w in p.split()) for p in phrases[:5]),
        "creator": str(source.get("creator") or ""),
        "source_title": str(source.get("source_title") or ""),
        "source_url": str(source.get("source_url") or ""),
        "language": str(source.get("language") or ""),
        "licence": str(source.get("licence") or ""),
    }
