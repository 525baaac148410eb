"""A folder of the user's own recordings as a creator: every media file is a post.

A post is dated by the file's modification time (UTC) and keyed by a hash of its path
relative to the folder, its size and its mtime, so the same file is one post forever and a
replaced file is a new one. Files still being written (modified in the last few seconds,
``SourceSettings.folder_settle_s``), hidden files and partial downloads are left for later.
"""

from __future__ import annotations

import hashlib
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

from omniva.errors import DeadLinkError, SourceError
from omniva.records import Post
from omniva.source_rules import MEDIA_EXTENSIONS, video_key_for
from omniva_resources import media

SCHEME = "folder://"


def is_folder_url(url: str) -> bool:
    return url.startswith(SCHEME) or url.startswith("/")


def folder_url(path: str | Path) -> str:
    """``folder:///absolute/path`` for a folder given as a path or a folder URL."""
    if str(path).startswith(SCHEME):
        path = folder_path(str(path))
    return SCHEME + urllib.parse.quote(str(Path(path).expanduser().resolve()))


def folder_path(url: str) -> Path:
    if url.startswith(SCHEME):
        return Path(urllib.parse.unquote(url[len(SCHEME) :]))
    return Path(url)


def _file_id(rel: str, size: int, mtime_ns: int) -> str:
    return "file-" + hashlib.sha1(f"{rel}|{size}|{mtime_ns}".encode()).hexdigest()[:16]


def list_files(creator: str, url: str, settle_s: float = 5.0) -> list[Post]:
    """Every media file under the folder not modified in the last ``settle_s``, oldest first."""
    root = folder_path(url)
    if not root.is_dir():
        raise SourceError(f"creator {creator!r}: folder {root} does not exist or is not a folder")
    now = time.time()
    posts = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in Path(rel).parts) or not path.is_file():
            continue
        if path.suffix.lower() not in MEDIA_EXTENSIONS:
            continue
        st = path.stat()
        if now - st.st_mtime < settle_s:
            continue
        pid = _file_id(rel, st.st_size, st.st_mtime_ns)
        posted = datetime.fromtimestamp(st.st_mtime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        posts.append(
            Post(
                creator=creator,
                platform_post_id=pid,
                url=path.as_uri(),
                title=path.stem,
                posted_at=posted,
                video_key=video_key_for(creator, pid),
                raw_metadata={
                    "source": "folder",
                    "path": str(path),
                    "relative_path": rel,
                    "size": st.st_size,
                    "mtime_ns": st.st_mtime_ns,
                    "uploader": creator,
                },
            )
        )
    return sorted(posts, key=lambda p: (p.posted_at or "", p.url))


def copy_file(post: Post, dest: Path, archive: Path) -> Path:
    """Copy the post's file into the media store (the folder stays untouched)."""
    src = Path(post.raw_metadata.get("path") or urllib.parse.unquote(urllib.parse.urlparse(post.url).path))
    if not src.exists():
        raise DeadLinkError(
            f"post {post.platform_post_id!r} of {post.creator}: {src} is gone from the folder"
        )
    st = src.stat()
    if st.st_size != post.raw_metadata.get("size") or st.st_mtime_ns != post.raw_metadata.get("mtime_ns"):
        raise SourceError(
            f"post {post.platform_post_id!r} of {post.creator}: {src} changed after it was listed; "
            "the next listing makes the new version a post of its own"
        )
    media.copy_atomic(src, dest)
    archive.parent.mkdir(parents=True, exist_ok=True)
    with open(archive, "a") as fh:
        fh.write(f"folder {post.platform_post_id}\n")
    return dest


def days_digest(creator: str, url: str, settle_s: float = 5.0) -> dict[str, str]:
    """Per day (UTC), a digest of the day's file ids: it changes when a file is dropped there."""
    by_day: dict[str, list[str]] = {}
    for post in list_files(creator, url, settle_s):
        by_day.setdefault((post.posted_at or "")[:10], []).append(post.platform_post_id)
    return {day: hashlib.sha1("|".join(sorted(ids)).encode()).hexdigest()[:12] for day, ids in by_day.items()}
