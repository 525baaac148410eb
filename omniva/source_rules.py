"""Pure rules for sources: which listed entries become posts, how long to back off, how to
read an Atom feed or a page of links, and what a "this video is unavailable" page means.

No network and no yt-dlp here (``omniva_resources/scraper.py`` calls those); everything
takes plain values so it is tested directly.
"""

from __future__ import annotations

import hashlib
import html
import random
import re
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

# YouTube calls a vertical video of at most three minutes a Short.
SHORTS_MAX_S = 180.0
KINDS = ("any", "shorts", "long")
MEDIA_EXTENSIONS = (".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".mpg", ".mpeg", ".ts", ".flv", ".ogv")
# Seconds between two requests to one platform (all processes together); override with
# SourceSettings.min_interval_s or .platform_interval_s (the ``scrape`` resource).
PLATFORM_INTERVAL_S = {
    "youtube": 1.0,
    "tiktok": 2.0,
    "instagram": 3.0,
    "twitch": 1.0,
    "other": 0.0,
    "folder": 0.0,
}
# Live streams and premieres are skipped until they are over and processed.
UNFINISHED_LIVE = ("is_live", "is_upcoming", "post_live")


def platform_of(url: str) -> str:
    if url.startswith("folder://") or url.startswith("/"):
        return "folder"
    host = re.sub(r"^https?://(www\.|m\.)?", "", url.lower()).split("/")[0]
    for name in ("youtube", "tiktok", "instagram", "twitch"):
        if name in host or (name == "youtube" and host == "youtu.be"):
            return name
    return "other"


def video_key_for(creator: str, platform_post_id: str) -> str:
    """Our own stable partition key: yt-dlp's ids for plain pages are positional."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", platform_post_id).strip("-")[:40]
    digest = hashlib.sha1(platform_post_id.encode()).hexdigest()[:8]
    return f"{creator}-{slug}-{digest}" if slug else f"{creator}-{digest}"


@dataclass(frozen=True, slots=True)
class SourceRules:
    """Per-creator rules on what counts as a post worth fetching."""

    min_duration_s: float | None = None
    max_duration_s: float | None = None
    kind: str = "any"  # any | shorts (only Shorts) | long (no Shorts)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind {self.kind!r}: use one of {', '.join(KINDS)}")

    @property
    def needs_duration(self) -> bool:
        return self.min_duration_s is not None or self.max_duration_s is not None or self.kind != "any"

    def as_dict(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in (
                ("min_duration_s", self.min_duration_s),
                ("max_duration_s", self.max_duration_s),
                ("kind", self.kind),
            )
            if v not in (None, "any")
        }


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """How to reach one creator. ``cookies_file`` and ``proxy`` are secrets: never logged,
    never in metadata (``repr`` hides them)."""

    cookies_file: str | None = field(default=None, repr=False)
    proxy: str | None = field(default=None, repr=False)
    rules: SourceRules = SourceRules()
    min_interval_s: float | None = None  # None: the platform's default
    max_retries: int = 2
    backoff_s: float = 1.0
    max_wait_s: float = 60.0
    platform_interval_s: Mapping[str, float] = field(default_factory=dict)  # beats min_interval_s
    ratelimit: str | None = None  # download bytes per second, e.g. "5M"
    max_entries: int = 500  # a listing reads at most this many entries
    folder_settle_s: float = 5.0  # a folder's file modified more recently is still being written

    def interval_for(self, platform: str) -> float:
        if platform in self.platform_interval_s:
            return self.platform_interval_s[platform]
        if self.min_interval_s is not None:
            return self.min_interval_s
        return PLATFORM_INTERVAL_S.get(platform, 0.0)


def is_short(
    url: str, duration_s: float | None, width: int | None = None, height: int | None = None
) -> bool | None:
    """True/False when it can be told, None when it cannot (no duration, no /shorts/ URL)."""
    if "/shorts/" in url:
        return True
    if duration_s is None:
        return None
    if duration_s > SHORTS_MAX_S:
        return False
    if width and height:
        return height >= width
    return True


def skip_reason(entry: dict[str, Any], rules: SourceRules) -> str | None:
    """Why a listed entry (a yt-dlp info dict or alike) is not a post to fetch, or None."""
    live = entry.get("live_status")
    if live in UNFINISHED_LIVE:
        what = "premiere" if live == "is_upcoming" else "live stream"
        return f"{what} not finished ({live}); listed again once it is over"
    if entry.get("availability") in ("subscriber_only", "premium_only", "needs_auth") and not entry.get(
        "_has_cookies"
    ):
        return f"availability {entry['availability']}: needs the creator's cookies file"
    duration = entry.get("duration")
    duration = float(duration) if duration is not None else None
    if duration is not None:
        if rules.min_duration_s is not None and duration < rules.min_duration_s:
            return f"{duration:.0f} s is shorter than the minimum {rules.min_duration_s:.0f} s"
        if rules.max_duration_s is not None and duration > rules.max_duration_s:
            return f"{duration:.0f} s is longer than the maximum {rules.max_duration_s:.0f} s"
    if rules.kind != "any":
        short = is_short(
            str(entry.get("url") or entry.get("webpage_url") or ""),
            duration,
            entry.get("width"),
            entry.get("height"),
        )
        if short is True and rules.kind == "long":
            return "a Short, and this creator is long-form only"
        if short is False and rules.kind == "shorts":
            return "not a Short, and this creator is Shorts only"
    return None


def posted_at(entry: dict[str, Any]) -> str | None:
    """ISO 8601 UTC from an info dict's ``timestamp`` / ``release_timestamp`` / ``upload_date``."""
    stamp = entry.get("timestamp") or entry.get("release_timestamp")
    if stamp:
        return datetime.fromtimestamp(float(stamp), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    d = entry.get("upload_date") or entry.get("release_date")
    if d and re.fullmatch(r"\d{8}", str(d)):
        return f"{d[:4]}-{d[4:6]}-{d[6:8]}T00:00:00Z"
    return None


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def backoff_delay(attempt: int, retry_after: float | None, base_s: float, max_wait_s: float) -> float:
    """The wait before retry number ``attempt + 1``: the server's Retry-After when it gave
    one, else exponential with jitter; never more than ``max_wait_s``."""
    if retry_after is not None:
        return min(max_wait_s, retry_after)
    return min(max_wait_s, base_s * 2.0**attempt * (1 + random.uniform(-0.2, 0.2)))  # noqa: S311 - jitter


_ATOM = "{http://www.w3.org/2005/Atom}"


def is_atom(document: bytes) -> bool:
    return b"http://www.w3.org/2005/Atom" in document[:2000] and b"<feed" in document[:2000]


def parse_atom(document: bytes, base_url: str) -> list[dict[str, Any]]:
    """Entries of an Atom feed as info-dict-like records (yt-dlp does not enumerate Atom).

    The entry URL is its enclosure when there is one, else its alternate link (a page
    yt-dlp downloads from). ``rights`` is the feed's licence statement."""
    root = ET.fromstring(document)  # noqa: S314 - a feed we chose to read, no entity expansion in ET
    feed_rights = (root.findtext(f"{_ATOM}rights") or "").strip()
    feed_author = (root.findtext(f"{_ATOM}author/{_ATOM}name") or "").strip()
    out = []
    for entry in root.iter(f"{_ATOM}entry"):
        links = {link.get("rel", "alternate"): link.get("href") for link in entry.iter(f"{_ATOM}link")}
        href = links.get("enclosure") or links.get("alternate")
        if not href:
            continue
        url = urllib.parse.urljoin(base_url, href)
        when = (entry.findtext(f"{_ATOM}published") or entry.findtext(f"{_ATOM}updated") or "").strip()
        stamp = _iso_timestamp(when)
        record = {
            "id": (entry.findtext(f"{_ATOM}id") or url).strip(),
            "title": (entry.findtext(f"{_ATOM}title") or "").strip() or url.rsplit("/", 1)[-1],
            "url": url,
            "timestamp": stamp,
            "description": (entry.findtext(f"{_ATOM}summary") or "").strip() or None,
            "license": (entry.findtext(f"{_ATOM}rights") or "").strip() or feed_rights or None,
            "uploader": (entry.findtext(f"{_ATOM}author/{_ATOM}name") or "").strip() or feed_author or None,
            "ie_key": "Atom",
        }
        out.append({k: v for k, v in record.items() if v is not None})
    return out


def _iso_timestamp(text: str) -> float | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


_HREF = re.compile(r"""<a\b[^>]*?\bhref\s*=\s*(["'])(.*?)\1""", re.I | re.S)


def page_links(document: str, page_url: str) -> list[str]:
    """Links on a plain page that may lead to a video: same site, not the page itself, not
    a feed, stylesheet, image or fragment. In page order, each once."""
    base = urllib.parse.urlparse(page_url)
    seen: dict[str, None] = {}
    for _, href in _HREF.findall(document):
        href = html.unescape(href.strip())
        if not href or href.startswith(("#", "mailto:", "javascript:")):
            continue
        url = urllib.parse.urljoin(page_url, href).split("#", 1)[0]
        parts = urllib.parse.urlparse(url)
        if parts.scheme not in ("http", "https") or parts.netloc != base.netloc:
            continue
        if url.rstrip("/") == page_url.rstrip("/") or parts.path.rstrip("/") in ("", base.path.rstrip("/")):
            continue
        if parts.path.lower().endswith(
            (".xml", ".rss", ".atom", ".css", ".js", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico")
        ):
            continue
        seen.setdefault(url)
    return list(seen)


# What a platform (or an ordinary site) says when a video cannot be had; first match wins.
_UNAVAILABLE = (
    (
        "members-only",
        r"members[- ]only|available to this channel'?s members|join this channel to get access|subscriber[- ]only",
    ),
    (
        "age-gated",
        r"sign in to confirm your age|age[- ]restricted|age[- ]gated|inappropriate for some users|confirm your age",
    ),
    (
        "geo-blocked",
        r"available in your country|not available (from|in) your (region|location|country)|geo[- ]?restrict|geo[- ]?blocked|blocked in your country",
    ),
    (
        "private",
        r"\bprivate video\b|this video is private|video (is|has been made) private|account is private|this account is private",
    ),
    (
        "removed",
        r"has been removed|has been deleted|no longer available|video unavailable|account (has been )?terminated|this video (does not|doesn't) exist",
    ),
    (
        "login-required",
        r"login required|sign in to (view|watch|continue)|requires? (a )?log ?in|use --cookies|cookies-from-browser",
    ),
)


def unavailable_reason(text: str) -> str | None:
    """``private``, ``removed``, ``geo-blocked``, ``age-gated``, ``members-only``,
    ``login-required`` when ``text`` (an error message or a page) says so, else None."""
    lowered = re.sub(r"<[^>]+>", " ", text).lower()
    for reason, pattern in _UNAVAILABLE:
        if re.search(pattern, lowered):
            return reason
    return None


HINTS = {
    "private": "Only the creator can change that; remove the post or wait for it to be public.",
    "removed": "The creator or the platform took it down; nothing to fetch.",
    "geo-blocked": "Set OMNIVA_PROXY to a proxy in a country where it is available, then release the partition.",
    "age-gated": "Give the creator a cookies file of a signed-in, age-verified account (`omniva creators add NAME URL --cookies FILE`), then release the partition.",
    "members-only": "Give the creator a cookies file of an account with a membership (`--cookies FILE`), then release the partition.",
    "login-required": "Give the creator a cookies file of a signed-in account (`--cookies FILE`), then release the partition.",
}
