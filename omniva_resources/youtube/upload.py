"""Putting a video up: the resumable, chunked upload and the extras set after it.

Uploads are resumable and chunked. The library's own retries are not used:
``next_chunk(num_retries>0)`` re-sends an already consumed stream slice (an empty
body) when used with ``MediaFileUpload``. On a retriable failure the client's retry
loop backs off and calls ``next_chunk()`` again; the library first asks the server
for the confirmed offset (``Content-Range: bytes */N``) and resumes from there.

Crash safety: the upload session is opened here (not inside ``next_chunk``) so its
URI can be handed to the caller *before* the first byte is sent; a later process
can ask the server for the confirmed offset (``query_session``) and send only the
rest.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import mimetypes
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from googleapiclient.errors import HttpError
from googleapiclient.http import MediaFileUpload

from omniva_resources.youtube.client import YouTubeClient
from omniva_resources.youtube.errors import (
    SESSION_GONE_STATUSES,
    QuotaExceededError,
    UploadSessionGone,
    YouTubeError,
    describe,
)
from omniva_resources.youtube.metadata import UploadRequest, check_request, check_video_id, video_body
from omniva_resources.youtube.quota import QuotaLedger

log = logging.getLogger(__name__)

#: YouTube requires non-final resumable chunks to be multiples of 256 KiB.
CHUNK_GRANULARITY = 256 * 1024


@dataclass(frozen=True)
class UploadResult:
    video_id: str
    status: str  # status.uploadStatus, e.g. "uploaded"
    publish_at: str | None
    privacy_status: str
    bytes_sent: int  # bytes sent by this call (the file size, less what an earlier process sent)
    attempts: int  # 1 + number of retried upload steps
    thumbnail_set: bool = False
    resumed_from: int = 0  # confirmed offset the upload resumed from (0: a new session)
    extras: dict[str, str] = field(default_factory=dict)  # thumbnail/captions/playlist -> status


class ChunkedFileUpload(MediaFileUpload):
    """MediaFileUpload whose chunks are sent as ``bytes`` rather than a stream slice.

    httplib2 silently re-sends a request once on a stale/dropped connection and
    google-auth-httplib2 re-sends after a 401 refresh; with the library's
    ``_StreamSlice`` body the resend would be empty (already consumed). With
    bytes bodies those resends carry the real data.
    """

    def has_stream(self) -> bool:
        return False


class YouTubeUploader(YouTubeClient):
    """Uploads videos (resumable, chunked, retried, resumable across processes) and reads them back.

    Not thread-safe (httplib2); use one instance per thread.
    """

    def __init__(
        self,
        api_root: str | None,
        credentials: Any,
        chunk_size: int = 4 * 1024 * 1024,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        quota: QuotaLedger | None = None,
    ) -> None:
        if chunk_size <= 0 or chunk_size % CHUNK_GRANULARITY:
            raise ValueError(
                f"chunk_size must be a positive multiple of {CHUNK_GRANULARITY}, got {chunk_size}"
            )
        super().__init__(
            api_root,
            credentials,
            max_retries=max_retries,
            backoff_base=backoff_base,
            sleep=sleep,
            quota=quota,
        )
        self.chunk_size = chunk_size

    # ---------------------------------------------------------------- session
    def _start_session(self, request: Any, size: int, what: str) -> str:
        """Open the resumable session (what ``next_chunk`` would do first) and return its URI."""
        headers = dict(request.headers)
        headers["X-Upload-Content-Type"] = request.resumable.mimetype()
        headers["X-Upload-Content-Length"] = str(size)
        headers["content-length"] = str(len(request.body or ""))

        def attempt() -> str:
            resp, content = request.http.request(
                request.uri, method=request.method, body=request.body, headers=headers
            )
            if resp.status == 200 and "location" in resp:
                return resp["location"]
            raise HttpError(resp, content, uri=request.uri)

        return self.call(attempt, what, "videos.insert")

    def query_session(self, http: Any, session_uri: str, size: int, what: str) -> tuple[int, dict | None]:
        """Ask the server how much of a resumable upload it holds (``Content-Range: bytes */size``).

        Returns ``(confirmed offset, None)`` for an open session, ``(size, video)`` when the
        upload had already finished; raises ``UploadSessionGone`` when the session is unknown.
        """
        resp, content = self.exchange(
            http,
            session_uri,
            "PUT",
            what,
            body=b"",
            headers={"Content-Range": f"bytes */{size}", "Content-Length": "0"},
        )
        if resp.status in (200, 201):
            return size, json.loads(content)
        if resp.status == 308:
            rng = resp.get("range")
            return (int(rng.rsplit("-", 1)[1]) + 1 if rng else 0), None
        if resp.status in SESSION_GONE_STATUSES:
            raise UploadSessionGone(
                f"the resumable session of {what} no longer exists on the server (HTTP {resp.status})",
                status=resp.status,
            )
        raise self._error(HttpError(resp, content, uri="<upload session>"), what)

    # ----------------------------------------------------------------- upload
    def upload(
        self,
        req: UploadRequest,
        *,
        resume_uri: str | None = None,
        on_session: Callable[[str], None] | None = None,
        extras: bool = True,
        now: dt.datetime | None = None,
    ) -> UploadResult:
        """Upload ``req.path`` as a new video; with ``resume_uri``, finish that session instead.

        ``on_session(uri)`` is called once the server has opened a new session, before any
        media byte is sent, so a caller can persist it. ``extras``: also set the thumbnail,
        captions and playlist (each failure there is logged, never raised: the video exists).
        """
        path = Path(req.path)
        if not path.is_file():
            raise FileNotFoundError(f"video file not found: {path}")
        check_request(req, now)
        body = video_body(req)
        media = ChunkedFileUpload(str(path), mimetype="video/mp4", chunksize=self.chunk_size, resumable=True)
        size = media.size()
        request = self.service.videos().insert(part="snippet,status", body=body, media_body=media)
        what = f"upload of {path.name}"

        response = None
        resumed_from = 0
        if resume_uri:
            offset, response = self.query_session(request.http, resume_uri, size, what)
            resumed_from = offset
            request.resumable_uri = resume_uri
            request.resumable_progress = offset
            log.info("YouTube upload resumes: %s at %d of %d bytes", path.name, offset, size)
        else:
            request.resumable_uri = self._start_session(request, size, what)
            if on_session is not None:
                on_session(request.resumable_uri)
            log.info("YouTube upload start: %s (%d bytes, chunk %d)", path.name, size, self.chunk_size)

        def next_chunk() -> tuple[Any, Any]:
            try:
                return request.next_chunk()
            except HttpError as exc:
                if exc.resp.status in SESSION_GONE_STATUSES:
                    raise UploadSessionGone(
                        f"the resumable session of {what} expired mid-upload (HTTP {exc.resp.status})",
                        status=exc.resp.status,
                    ) from exc
                raise

        attempts = 1

        def count_retry() -> None:
            nonlocal attempts
            attempts += 1

        while response is None:  # each chunk gets its own run of retries
            progress, response = self.call(next_chunk, what, on_retry=count_retry)
            if progress is not None:
                log.debug("YouTube upload %s: %d/%d bytes", path.name, progress.resumable_progress, size)

        video_id = check_video_id(response.get("id"), f"the answer to {what}")
        st = response.get("status", {})
        log.info("YouTube upload done: %s -> video %s", path.name, video_id)
        result = UploadResult(
            video_id=video_id,
            status=st.get("uploadStatus", "uploaded"),
            publish_at=st.get("publishAt"),
            privacy_status=st.get("privacyStatus", body["status"]["privacyStatus"]),
            bytes_sent=size - resumed_from,
            attempts=attempts,
            resumed_from=resumed_from,
        )
        if not extras:
            return result
        done = self.apply_extras(video_id, req)
        return replace(result, extras=done, thumbnail_set=done.get("thumbnail") == "done")

    # ----------------------------------------------------------------- extras
    def apply_extras(
        self, video_id: str, req: UploadRequest, already: dict[str, str] | None = None
    ) -> dict[str, str]:
        """Thumbnail, captions and playlist for an uploaded video; returns each one's status.

        Status: ``done``, ``skipped (...)``, ``deferred (quota)`` or ``failed (...)``. Entries
        in ``already`` that are done, skipped or failed are not tried again. The video
        exists by now, so a failure here is logged and reported, never raised: raising
        would make a caller retry the whole upload and duplicate the video.
        """
        already = already or {}
        out: dict[str, str] = {}
        steps: list[tuple[str, Path | str | None, Callable[[], Any]]] = [
            ("thumbnail", req.thumbnail, lambda: self.set_thumbnail(video_id, Path(req.thumbnail or ""))),
            (
                "captions",
                req.captions,
                lambda: self.insert_captions(
                    video_id, Path(req.captions or ""), req.caption_language, req.caption_name
                ),
            ),
            ("playlist", req.playlist_id, lambda: self.add_to_playlist(req.playlist_id or "", video_id)),
        ]
        for name, what, action in steps:
            before = already.get(name, "")
            if before and not before.startswith(("deferred", "pending")):
                out[name] = before
                continue
            if not what:
                out[name] = "skipped (not configured)"
                continue
            if isinstance(what, Path) and not what.is_file():
                out[name] = f"skipped (no file {what.name})"
                continue
            try:
                action()
                out[name] = "done"
            except QuotaExceededError as exc:
                out[name] = "deferred (quota)"
                log.warning("video %s: %s deferred: %s", video_id, name, exc)
            except (YouTubeError, OSError) as exc:
                out[name] = f"failed ({describe(exc)[:160]})"
                log.warning("video %s uploaded but its %s was not set: %s", video_id, name, exc)
        return out

    def set_thumbnail(self, video_id: str, image: Path) -> dict:
        """Set a custom thumbnail (JPEG/PNG, <= 2 MB) via ``thumbnails().set``."""
        image = Path(image)
        mimetype = mimetypes.guess_type(image.name)[0]
        if mimetype not in ("image/jpeg", "image/png"):
            mimetype = "application/octet-stream"
        media = MediaFileUpload(str(image), mimetype=mimetype, resumable=False)
        request = self.service.thumbnails().set(videoId=video_id, media_body=media)
        return self.execute(request, f"thumbnails.set for {video_id}", "thumbnails.set")

    def insert_captions(self, video_id: str, srt: Path, language: str = "en", name: str = "") -> dict:
        """Upload an SRT caption track (``captions().insert``, published, not a draft)."""
        media = MediaFileUpload(str(srt), mimetype="application/octet-stream", resumable=False)
        body = {"snippet": {"videoId": video_id, "language": language, "name": name, "isDraft": False}}
        request = self.service.captions().insert(part="snippet", body=body, media_body=media)
        return self.execute(request, f"captions.insert for {video_id}", "captions.insert")

    def add_to_playlist(self, playlist_id: str, video_id: str) -> dict:
        body = {
            "snippet": {
                "playlistId": playlist_id,
                "resourceId": {"kind": "youtube#video", "videoId": video_id},
            }
        }
        request = self.service.playlistItems().insert(part="snippet", body=body)
        return self.execute(request, f"playlistItems.insert of {video_id}", "playlistItems.insert")
