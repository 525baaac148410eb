"""The one place in Omniva that talks to YouTube (Data API v3).

Uses the real ``google-api-python-client``. The service is built from the
discovery document shipped inside that package; when an ``api_root`` is given
(the loopback emulator, ``omniva.youtube_emulator``) the document's
``rootUrl``/``mtlsRootUrl``/``baseUrl`` are rewritten so that *both* plain
calls and media uploads go there (``client_options.api_endpoint`` only
redirects plain calls: media upload URLs are derived from ``rootUrl``).

Uploads are resumable and chunked. Retries are done here, not by the library:
``next_chunk(num_retries>0)`` re-sends an already consumed stream slice (an
empty body) when used with ``MediaFileUpload``. On a retriable failure we back
off and call ``next_chunk()`` again; the library first asks the server for the
confirmed offset (``Content-Range: bytes */N``) and resumes from there.

Never log or put tokens into exception messages.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import mimetypes
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import google.auth.exceptions
import google.oauth2.credentials
import httplib2
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaFileUpload

from omniva.errors import OmnivaError

log = logging.getLogger(__name__)

#: OAuth scopes Omniva needs (upload + thumbnails, read back video status).
YOUTUBE_SCOPES: tuple[str, ...] = (
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.readonly",
)
EMULATOR_TOKEN = "omniva-emulator"
#: YouTube requires non-final resumable chunks to be multiples of 256 KiB.
CHUNK_GRANULARITY = 256 * 1024
RETRIABLE_STATUSES = frozenset({500, 502, 503, 504})
QUOTA_REASONS = frozenset({"quotaExceeded", "uploadLimitExceeded"})
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    socket.error,  # == OSError; includes socket timeouts and ssl errors
    httplib2.HttpLib2Error,
)
MAX_BACKOFF_S = 64.0
_PACIFIC = "America/Los_Angeles"


# --------------------------------------------------------------------- errors
class YouTubeError(OmnivaError):
    """Any failure talking to YouTube. ``status``/``reason`` are set for API errors."""

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None):
        super().__init__(message)
        self.status = status
        self.reason = reason


class QuotaExceededError(YouTubeError):
    """Daily quota or upload limit hit: defer the work to the next quota window."""

    def __init__(self, message: str, *, status: int | None = 403, reason: str | None = None):
        super().__init__(message, status=status, reason=reason)
        self.resets_at = next_quota_reset()


class MissingCredentialsError(YouTubeError):
    """No usable OAuth token file; run ``omniva youtube auth``."""


class AuthenticationError(YouTubeError):
    """YouTube rejected the credentials (401) or they could not be refreshed."""


def next_quota_reset(now: dt.datetime | None = None) -> dt.datetime:
    """Next midnight Pacific time (when YouTube's daily quota resets), as an aware UTC datetime."""
    try:
        from zoneinfo import ZoneInfo

        tz: dt.tzinfo = ZoneInfo(_PACIFIC)
    except Exception:  # pragma: no cover - no tz database
        tz = dt.timezone(dt.timedelta(hours=-8))
    local = (now or dt.datetime.now(dt.UTC)).astimezone(tz)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return midnight.astimezone(dt.UTC)


def _error_reason(exc: HttpError) -> tuple[str | None, str]:
    """(first ``errors[].reason``, message) from a YouTube error body."""
    reason: str | None = None
    message = exc.reason or ""
    try:
        data = json.loads(exc.content.decode("utf-8") if isinstance(exc.content, bytes) else exc.content)
        err = data.get("error", {}) if isinstance(data, dict) else {}
        if isinstance(err, dict):
            message = err.get("message") or message
            errors = err.get("errors") or []
            if errors and isinstance(errors[0], dict):
                reason = errors[0].get("reason")
    except (ValueError, AttributeError, TypeError):
        pass
    return reason, message


def _translate(exc: HttpError, what: str) -> YouTubeError:
    status = exc.resp.status if exc.resp is not None else None
    reason, message = _error_reason(exc)
    if status == 403 and reason in QUOTA_REASONS:
        reset = next_quota_reset()
        return QuotaExceededError(
            f"YouTube {reason} during {what}: {message} Defer to the next quota window: the daily "
            f"quota resets at midnight Pacific time ({reset.strftime('%Y-%m-%dT%H:%M:%SZ')}).",
            status=status,
            reason=reason,
        )
    if status == 401:
        return AuthenticationError(
            f"YouTube rejected the credentials during {what} (401 {reason or ''}): {message} "
            "Run `omniva youtube auth` to re-authorize.",
            status=status,
            reason=reason,
        )
    return YouTubeError(
        f"YouTube {what} failed: HTTP {status} {reason or ''}: {message}", status=status, reason=reason
    )


# ---------------------------------------------------------------- credentials
def emulator_credentials() -> google.oauth2.credentials.Credentials:
    """Credentials sending the fixed bearer token the emulator expects.

    No expiry and no refresh token: ``valid`` is always True, so google-auth
    never tries to refresh it.
    """
    return google.oauth2.credentials.Credentials(token=EMULATOR_TOKEN)


def load_user_credentials(token_file: Path) -> google.oauth2.credentials.Credentials:
    """Load authorized-user OAuth tokens written by ``omniva youtube auth``.

    Expired access tokens are refreshed transparently on first use (the file
    holds a refresh token).
    """
    token_file = Path(token_file).expanduser()
    if not token_file.is_file():
        raise MissingCredentialsError(
            f"YouTube OAuth token file {token_file} does not exist; run `omniva youtube auth` to create it."
        )
    try:
        return google.oauth2.credentials.Credentials.from_authorized_user_file(str(token_file))
    except (ValueError, KeyError, OSError) as exc:
        # ValueError messages name missing fields only, never token values.
        raise MissingCredentialsError(
            f"YouTube OAuth token file {token_file} is not a valid authorized-user token file "
            f"({type(exc).__name__}: {exc}); run `omniva youtube auth` to recreate it."
        ) from exc


# -------------------------------------------------------------------- service
def discovery_document(api_root: str | None = None) -> dict[str, Any]:
    """The youtube v3 discovery doc shipped with google-api-python-client, optionally re-rooted."""
    doc_file = resources.files("googleapiclient.discovery_cache") / "documents" / "youtube.v3.json"
    doc = json.loads(doc_file.read_text(encoding="utf-8"))
    if api_root:
        root = api_root if api_root.endswith("/") else api_root + "/"
        doc["rootUrl"] = root
        doc["mtlsRootUrl"] = root
        doc["baseUrl"] = root + doc.get("servicePath", "")
    return doc


def build_service(api_root: str | None, credentials: Any) -> Any:
    """A ``googleapiclient`` Resource for YouTube v3 (never falls back to ADC)."""
    if credentials is None:
        raise MissingCredentialsError(
            "No YouTube credentials given; run `omniva youtube auth` (or use the emulator)."
        )
    return build_from_document(discovery_document(api_root), credentials=credentials)


class _ChunkedFileUpload(MediaFileUpload):
    """MediaFileUpload whose chunks are sent as ``bytes`` rather than a stream slice.

    httplib2 silently re-sends a request once on a stale/dropped connection and
    google-auth-httplib2 re-sends after a 401 refresh; with the library's
    ``_StreamSlice`` body the resend would be empty (already consumed). With
    bytes bodies those resends carry the real data.
    """

    def has_stream(self) -> bool:
        return False


# ------------------------------------------------------------------- uploader
@dataclass(frozen=True)
class UploadRequest:
    path: Path
    title: str
    description: str
    tags: tuple[str, ...]
    category_id: str = "22"
    privacy_status: str = "private"
    publish_at: str | None = None  # RFC3339 UTC, e.g. "2030-01-01T17:00:00Z"
    made_for_kids: bool = False
    thumbnail: Path | None = None


@dataclass(frozen=True)
class UploadResult:
    video_id: str
    status: str  # status.uploadStatus, e.g. "uploaded"
    publish_at: str | None
    privacy_status: str
    bytes_sent: int  # size of the uploaded file
    attempts: int  # 1 + number of retried upload steps
    thumbnail_set: bool = False


def _normalize_publish_at(value: str) -> str:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"publish_at must be an RFC3339 timestamp, got {value!r}") from exc
    if parsed.tzinfo is None:
        raise ValueError(f"publish_at must carry a timezone (UTC 'Z'), got {value!r}")
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class YouTubeUploader:
    """Uploads videos (resumable, chunked, retried) and reads them back.

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
    ) -> None:
        if chunk_size <= 0 or chunk_size % CHUNK_GRANULARITY:
            raise ValueError(
                f"chunk_size must be a positive multiple of {CHUNK_GRANULARITY}, got {chunk_size}"
            )
        self.api_root = api_root
        self.chunk_size = chunk_size
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self._sleep = sleep
        self._credentials = credentials
        self._service_obj: Any = None

    @property
    def service(self) -> Any:
        if self._service_obj is None:
            self._service_obj = build_service(self.api_root, self._credentials)
        return self._service_obj

    # ---------------------------------------------------------------- helpers
    def _backoff(self, failures: int, what: str, err: BaseException) -> None:
        if failures > self.max_retries:
            raise YouTubeError(
                f"YouTube {what} failed after {self.max_retries} retries; last error: {type(err).__name__}: {err}"
            ) from err
        delay = min(self.backoff_base * (2 ** (failures - 1)), MAX_BACKOFF_S)
        log.warning(
            "YouTube %s: %s (%s); retry %d/%d in %.1fs",
            what,
            type(err).__name__,
            _short(err),
            failures,
            self.max_retries,
            delay,
        )
        self._sleep(delay)

    def _execute(self, request: Any, what: str) -> Any:
        """``request.execute()`` with our retry policy and error mapping."""
        failures = 0
        while True:
            try:
                return request.execute()
            except HttpError as exc:
                if exc.resp.status not in RETRIABLE_STATUSES:
                    raise _translate(exc, what) from exc
                err: BaseException = exc
            except google.auth.exceptions.GoogleAuthError as exc:
                raise AuthenticationError(
                    f"YouTube credentials could not be used during {what} ({type(exc).__name__}); "
                    "run `omniva youtube auth` to re-authorize."
                ) from exc
            except TRANSPORT_ERRORS as exc:
                err = exc
            failures += 1
            self._backoff(failures, what, err)

    # ------------------------------------------------------------------- API
    def upload(self, req: UploadRequest) -> UploadResult:
        path = Path(req.path)
        if not path.is_file():
            raise FileNotFoundError(f"video file not found: {path}")
        status: dict[str, Any] = {
            "privacyStatus": req.privacy_status,
            "selfDeclaredMadeForKids": bool(req.made_for_kids),
        }
        if req.publish_at:
            if req.privacy_status != "private":
                log.info(
                    "publish_at set: uploading %s as private (scheduled), not %s",
                    path.name,
                    req.privacy_status,
                )
            status["privacyStatus"] = "private"
            status["publishAt"] = _normalize_publish_at(req.publish_at)
        body = {
            "snippet": {
                "title": req.title,
                "description": req.description,
                "tags": list(req.tags),
                "categoryId": req.category_id,
            },
            "status": status,
        }
        media = _ChunkedFileUpload(str(path), mimetype="video/mp4", chunksize=self.chunk_size, resumable=True)
        size = media.size()
        request = self.service.videos().insert(part="snippet,status", body=body, media_body=media)
        what = f"upload of {path.name}"
        log.info("YouTube upload start: %s (%d bytes, chunk %d)", path.name, size, self.chunk_size)

        response = None
        attempts = 1
        failures = 0  # consecutive failures without progress
        while response is None:
            try:
                progress, response = request.next_chunk()
            except HttpError as exc:
                if exc.resp.status not in RETRIABLE_STATUSES:
                    raise _translate(exc, what) from exc
                err: BaseException = exc
            except google.auth.exceptions.GoogleAuthError as exc:
                raise AuthenticationError(
                    f"YouTube credentials could not be used during {what} ({type(exc).__name__}); "
                    "run `omniva youtube auth` to re-authorize."
                ) from exc
            except TRANSPORT_ERRORS as exc:
                err = exc
            else:
                failures = 0
                if progress is not None:
                    log.debug("YouTube upload %s: %d/%d bytes", path.name, progress.resumable_progress, size)
                continue
            failures += 1
            attempts += 1
            self._backoff(failures, what, err)

        video_id = response["id"]
        st = response.get("status", {})
        log.info("YouTube upload done: %s -> video %s", path.name, video_id)
        thumbnail_set = False
        if req.thumbnail is not None:
            # The video exists now: a thumbnail failure must not lose its id (a caller
            # retrying the upload would duplicate the video), so it is only logged.
            try:
                self.set_thumbnail(video_id, Path(req.thumbnail))
                thumbnail_set = True
            except (YouTubeError, OSError) as exc:
                log.warning("video %s uploaded but its thumbnail was not set: %s", video_id, exc)
        return UploadResult(
            video_id=video_id,
            status=st.get("uploadStatus", "uploaded"),
            publish_at=st.get("publishAt"),
            privacy_status=st.get("privacyStatus", status["privacyStatus"]),
            bytes_sent=size,
            attempts=attempts,
            thumbnail_set=thumbnail_set,
        )

    def set_thumbnail(self, video_id: str, image: Path) -> dict:
        """Set a custom thumbnail (JPEG/PNG, <= 2 MB) via ``thumbnails().set``."""
        image = Path(image)
        mimetype = mimetypes.guess_type(image.name)[0]
        if mimetype not in ("image/jpeg", "image/png"):
            mimetype = "application/octet-stream"
        media = MediaFileUpload(str(image), mimetype=mimetype, resumable=False)
        request = self.service.thumbnails().set(videoId=video_id, media_body=media)
        return self._execute(request, f"thumbnails.set for {video_id}")

    def get_videos(self, ids: Iterable[str], part: str = "snippet,status") -> list[dict]:
        """Video resources for ``ids`` (unknown ids are simply absent)."""
        id_list: Sequence[str] = list(dict.fromkeys(ids))
        items: list[dict] = []
        for start in range(0, len(id_list), 50):  # API limit: 50 ids per call
            batch = ",".join(id_list[start : start + 50])
            resp = self._execute(self.service.videos().list(part=part, id=batch), "videos.list")
            items.extend(resp.get("items", []))
        return items


def _short(err: BaseException) -> str:
    if isinstance(err, HttpError):
        reason, message = _error_reason(err)
        return f"HTTP {err.resp.status} {reason or ''} {message}".strip()
    return str(err)[:200]
