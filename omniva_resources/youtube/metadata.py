"""What a video is uploaded with: the request, YouTube's limits, and the snippet/status body.

``check_request`` lists every reason YouTube would refuse the metadata before any
network call, so a bad title costs no quota and no upload.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omniva_resources.youtube.errors import MetadataError, iso

log = logging.getLogger(__name__)

MAX_TITLE_CHARS = 100
MAX_DESCRIPTION_BYTES = 5000
MAX_TAGS_CHARS = 500
PRIVACY_VALUES = ("public", "unlisted", "private")
_VIDEO_ID_RE = re.compile(r"^[A-Za-z0-9_-]{11}$")
_LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_PLAYLIST_ID_RE = re.compile(r"^[A-Za-z0-9_-]{2,64}$")
_RFC3339_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class UploadRequest:
    path: Path
    title: str
    description: str
    tags: tuple[str, ...]
    category_id: str = "22"
    privacy_status: str = "private"
    publish_at: str | None = None  # RFC3339, e.g. "2030-01-01T17:00:00Z": uploads private, scheduled
    made_for_kids: bool = False
    thumbnail: Path | None = None
    contains_synthetic_media: bool | None = None  # None: not declared
    captions: Path | None = None  # an SRT file; a missing file is skipped
    caption_language: str = "en"
    caption_name: str = ""
    playlist_id: str | None = None
    marker: str | None = None  # a tag identifying the clip on the channel (exactly-once look-up)
    language: str | None = None  # BCP-47: the title's and the speech's language

    @property
    def all_tags(self) -> tuple[str, ...]:
        tags = tuple(self.tags)
        if self.marker and self.marker not in tags:
            tags += (self.marker,)
        return tags


def clip_marker(clip_id: str) -> str:
    """The tag that marks a clip's video on the channel (tags are not shown to viewers)."""
    return "omniva-" + re.sub(r"[^0-9a-f]", "", clip_id.lower())[:20]


def _tags_length(tags: Sequence[str]) -> int:
    # YouTube counts the commas between tags, and quotes around a tag containing a space.
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(len(tags) - 1, 0)


def parse_rfc3339(value: str) -> dt.datetime | None:
    """The timestamp, or None when ``value`` is not RFC3339 as YouTube accepts it."""
    if not _RFC3339_RE.match(value or ""):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def metadata_violations(req: UploadRequest, now: dt.datetime | None = None) -> list[str]:
    """Every reason YouTube would refuse this upload's metadata (empty: valid)."""
    now = now or dt.datetime.now(dt.UTC)
    out: list[str] = []
    title = req.title or ""
    if not title.strip():
        out.append("title is empty (YouTube needs 1 to 100 characters)")
    elif len(title) > MAX_TITLE_CHARS:
        out.append(f"title is {len(title)} characters (at most {MAX_TITLE_CHARS})")
    if "<" in title or ">" in title:
        out.append("title contains '<' or '>' (not allowed)")
    description = req.description or ""
    size = len(description.encode("utf-8"))
    if size > MAX_DESCRIPTION_BYTES:
        out.append(f"description is {size} bytes in UTF-8 (at most {MAX_DESCRIPTION_BYTES})")
    if "<" in description or ">" in description:
        out.append("description contains '<' or '>' (not allowed)")
    tags = req.all_tags
    for i, tag in enumerate(tags):
        if not tag.strip():
            out.append(f"tag {i + 1} is empty")
        elif "<" in tag or ">" in tag:
            out.append(f"tag {tag!r} contains '<' or '>' (not allowed)")
    total = _tags_length(tags)
    if total > MAX_TAGS_CHARS:
        out.append(f"tags take {total} characters counting separators and quotes (at most {MAX_TAGS_CHARS})")
    if req.privacy_status not in PRIVACY_VALUES:
        out.append(f"privacy status {req.privacy_status!r} is not one of {', '.join(PRIVACY_VALUES)}")
    if req.publish_at is not None:
        at = parse_rfc3339(req.publish_at)
        if at is None or at.tzinfo is None:
            out.append(f"publishAt {req.publish_at!r} is not an RFC3339 timestamp with a time zone")
        elif at <= now:
            out.append(f"publishAt {req.publish_at} is not in the future (now {iso(now)})")
    if not str(req.category_id).isdigit():
        out.append(f"category id {req.category_id!r} is not a number")
    if req.captions is not None and not _LANGUAGE_RE.match(req.caption_language or ""):
        out.append(f"caption language {req.caption_language!r} is not a BCP-47 language tag")
    if req.language is not None and not _LANGUAGE_RE.match(req.language):
        out.append(f"language {req.language!r} is not a BCP-47 language tag")
    if req.playlist_id is not None and not _PLAYLIST_ID_RE.match(req.playlist_id):
        out.append(f"playlist id {req.playlist_id!r} is not a YouTube playlist id")
    return out


def check_request(req: UploadRequest, now: dt.datetime | None = None) -> None:
    """Raise ``MetadataError`` listing every violation; called before any network call."""
    problems = metadata_violations(req, now)
    if problems:
        raise MetadataError(Path(req.path).name, problems)


def check_video_id(video_id: object, where: str = "YouTube") -> str:
    if not isinstance(video_id, str) or not _VIDEO_ID_RE.match(video_id):
        raise MetadataError(where, [f"video id {video_id!r} is not 11 characters of [A-Za-z0-9_-]"])
    return video_id


def _normalize_publish_at(value: str) -> str:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"publish_at must be an RFC3339 timestamp, got {value!r}") from exc
    if parsed.tzinfo is None:
        raise ValueError(f"publish_at must carry a timezone (UTC 'Z'), got {value!r}")
    return iso(parsed)


def video_body(req: UploadRequest) -> dict[str, Any]:
    """The ``snippet`` and ``status`` parts ``videos.insert`` is sent."""
    status: dict[str, Any] = {
        "privacyStatus": req.privacy_status,
        "selfDeclaredMadeForKids": bool(req.made_for_kids),
    }
    if req.contains_synthetic_media is not None:
        status["containsSyntheticMedia"] = bool(req.contains_synthetic_media)
    if req.publish_at:
        if req.privacy_status != "private":
            log.info("publish_at set: uploading %s as private (scheduled)", Path(req.path).name)
        status["privacyStatus"] = "private"  # YouTube only schedules private videos
        status["publishAt"] = _normalize_publish_at(req.publish_at)
    snippet: dict[str, Any] = {
        "title": req.title,
        "description": req.description,
        "tags": list(req.all_tags),
        "categoryId": req.category_id,
    }
    if req.language:  # Chorus writes in the language spoken: both are the clip's language
        snippet["defaultLanguage"] = req.language
        snippet["defaultAudioLanguage"] = req.language
    return {"snippet": snippet, "status": status}
