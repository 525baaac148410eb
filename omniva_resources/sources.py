"""Sources: one interface over every kind of creator URL.

``list_day`` gives a creator's posts of one UTC day (after the creator's rules), and what was
left out and why; ``download`` fetches one post into the media store; ``check`` lists the
first entries of any URL without downloading (``omniva sources check``). Called without
settings (the CLI), they use the ``scrape`` resource's settings from the environment. Two adapters sit
behind it: yt-dlp for everything on the web (channels, ``/@handle``, ``/shorts``, playlists,
TikTok and Instagram profiles, Twitch VODs, RSS and Atom feeds, pages with video) and a local
folder (``folder:///path``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

from omniva import source_rules
from omniva.errors import MediaError
from omniva.records import Post
from omniva.source_rules import SourceSettings
from omniva_resources import folder_source, media, scraper
from omniva_resources.resources import source_settings_from_env
from omniva_resources.source_guard import TRUSTED, SourceAccess


@dataclass(frozen=True, slots=True)
class Skipped:
    platform_post_id: str
    title: str
    reason: str


@dataclass(frozen=True, slots=True)
class Listing:
    """One creator-day: the posts to fetch, the entries left out (with why), how it was read."""

    posts: tuple[Post, ...]
    skipped: tuple[Skipped, ...] = ()
    read_as: str = "yt-dlp"
    entries_seen: int = 0
    pending_live: tuple[str, ...] = field(default=())


class SourceAdapter(Protocol):
    name: str

    def entries(
        self, creator: str, url: str, settings: SourceSettings, access: SourceAccess
    ) -> tuple[list[dict | Post], str]: ...

    def download(
        self, post: Post, dest: Path, archive: Path, settings: SourceSettings, access: SourceAccess
    ) -> Path: ...


class YtdlpAdapter:
    name = "yt-dlp"

    def entries(self, creator, url, settings, access):
        return scraper.list_entries(url, settings, f"creator {creator!r} at {url}", access)

    def download(self, post, dest, archive, settings, access):
        return scraper.download(post, dest, archive, settings, access)


class FolderAdapter:
    name = "folder"

    # A folder is on this machine: registered from the CLI, or under the API's folder root.
    def entries(self, creator, url, settings, access):
        return folder_source.list_files(creator, url, settings.folder_settle_s), "folder"

    def download(self, post, dest, archive, settings, access):
        return folder_source.copy_file(post, dest, archive)


def adapter_for(url: str) -> SourceAdapter:
    return FolderAdapter() if folder_source.is_folder_url(url) else YtdlpAdapter()


def _day_of(value: str | None) -> str | None:
    return value[:10] if value else None


# Platforms whose listings come newest first: once a few entries in a row are older than the
# day asked for, the rest are too, and nothing more needs resolving (YouTube's flat listing has
# no dates, so each undated entry costs a request).
NEWEST_FIRST = ("youtube", "tiktok", "instagram", "twitch")
OLDER_IN_A_ROW = 3  # a pinned old video may sit on top of a channel


def list_day(
    creator: str,
    url: str,
    day: date | None,
    settings: SourceSettings | None = None,
    access: SourceAccess = TRUSTED,
) -> Listing:
    """The creator's posts published on ``day`` (UTC; every day when None), after the rules.

    ``access``: the registry's ``creators.access_for`` for a registered creator (its network
    flag and credentials); the default trusts a URL the caller typed (the CLI)."""
    settings = settings or source_settings_from_env()
    rules = settings.rules
    entries, read_as = adapter_for(url).entries(creator, url, settings, access)
    newest_first = read_as == "yt-dlp" and scraper.platform_of(url) in NEWEST_FIRST
    posts: list[Post] = []
    skipped: list[Skipped] = []
    pending: list[str] = []
    older = 0
    for entry in entries:
        if isinstance(entry, Post):  # a folder lists posts directly
            if day is not None and _day_of(entry.posted_at) != day.isoformat():
                continue
            reason = _folder_rule(entry, rules)
            if reason:
                skipped.append(Skipped(entry.platform_post_id, entry.title, reason))
            else:
                posts.append(entry)
            continue
        if newest_first and day is not None and older >= OLDER_IN_A_ROW:
            break
        when = source_rules.posted_at(entry)
        if when is None or day is None or _day_of(when) == day.isoformat():
            entry = scraper.fill_in(entry, settings, rules.needs_duration, access)
            when = source_rules.posted_at(entry)
        when_day = _day_of(when)
        older = older + 1 if day is not None and when_day is not None and when_day < day.isoformat() else 0
        if day is not None and when_day != day.isoformat():
            continue  # another day (dated ones cost no request)
        post = scraper.post_from_entry(creator, entry)
        reason = entry.get("_skip") or source_rules.skip_reason(
            {**entry, "_has_cookies": bool(settings.cookies_file)}, rules
        )
        if reason:
            skipped.append(Skipped(post.platform_post_id, post.title, reason))
            if entry.get("live_status") in source_rules.UNFINISHED_LIVE:
                pending.append(post.platform_post_id)
            continue
        posts.append(post)
    return Listing(tuple(posts), tuple(skipped), read_as, len(entries), tuple(pending))


def _folder_rule(post: Post, rules: source_rules.SourceRules) -> str | None:
    """The creator's duration and kind rules on a local file (ffprobe reads its header)."""
    if not rules.needs_duration:
        return None
    try:
        facts = media.probe(Path(post.raw_metadata["path"]))
    except MediaError as exc:
        return f"not readable media ({exc})"
    return source_rules.skip_reason(
        {"url": post.url, "duration": facts.duration_s, "width": facts.width, "height": facts.height}, rules
    )


def list_posts(
    creator: str, url: str, day: date | None = None, settings: SourceSettings | None = None
) -> list[Post]:
    return list(list_day(creator, url, day, settings).posts)


def download(
    post: Post,
    dest: Path,
    archive: Path,
    settings: SourceSettings | None = None,
    access: SourceAccess = TRUSTED,
) -> Path:
    settings = settings or source_settings_from_env()
    adapter = FolderAdapter() if post.raw_metadata.get("source") == "folder" else YtdlpAdapter()
    return adapter.download(post, dest, archive, settings, access)


def check(
    url: str, limit: int = 10, settings: SourceSettings | None = None, access: SourceAccess = TRUSTED
) -> tuple[list[Post], str]:
    """The first ``limit`` entries of ``url`` (without credentials: they come in ``access``),
    dated, without downloading anything."""
    settings = settings or source_settings_from_env()
    adapter = adapter_for(url)
    entries: list[dict] | list[dict | Post]
    if isinstance(adapter, YtdlpAdapter):
        entries, read_as = scraper.list_entries(url, settings, f"source {url}", access)
    else:
        entries, read_as = adapter.entries("check", url, settings, access)
    out = []
    for entry in entries[:limit]:
        if isinstance(entry, Post):
            out.append(entry)
        else:
            out.append(scraper.post_from_entry("check", scraper.fill_in(entry, settings, False, access)))
    return out, read_as
