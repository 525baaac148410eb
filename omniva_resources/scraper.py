"""The one place that calls yt-dlp: list a creator's posts, download one post.

Listing uses flat extraction (no media fetched); downloading writes into a temporary
folder and moves the finished file into the media store, and yt-dlp's download
archive records every id so the same post is never fetched twice.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import yt_dlp
from yt_dlp.utils import DownloadError, unsmuggle_url

from omniva.errors import DeadLinkError, SourceError, TransientSourceError
from omniva.records import Post

FORMAT = "bv*[height<=1080]+ba/b[height<=1080]/bv*+ba/b"


def platform_of(url: str) -> str:
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


class _YtdlpLog:
    """yt-dlp prints errors and tracebacks to stderr even when quiet; we raise typed
    errors instead, so its messages go to Python logging at debug level."""

    def __init__(self) -> None:
        self.log = logging.getLogger("omniva.yt_dlp")

    def debug(self, msg: str) -> None:
        self.log.debug(msg)

    info = warning = error = debug


def _options(**extra) -> dict:
    opts = {
        "logger": _YtdlpLog(),
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "socket_timeout": 20,
        "retries": 3,
        "extractor_retries": 2,
    }
    opts.update(extra)
    return opts


def _classify(exc: Exception, what: str) -> SourceError:
    text = str(exc)
    if re.search(r"HTTP Error (404|410)|Unable to download webpage: .*(404|410)|Not Found", text):
        return DeadLinkError(f"{what}: the link is dead ({_short(text)}). Fix or remove the post.")
    if re.search(r"HTTP Error (429|5\d\d)|timed out|Connection (refused|reset)|Temporary failure", text):
        return TransientSourceError(f"{what}: the source did not answer ({_short(text)}); retry later.")
    if re.search(r"[Pp]rivate|members-only|age|geo|not available in your country|removed", text):
        return SourceError(f"{what}: not downloadable ({_short(text)}).")
    return SourceError(f"{what}: yt-dlp could not read it ({_short(text)}). Check the URL.")


def _short(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text).replace("ERROR: ", "").strip()[:300]


def list_posts(creator: str, url: str, day: date | None = None) -> list[Post]:
    """Posts in the creator's listing, optionally only those published on ``day`` (UTC)."""
    try:
        with yt_dlp.YoutubeDL(_options(extract_flat="in_playlist", skip_download=True)) as ydl:
            info = ydl.extract_info(url, download=False)
    except DownloadError as exc:
        raise _classify(exc, f"creator {creator!r} at {url}") from exc
    posts = []
    for entry in _entries(info):
        post = _post_from_entry(creator, entry)
        if day is None or (post.posted_at and post.posted_at[:10] == day.isoformat()):
            posts.append(post)
    return posts


def _entries(info: dict) -> Iterator[dict]:
    if info.get("_type") in ("playlist", "multi_video"):
        for entry in info.get("entries") or []:
            if entry:
                yield from _entries(entry)
    else:
        yield info


def _post_from_entry(creator: str, entry: dict) -> Post:
    url = entry.get("webpage_url") or entry.get("url") or ""
    plain_url, smuggled = unsmuggle_url(url, {})
    platform_id = str(smuggled.get("force_videoid") or entry.get("id") or plain_url)
    stamp = entry.get("timestamp") or entry.get("release_timestamp")
    if stamp:
        posted_at = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    elif entry.get("upload_date"):
        d = entry["upload_date"]
        posted_at = f"{d[:4]}-{d[4:6]}-{d[6:8]}T00:00:00Z"
    else:
        posted_at = None
    raw = {"ytdlp_url": url} | {
        k: entry.get(k)
        for k in (
            "title",
            "description",
            "duration",
            "view_count",
            "like_count",
            "comment_count",
            "tags",
            "license",
            "uploader",
            "channel",
            "ie_key",
            "live_status",
        )
        if entry.get(k) is not None
    }
    return Post(
        creator=creator,
        platform_post_id=platform_id,
        url=plain_url,
        title=entry.get("title") or platform_id,
        posted_at=posted_at,
        video_key=video_key_for(creator, platform_id),
        raw_metadata=raw,
    )


def download(post: Post, dest: Path, archive: Path) -> Path:
    """Download ``post`` to exactly ``dest`` (MP4 where the source allows)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    archive.parent.mkdir(parents=True, exist_ok=True)
    what = f"post {post.platform_post_id!r} of {post.creator} ({post.url})"
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".download-") as tmp:
        # First with the archive (never fetch twice). If the archive says "done" but the
        # media store lost the file, the caller asked for it explicitly: fetch once more.
        for use_archive in (True, False):
            opts = _options(
                outtmpl=str(Path(tmp) / "media.%(ext)s"),
                format=FORMAT,
                merge_output_format="mp4",
                overwrites=True,
            )
            if use_archive:
                opts["download_archive"] = str(archive)
            try:
                with yt_dlp.YoutubeDL(opts) as ydl:
                    ydl.extract_info(post.raw_metadata.get("ytdlp_url") or post.url, download=True)
            except DownloadError as exc:
                raise _classify(exc, what) from exc
            files = [
                p for p in Path(tmp).iterdir() if p.is_file() and not p.name.endswith((".part", ".ytdl"))
            ]
            if files:
                break
        if not files:
            raise SourceError(f"{what}: yt-dlp produced no file")
        shutil.move(str(max(files, key=lambda p: p.stat().st_size)), dest)
    return dest


def ytdlp_version() -> str:
    return yt_dlp.version.__version__
