"""Chorus: titles, descriptions and tags for a clip, within YouTube's limits.

YouTube rejects titles over 100 characters, descriptions over 5000 bytes, the
characters ``<`` and ``>`` in either, and tag lists over 500 characters in all.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence

TITLE_MAX = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX_CHARS = 500


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("<", "").replace(">", "")).strip()


def make_title(text: str, keywords: Sequence[str], creator: str) -> str:
    """First sentence of the clip, trimmed on a word boundary, with #Shorts."""
    first = _clean(re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]).rstrip(".")
    if len(first.split()) < 3 and keywords:
        first = f"{first} — {keywords[0]}" if first else keywords[0].title()
    suffix = " #Shorts"
    room = TITLE_MAX - len(suffix)
    if len(first) > room:
        first = first[: room - 1].rsplit(" ", 1)[0] + "…"
    return (first or f"A moment from {creator}") + suffix


def make_tags(keywords: Sequence[str], creator: str) -> tuple[str, ...]:
    tags: list[str] = []
    total = 0
    for tag in [*keywords, creator, "shorts"]:
        tag = _clean(tag).lower()
        # YouTube counts a quoted tag (one with a space) with its quotes.
        cost = len(tag) + (2 if " " in tag else 0) + (1 if tags else 0)
        if not tag or tag in tags or total + cost > TAGS_MAX_CHARS or len(tags) >= 15:
            continue
        tags.append(tag)
        total += cost
    return tuple(tags)


def make_credit(
    creator: str, source_url: str, source_creator: str | None = None, license: str | None = None
) -> str:
    """Who made the original, where it is, and the licence or usage note the platform gave."""
    who = (
        creator
        if not source_creator or source_creator == creator
        else f"{_clean(source_creator)} ({creator})"
    )
    credit = f"Clip from {who}: {source_url}"
    if license:
        credit += f"\nLicence: {_clean(license)}"
    return credit


def make_description(
    text: str,
    creator: str,
    source_url: str,
    reasons: Sequence[str],
    source_creator: str | None = None,
    license: str | None = None,
) -> str:
    body = _clean(text)
    credit = make_credit(creator, source_url, source_creator, license)
    why = "Picked by Omniva: " + "; ".join(reasons) if reasons else ""
    description = "\n\n".join(p for p in (body, credit, why, "#Shorts") if p)
    encoded = description.encode()
    if len(encoded) > DESCRIPTION_MAX_BYTES:
        description = encoded[: DESCRIPTION_MAX_BYTES - 3].decode(errors="ignore") + "..."
    return description


TONES = ("plain", "energetic", "calm")


def apply_tone(title: str, tone: str) -> str:
    """The creator's voice: ``energetic`` ends on '!', ``calm`` drops shouting; within the limit."""
    base = title.removesuffix(" #Shorts").rstrip(" .!?…")
    if tone == "energetic":
        base = base + "!"
    elif tone == "calm":
        base = base if not base.isupper() else base.capitalize()
    elif tone != "plain":
        raise ValueError(f"unknown Chorus tone {tone!r}; use one of {', '.join(TONES)}")
    room = TITLE_MAX - len(" #Shorts")
    if len(base) > room:
        base = base[: room - 1].rsplit(" ", 1)[0] + "…"
    return base + " #Shorts"


def load_hook(spec: str | None):
    """An optional ``module:function`` (e.g. a language model wrapper) that proposes copy.

    It is called as ``hook(text=..., keywords=..., creator=..., tone=...)`` and returns a dict
    with any of ``title``, ``description``, ``tags``; Chorus still enforces YouTube's limits.
    """
    if not spec:
        return None
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def compose(
    text: str,
    keywords: Sequence[str],
    creator: str,
    source_url: str,
    reasons: Sequence[str],
    tone: str = "plain",
    hook=None,
    source_creator: str | None = None,
    license: str | None = None,
) -> tuple[str, str, tuple[str, ...], str]:
    """(title, description, tags, who wrote it): deterministic by default, the hook if given.
    The source credit (creator, URL, licence) is always Chorus's own, never the hook's."""
    title = apply_tone(make_title(text, keywords, creator), tone)
    description = make_description(text, creator, source_url, reasons, source_creator, license)
    tags = make_tags(keywords, creator)
    source = "chorus (deterministic)"
    if hook is not None:
        proposal = hook(text=text, keywords=list(keywords), creator=creator, tone=tone) or {}
        if proposal.get("title"):
            title = apply_tone(make_title(str(proposal["title"]), keywords, creator), "plain")
        if proposal.get("description"):
            description = make_description(
                str(proposal["description"]), creator, source_url, reasons, source_creator, license
            )
        if proposal.get("tags"):
            tags = make_tags([str(t) for t in proposal["tags"]], creator)
        source = "chorus hook"
    return title, description, tags, source
