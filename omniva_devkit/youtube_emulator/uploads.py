"""The resumable ``videos.insert`` protocol, as google-api-python-client drives it.

* ``POST /upload/youtube/v3/videos?uploadType=resumable&part=...`` with the
  JSON metadata body -> ``200`` + ``Location: <session uri>``.
* ``PUT <session uri>`` with ``Content-Range: bytes a-b/total`` -> ``308`` with
  ``Range: bytes=0-<last confirmed byte>`` until complete, then ``200`` with the
  video resource.
* ``PUT <session uri>`` with ``Content-Range: bytes */total`` and an empty body
  is a status query -> ``308`` with the confirmed ``Range`` (none when nothing is
  confirmed yet), or ``200`` + resource when the upload already finished.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import secrets

from omniva_devkit.youtube_emulator.errors import ApiError, required_parts
from omniva_devkit.youtube_emulator.store import Store, now_rfc3339

log = logging.getLogger(__name__)

#: Non-final chunks of a resumable upload must be multiples of this.
CHUNK_GRANULARITY = 256 * 1024
_CONTENT_RANGE_RE = re.compile(r"^bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)$")
_PRIVACY_VALUES = ("private", "public", "unlisted")


def publish_time(status: dict) -> dt.datetime | None:
    """A video status's ``publishAt`` as YouTube checks it: only for a private video, a valid
    RFC 3339 time (None without one)."""
    if not status.get("publishAt"):
        return None
    if status.get("privacyStatus") != "private":
        raise ApiError(
            400,
            "The request metadata specifies a scheduled-publishing time, but the video's privacy status is not private.",
            "invalidPublishAt",
            "youtube.video",
        )
    try:
        return dt.datetime.fromisoformat(str(status["publishAt"]).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(400, "The publishAt time is invalid.", "invalidPublishAt", "youtube.video") from exc


def insert_start(store: Store, query: dict[str, str], headers: dict[str, str], body: bytes, base: str) -> str:
    """Check the metadata as YouTube would, charge the insert, open a session; its URI under ``base``."""
    if query.get("uploadType") != "resumable":
        raise ApiError(400, "Only uploadType=resumable is supported by the emulator.", "badRequest")
    parts = required_parts(query)
    try:
        meta = json.loads(body or b"{}")
    except ValueError as exc:
        raise ApiError(400, f"Request body is not valid JSON: {exc}", "parseError") from exc
    snippet = dict(meta.get("snippet") or {})
    status = dict(meta.get("status") or {})
    title = snippet.get("title", "")
    if not title or len(title) > 100:
        raise ApiError(
            400, "The request metadata specifies an invalid video title.", "invalidTitle", "youtube.video"
        )
    if len(snippet.get("description", "")) > 5000:
        raise ApiError(
            400,
            "The request metadata specifies an invalid video description.",
            "invalidDescription",
            "youtube.video",
        )
    privacy = status.setdefault("privacyStatus", "public")
    if privacy not in _PRIVACY_VALUES:
        raise ApiError(400, f"Invalid privacyStatus {privacy!r}.", "invalidVideoMetadata", "youtube.video")
    publish_time(status)
    total = headers.get("x-upload-content-length")
    store.count_upload()  # the channel's daily upload limit is checked before the quota
    store.charge("videos.insert")
    sid = secrets.token_urlsafe(24)
    with store.lock:
        store.sessions[sid] = {
            "parts": sorted(parts),
            "snippet": snippet,
            "status": status,
            "total": int(total) if total and total.isdigit() else None,
            "mimetype": headers.get("x-upload-content-type", "video/*"),
            "created": now_rfc3339(),
        }
        store.part_path(sid).write_bytes(b"")
        store.save()
    return f"{base}upload/youtube/v3/videos?uploadType=resumable&upload_id={sid}"


def insert_chunk(
    store: Store, sid: str, content_range: str | None, body: bytes
) -> tuple[int, dict[str, str], dict | None]:
    """One PUT to a session (a chunk or a status query): (status, extra headers, json body or None)."""
    with store.lock:
        session = store.sessions.get(sid)
        if session is None:
            done = _finished_by_session(store, sid)
            if done is not None:
                return 200, {}, done
            raise ApiError(404, "The upload session was not found or has expired.", "notFound")
        part = store.part_path(sid)
        received = part.stat().st_size if part.exists() else 0
        m = _CONTENT_RANGE_RE.match((content_range or "").strip())
        if content_range and not m:
            raise ApiError(400, f"Invalid Content-Range header: {content_range!r}", "badContent")
        total: int | None = session["total"]
        if m and m.group(3) != "*":
            claimed = int(m.group(3))
            if total is not None and claimed != total:
                raise ApiError(
                    400,
                    f"Content-Range total {claimed} does not match the declared upload length {total}.",
                    "badContent",
                )
            total = claimed
        if m is None or m.group(1) is None:
            # Status query (or an empty final PUT).
            if body:
                raise ApiError(400, "Content-Range 'bytes */N' must not carry data.", "badContent")
            if total is not None and received == total:
                session["total"] = total
                return 200, {}, _finalize(store, sid, session)
            return 308, _range_header(received), None
        start, end = int(m.group(1)), int(m.group(2))
        if end < start or len(body) != end - start + 1:
            raise ApiError(
                400,
                f"Content-Range {content_range!r} does not match the {len(body)} bytes received.",
                "badContent",
            )
        if total is not None and end >= total:
            raise ApiError(400, "Content-Range ends past the total upload length.", "badContent")
        if start > received:
            # A gap: tell the client what we really have.
            return 308, _range_header(received), None
        is_last = total is not None and end + 1 == total
        if not is_last and (end + 1) % CHUNK_GRANULARITY != 0:
            raise ApiError(
                400,
                f"Non-final chunks must end on a multiple of {CHUNK_GRANULARITY} bytes.",
                "badContent",
            )
        new = body[received - start :]
        if new:
            with part.open("ab") as fh:
                fh.write(new)
        received = end + 1 if end + 1 > received else received
        session["total"] = total
        if total is not None and received == total:
            return 200, {}, _finalize(store, sid, session)
        store.save()
        return 308, _range_header(received), None


def _range_header(received: int) -> dict[str, str]:
    return {"Range": f"bytes=0-{received - 1}"} if received > 0 else {}


def _finished_by_session(store: Store, sid: str) -> dict | None:
    for video in store.videos.values():
        if video.get("_session") == sid:
            return store.render(video, set(video.get("_parts", ["snippet", "status"])))
    return None


def _finalize(store: Store, sid: str, session: dict) -> dict:
    part = store.part_path(sid)
    size = part.stat().st_size
    if session["total"] is not None and size != session["total"]:
        raise ApiError(400, f"Upload incomplete: {size} of {session['total']} bytes.", "badContent")
    vid = store.new_video_id()
    digest = hashlib.sha256(part.read_bytes()).hexdigest()
    os.replace(part, store.video_path(vid))
    snippet = dict(session["snippet"])
    snippet.setdefault("description", "")
    snippet.setdefault("categoryId", "22")
    snippet.update(
        publishedAt=now_rfc3339(),
        channelId=store.channel_id,
        channelTitle=store.channel_title,
        liveBroadcastContent="none",
        localized={"title": snippet.get("title", ""), "description": snippet.get("description", "")},
    )
    status = dict(session["status"])
    status.setdefault("license", "youtube")
    status.setdefault("embeddable", True)
    status.setdefault("publicStatsViewable", True)
    status["uploadStatus"] = "uploaded"
    if "selfDeclaredMadeForKids" in status:
        status["madeForKids"] = bool(status["selfDeclaredMadeForKids"])
    video = {
        "kind": "youtube#video",
        "etag": hashlib.sha1(f"{vid}:{digest}".encode()).hexdigest()[:27],
        "id": vid,
        "snippet": snippet,
        "status": status,
        "fileDetails": {"fileSize": str(size), "fileType": "video", "sha256": digest},
        "_session": sid,
        "_parts": session["parts"],
        "_seq": max((v.get("_seq", 0) for v in store.videos.values()), default=0) + 1,
    }
    store.videos[vid] = video
    store.save_video(vid)
    del store.sessions[sid]
    store.save()
    log.info("emulator stored video %s (%d bytes)", vid, size)
    return store.render(video, set(session["parts"]))
