"""The one place in Omniva that talks to YouTube (Data API v3).

Uses the real ``google-api-python-client``. The service is built from the
discovery document shipped inside that package; when an ``api_root`` is given
(the loopback emulator, ``omniva_devkit.youtube_emulator``) the document's
``rootUrl``/``mtlsRootUrl``/``baseUrl`` are rewritten so that *both* plain
calls and media uploads go there (``client_options.api_endpoint`` only
redirects plain calls: media upload URLs are derived from ``rootUrl``).

Uploads are resumable and chunked. Retries are done here, not by the library:
``next_chunk(num_retries>0)`` re-sends an already consumed stream slice (an
empty body) when used with ``MediaFileUpload``. On a retriable failure we back
off and call ``next_chunk()`` again; the library first asks the server for the
confirmed offset (``Content-Range: bytes */N``) and resumes from there.

Crash safety: the upload session is opened here (not inside ``next_chunk``) so
its URI can be handed to the caller *before* the first byte is sent;
``publish_once`` keeps it in the clip's ledger, and a later process asks the
server for the confirmed offset and sends only the rest. Exactly once: a
finished upload is never repeated; an uncertain one (intent recorded, no video
id, no live session) is looked up on the channel by the clip's marker tag.

Quota: every call is charged to a per-project, per-Pacific-day ledger
(``QuotaLedger``) before it is made; an upload that would overrun the day's
budget, and any ``quotaExceeded``/``uploadLimitExceeded`` answer, raise
``QuotaExceededError`` with the time the quota resets.

Never log or put tokens (or upload session URIs, which act as capabilities)
into exception messages, logs or metadata.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import mimetypes
import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import google.auth.exceptions
import google.oauth2.credentials
import httplib2
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaFileUpload

from cognitive_sensors import horizon
from omniva.errors import OmnivaError

log = logging.getLogger(__name__)

#: OAuth scopes: upload + thumbnails (``youtube.upload``), read the channel's uploads back
#: (``youtube.readonly``), captions and playlist items (``youtube.force-ssl``).
YOUTUBE_SCOPES: tuple[str, ...] = (
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.readonly",
    "https://www.googleapis.com/auth/youtube.force-ssl",
)
#: Enough for uploads, thumbnails and the marker look-up, but no captions or playlists.
MINIMAL_SCOPES: tuple[str, ...] = YOUTUBE_SCOPES[:2]
YOUTUBE_API_ROOT = "https://www.googleapis.com/"
EMULATOR_TOKEN = "omniva-emulator"
#: YouTube requires non-final resumable chunks to be multiples of 256 KiB.
CHUNK_GRANULARITY = 256 * 1024
RETRIABLE_STATUSES = frozenset({500, 502, 503, 504})
QUOTA_REASONS = frozenset({"quotaExceeded", "uploadLimitExceeded", "dailyLimitExceeded"})
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    socket.error,  # == OSError; includes socket timeouts and ssl errors
    httplib2.HttpLib2Error,
)
MAX_BACKOFF_S = 64.0
#: Default daily quota of a Google Cloud project for the YouTube Data API v3.
DEFAULT_DAILY_UNITS = 10_000
#: Units each call costs (https://developers.google.com/youtube/v3/determine_quota_cost).
QUOTA_COSTS: dict[str, int] = {
    "videos.insert": 1600,
    "videos.list": 1,
    "thumbnails.set": 50,
    "captions.insert": 400,
    "playlistItems.insert": 50,
    "playlistItems.list": 1,
    "channels.list": 1,
}
#: Upper bound of the look-ups ``find_by_marker`` makes (channels + 4 pages + 4 videos.list).
MARKER_LOOKUP_UNITS = 1 + 4 + 4
MAX_TITLE_CHARS = 100
MAX_DESCRIPTION_BYTES = 5000
MAX_TAGS_CHARS = 500
PRIVACY_VALUES = ("public", "unlisted", "private")
_VIDEO_ID_RE = re.compile(r"^[A-Za-z0-9_-]{11}$")
_LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_PLAYLIST_ID_RE = re.compile(r"^[A-Za-z0-9_-]{2,64}$")


# --------------------------------------------------------------------- errors
class YouTubeError(OmnivaError):
    """Any failure talking to YouTube. ``status``/``reason`` are set for API errors."""

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None):
        super().__init__(message)
        self.status = status
        self.reason = reason


class QuotaExceededError(YouTubeError):
    """Daily quota or upload limit hit (or about to be): defer the work to the next quota window."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = 403,
        reason: str | None = None,
        resets_at: dt.datetime | None = None,
    ):
        super().__init__(message, status=status, reason=reason)
        self.resets_at = resets_at or next_quota_reset()


class MissingCredentialsError(YouTubeError):
    """No usable OAuth token file; run ``omniva youtube auth``."""


class AuthenticationError(YouTubeError):
    """YouTube rejected the credentials (401) or they could not be refreshed."""


class MetadataError(YouTubeError):
    """Upload metadata YouTube would refuse; found before any network call."""

    def __init__(self, subject: str, violations: Sequence[str]):
        self.violations = tuple(violations)
        super().__init__(
            f"invalid YouTube metadata for {subject}: " + "; ".join(self.violations), reason="invalidMetadata"
        )


class UploadSessionGone(YouTubeError):
    """The saved resumable session no longer exists on the server (expired or unknown)."""


def next_quota_reset(now: dt.datetime | None = None) -> dt.datetime:
    """Next midnight Pacific time (when YouTube's daily quota resets), as an aware UTC datetime."""
    return horizon.next_quota_reset(now or dt.datetime.now(dt.UTC))


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    if status in (403, 429) and reason in QUOTA_REASONS:
        reset = next_quota_reset()
        return QuotaExceededError(
            f"YouTube {reason} during {what}: {message} Deferred to the next quota window: the daily "
            f"quota resets at midnight Pacific time ({_iso(reset)}).",
            status=status,
            reason=reason,
            resets_at=reset,
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


def _auth_error(exc: google.auth.exceptions.GoogleAuthError, what: str) -> AuthenticationError:
    # The exception text can carry the token endpoint's answer; only its type is kept.
    return AuthenticationError(
        f"YouTube credentials could not be used or refreshed during {what} ({type(exc).__name__}); "
        "run `omniva youtube auth` to re-authorize (refresh tokens of OAuth apps in 'Testing' "
        "status expire after 7 days)."
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
    holds a refresh token). ``omniva_resources.youtube_auth.TokenStore`` also saves the
    refreshed token back; prefer it.
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


# ------------------------------------------------------------------- requests
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

    @property
    def all_tags(self) -> tuple[str, ...]:
        tags = tuple(self.tags)
        if self.marker and self.marker not in tags:
            tags += (self.marker,)
        return tags


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


def clip_marker(clip_id: str) -> str:
    """The tag that marks a clip's video on the channel (tags are not shown to viewers)."""
    return "omniva-" + re.sub(r"[^0-9a-f]", "", clip_id.lower())[:20]


def _tags_length(tags: Sequence[str]) -> int:
    # YouTube counts the commas between tags, and quotes around a tag containing a space.
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(len(tags) - 1, 0)


def _parse_rfc3339(value: str) -> dt.datetime | None:
    if not re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$", value or ""):
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
        at = _parse_rfc3339(req.publish_at)
        if at is None or at.tzinfo is None:
            out.append(f"publishAt {req.publish_at!r} is not an RFC3339 timestamp with a time zone")
        elif at <= now:
            out.append(f"publishAt {req.publish_at} is not in the future (now {_iso(now)})")
    if not str(req.category_id).isdigit():
        out.append(f"category id {req.category_id!r} is not a number")
    if req.captions is not None and not _LANGUAGE_RE.match(req.caption_language or ""):
        out.append(f"caption language {req.caption_language!r} is not a BCP-47 language tag")
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


def publication_cost(req: UploadRequest, *, new_session: bool = True, lookup: bool = False) -> int:
    """Quota units one publication needs: the insert and the extras it will set."""
    cost = QUOTA_COSTS["videos.insert"] if new_session else 0
    if req.thumbnail is not None and Path(req.thumbnail).is_file():
        cost += QUOTA_COSTS["thumbnails.set"]
    if req.captions is not None and Path(req.captions).is_file():
        cost += QUOTA_COSTS["captions.insert"]
    if req.playlist_id:
        cost += QUOTA_COSTS["playlistItems.insert"]
    if lookup:
        cost += MARKER_LOOKUP_UNITS
    return cost


# ---------------------------------------------------------------------- quota
def _write_private_json(path: Path, data: dict) -> None:
    """Atomically replace ``path`` with owner-only (0600) JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class QuotaLedger:
    """Units spent per Google Cloud project per quota day (Pacific), in a small JSON file.

    Several processes may upload at once: every read-modify-write holds a file lock.
    The count is Omniva's own estimate (YouTube does not report usage); it is made
    conservative by charging each call before it is sent, and a ``quotaExceeded``
    answer marks the day spent whatever the count says.
    """

    KEEP_DAYS = 14

    def __init__(
        self,
        path: Path,
        project: str,
        budget: int = DEFAULT_DAILY_UNITS,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ):
        self.path = Path(path)
        self.project = project
        self.budget = budget
        self._clock = clock

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _today(self, data: dict) -> tuple[str, dict]:
        day = horizon.quota_day(self._clock())
        days = data.setdefault("days", {})
        return day, days.setdefault(day, {"used": 0, "calls": {}})

    def _save(self, data: dict) -> None:
        days = data.get("days", {})
        for old in sorted(days)[: max(len(days) - self.KEEP_DAYS, 0)]:
            del days[old]
        data["project"] = self.project
        data["budget"] = self.budget
        _write_private_json(self.path, data)

    def status(self) -> dict:
        """``{"day", "used", "budget", "remaining", "exhausted", "calls", "resets_at"}`` for today."""
        day, today = self._today(self._read())
        used = int(today.get("used", 0))
        return {
            "project": self.project,
            "day": day,
            "used": used,
            "budget": self.budget,
            "remaining": max(self.budget - used, 0),
            "exhausted": today.get("exhausted"),
            "calls": dict(today.get("calls", {})),
            "resets_at": _iso(next_quota_reset(self._clock())),
        }

    def _deferral(self, used: int, cost: int, what: str, exhausted: str | None) -> QuotaExceededError:
        reset = next_quota_reset(self._clock())
        why = (
            f"YouTube answered {exhausted} earlier today"
            if exhausted
            else f"{what} needs {cost} units but project {self.project} has used {used} of its "
            f"{self.budget} today"
        )
        return QuotaExceededError(
            f"{why}; deferred to the next quota window at {_iso(reset)} (midnight Pacific).",
            status=None,
            reason=exhausted or "dailyBudget",
            resets_at=reset,
        )

    def ensure(self, cost: int, what: str) -> None:
        """Raise ``QuotaExceededError`` if ``cost`` more units would overrun today's budget."""
        with _locked(self.path):
            _, today = self._today(self._read())
            used, exhausted = int(today.get("used", 0)), today.get("exhausted")
            if exhausted or not horizon.fits_quota(used, cost, self.budget):
                raise self._deferral(used, cost, what, exhausted)

    def charge(self, method: str, units: int | None = None) -> None:
        """Count one call (before it is sent); raise ``QuotaExceededError`` if it does not fit."""
        cost = QUOTA_COSTS[method] if units is None else units
        with _locked(self.path):
            data = self._read()
            _, today = self._today(data)
            used, exhausted = int(today.get("used", 0)), today.get("exhausted")
            if exhausted or not horizon.fits_quota(used, cost, self.budget):
                raise self._deferral(used, cost, method, exhausted)
            today["used"] = used + cost
            calls = today.setdefault("calls", {})
            calls[method] = calls.get(method, 0) + 1
            self._save(data)

    def exhaust(self, reason: str) -> None:
        """YouTube said the quota is spent: nothing more today, whatever our count says."""
        with _locked(self.path):
            data = self._read()
            _, today = self._today(data)
            today["exhausted"] = reason
            self._save(data)


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
class YouTubeUploader:
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
        self.api_root = api_root
        self.chunk_size = chunk_size
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.quota = quota
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
                f"YouTube {what} failed after {self.max_retries} retries; last error: {type(err).__name__}: {_short(err)}"
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

    def _charge(self, method: str) -> None:
        if self.quota is not None:
            self.quota.charge(method)

    def _error(self, exc: HttpError, what: str) -> YouTubeError:
        err = _translate(exc, what)
        if isinstance(err, QuotaExceededError) and self.quota is not None:
            self.quota.exhaust(err.reason or "quotaExceeded")
        return err

    def _execute(self, request: Any, what: str, method: str | None = None) -> Any:
        """``request.execute()`` with our retry policy, quota accounting and error mapping."""
        failures = 0
        while True:
            if method:
                self._charge(method)
            try:
                return request.execute()
            except HttpError as exc:
                if exc.resp.status not in RETRIABLE_STATUSES:
                    raise self._error(exc, what) from exc
                err: BaseException = exc
            except google.auth.exceptions.GoogleAuthError as exc:
                raise _auth_error(exc, what) from exc
            except TRANSPORT_ERRORS as exc:
                err = exc
            failures += 1
            self._backoff(failures, what, err)

    def _raw(self, http: Any, uri: str, method: str, what: str, **kw: Any) -> tuple[Any, bytes]:
        """One raw HTTP exchange on the authorized transport, retried on 5xx and transport errors."""
        failures = 0
        while True:
            try:
                resp, content = http.request(uri, method=method, **kw)
            except google.auth.exceptions.GoogleAuthError as exc:
                raise _auth_error(exc, what) from exc
            except TRANSPORT_ERRORS as exc:
                err: BaseException = exc
            else:
                if resp.status not in RETRIABLE_STATUSES:
                    return resp, content
                err = HttpError(resp, content, uri=uri)
            failures += 1
            self._backoff(failures, what, err)

    # ----------------------------------------------------------------- upload
    def _video_body(self, req: UploadRequest) -> dict:
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
        return {
            "snippet": {
                "title": req.title,
                "description": req.description,
                "tags": list(req.all_tags),
                "categoryId": req.category_id,
            },
            "status": status,
        }

    def _start_session(self, request: Any, size: int, what: str) -> str:
        """Open the resumable session (what ``next_chunk`` would do first) and return its URI."""
        headers = dict(request.headers)
        headers["X-Upload-Content-Type"] = request.resumable.mimetype()
        headers["X-Upload-Content-Length"] = str(size)
        headers["content-length"] = str(len(request.body or ""))
        failures = 0
        while True:
            self._charge("videos.insert")
            try:
                resp, content = request.http.request(
                    request.uri, method=request.method, body=request.body, headers=headers
                )
            except google.auth.exceptions.GoogleAuthError as exc:
                raise _auth_error(exc, what) from exc
            except TRANSPORT_ERRORS as exc:
                err: BaseException = exc
            else:
                if resp.status == 200 and "location" in resp:
                    return resp["location"]
                http_err = HttpError(resp, content, uri=request.uri)
                if resp.status not in RETRIABLE_STATUSES:
                    raise self._error(http_err, what) from None
                err = http_err
            failures += 1
            self._backoff(failures, what, err)

    def query_session(self, http: Any, session_uri: str, size: int, what: str) -> tuple[int, dict | None]:
        """Ask the server how much of a resumable upload it holds (``Content-Range: bytes */size``).

        Returns ``(confirmed offset, None)`` for an open session, ``(size, video)`` when the
        upload had already finished; raises ``UploadSessionGone`` when the session is unknown.
        """
        resp, content = self._raw(
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
        if resp.status in (404, 410):
            raise UploadSessionGone(
                f"the resumable session of {what} no longer exists on the server (HTTP {resp.status})",
                status=resp.status,
            )
        raise self._error(HttpError(resp, content, uri="<upload session>"), what)

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
        body = self._video_body(req)
        media = _ChunkedFileUpload(str(path), mimetype="video/mp4", chunksize=self.chunk_size, resumable=True)
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

        attempts = 1
        failures = 0  # consecutive failures without progress
        while response is None:
            try:
                progress, response = request.next_chunk()
            except HttpError as exc:
                if exc.resp.status in (404, 410):
                    raise UploadSessionGone(
                        f"the resumable session of {what} expired mid-upload (HTTP {exc.resp.status})",
                        status=exc.resp.status,
                    ) from exc
                if exc.resp.status not in RETRIABLE_STATUSES:
                    raise self._error(exc, what) from exc
                err: BaseException = exc
            except google.auth.exceptions.GoogleAuthError as exc:
                raise _auth_error(exc, what) from exc
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
            ("thumbnail", req.thumbnail, lambda: self.set_thumbnail(video_id, Path(req.thumbnail))),
            (
                "captions",
                req.captions,
                lambda: self.insert_captions(
                    video_id, Path(req.captions), req.caption_language, req.caption_name
                ),
            ),
            ("playlist", req.playlist_id, lambda: self.add_to_playlist(req.playlist_id, video_id)),
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
                out[name] = f"failed ({_short(exc)[:160]})"
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
        return self._execute(request, f"thumbnails.set for {video_id}", "thumbnails.set")

    def insert_captions(self, video_id: str, srt: Path, language: str = "en", name: str = "") -> dict:
        """Upload an SRT caption track (``captions().insert``, published, not a draft)."""
        media = MediaFileUpload(str(srt), mimetype="application/octet-stream", resumable=False)
        body = {"snippet": {"videoId": video_id, "language": language, "name": name, "isDraft": False}}
        request = self.service.captions().insert(part="snippet", body=body, media_body=media)
        return self._execute(request, f"captions.insert for {video_id}", "captions.insert")

    def add_to_playlist(self, playlist_id: str, video_id: str) -> dict:
        body = {
            "snippet": {
                "playlistId": playlist_id,
                "resourceId": {"kind": "youtube#video", "videoId": video_id},
            }
        }
        request = self.service.playlistItems().insert(part="snippet", body=body)
        return self._execute(request, f"playlistItems.insert of {video_id}", "playlistItems.insert")

    # ------------------------------------------------------------------ reads
    def get_videos(self, ids: Iterable[str], part: str = "snippet,status") -> list[dict]:
        """Video resources for ``ids`` (unknown ids are simply absent)."""
        id_list: Sequence[str] = list(dict.fromkeys(ids))
        items: list[dict] = []
        for start in range(0, len(id_list), 50):  # API limit: 50 ids per call
            batch = ",".join(id_list[start : start + 50])
            resp = self._execute(
                self.service.videos().list(part=part, id=batch), "videos.list", "videos.list"
            )
            items.extend(resp.get("items", []))
        return items

    def my_channel(self) -> dict | None:
        """The authorized channel (``channels.list(mine=True)``): id, title, uploads playlist."""
        resp = self._execute(
            self.service.channels().list(part="snippet,contentDetails", mine=True),
            "channels.list",
            "channels.list",
        )
        items = resp.get("items") or []
        return items[0] if items else None

    def find_by_marker(self, marker: str, since: str | None = None, max_pages: int = 4) -> dict | None:
        """The channel's video tagged ``marker``, if any, among its latest uploads.

        Walks the uploads playlist (``channels.list(mine)`` + ``playlistItems.list``, newest
        first, which includes private and scheduled videos for the owner) back to ``since``,
        then reads the tags with ``videos.list``. A video uploaded seconds ago may take a
        moment to show up in the playlist.
        """
        channel = self.my_channel()
        uploads = ((channel or {}).get("contentDetails") or {}).get("relatedPlaylists", {}).get("uploads")
        if not uploads:
            return None
        cutoff = _parse_rfc3339(since) if since else None
        if cutoff is not None:
            cutoff -= dt.timedelta(days=1)
        ids: list[str] = []
        token = None
        for _ in range(max_pages):
            kw: dict[str, Any] = {"part": "snippet", "playlistId": uploads, "maxResults": 50}
            if token:
                kw["pageToken"] = token
            resp = self._execute(
                self.service.playlistItems().list(**kw), "playlistItems.list", "playlistItems.list"
            )
            older = False
            for item in resp.get("items", []):
                snippet = item.get("snippet") or {}
                vid = (snippet.get("resourceId") or {}).get("videoId")
                if vid:
                    ids.append(vid)
                added = _parse_rfc3339(snippet.get("publishedAt", ""))
                if cutoff is not None and added is not None and added < cutoff:
                    older = True
            token = resp.get("nextPageToken")
            if older or not token:
                break
        for video in self.get_videos(ids, part="snippet,status"):
            if marker in ((video.get("snippet") or {}).get("tags") or []):
                return video
        return None


def _normalize_publish_at(value: str) -> str:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"publish_at must be an RFC3339 timestamp, got {value!r}") from exc
    if parsed.tzinfo is None:
        raise ValueError(f"publish_at must carry a timezone (UTC 'Z'), got {value!r}")
    return _iso(parsed)


def _short(err: BaseException) -> str:
    if isinstance(err, HttpError):
        reason, message = _error_reason(err)
        return f"HTTP {err.resp.status} {reason or ''} {message}".strip()
    return str(err)[:200]


# ------------------------------------------------------------- exactly once
class UploadLedger:
    """One clip's upload record (``$OMNIVA_HOME/uploads/<clip_id>.json``, owner-only).

    ``state``: ``started`` (intent recorded; ``session_uri`` once the server opened a
    session) or ``done`` (``yt_video_id`` known). The session URI lets anyone holding
    it add bytes to the upload, so it lives only here, never in logs or metadata.
    """

    def __init__(self, path: Path):
        self.path = Path(path)

    def read(self) -> dict:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise YouTubeError(
                f"upload ledger {self.path} is not valid JSON ({exc}); inspect it before uploading "
                "again, or the clip may be uploaded twice"
            ) from exc
        return data if isinstance(data, dict) else {}

    def write(self, data: dict) -> None:
        _write_private_json(self.path, data)

    def update(self, **fields: Any) -> dict:
        data = self.read() | fields
        self.write(data)
        return data


@dataclass(frozen=True)
class PublishOutcome:
    video_id: str
    privacy_status: str
    publish_at: str | None
    how: str  # "uploaded" | "resumed" | "reused" | "adopted"
    bytes_sent: int = 0
    resumed_from: int = 0
    extras: dict[str, str] = field(default_factory=dict)

    @property
    def reused(self) -> bool:
        return self.how in ("reused", "adopted")


def _now_iso() -> str:
    return _iso(dt.datetime.now(dt.UTC))


def publish_once(
    uploader: YouTubeUploader,
    req: UploadRequest,
    ledger: UploadLedger,
    *,
    api_root: str,
    fingerprint: str,
    record: dict[str, Any] | None = None,
) -> PublishOutcome:
    """Put ``req`` on YouTube exactly once, whatever happened to earlier attempts.

    1. ledger ``done`` (same API root): reuse the video id; only extras still pending
       (e.g. a thumbnail deferred by the quota) are tried again. No upload.
    2. ledger ``started`` with a session URI for the same bytes: ask the server for the
       confirmed offset and send the rest (or take the video if it had finished).
    3. ledger ``started`` otherwise, or the session is gone: look the clip's marker up on
       the channel and adopt the video if it exists.
    4. else: record the intent, open a session, persist its URI, upload.

    ``record``: extra fields kept in the ledger (clip id and key, channel). Raises
    ``MetadataError`` before any network call and ``QuotaExceededError`` when the day's
    budget cannot hold the publication. Two processes publishing the same clip take turns
    (a lock beside the ledger, released by the kernel if its holder dies).
    """
    with _locked(ledger.path):
        return _publish_once(uploader, req, ledger, api_root, fingerprint, record or {})


def _publish_once(
    uploader: YouTubeUploader,
    req: UploadRequest,
    ledger: UploadLedger,
    api_root: str,
    fingerprint: str,
    record: dict[str, Any],
) -> PublishOutcome:
    entry = ledger.read()
    same_root = entry.get("api_root") == api_root
    if entry.get("state") == "done" and same_root and entry.get("yt_video_id"):
        video_id = check_video_id(entry["yt_video_id"], f"upload ledger {ledger.path}")
        extras = dict(entry.get("extras") or {})
        if any(v.startswith(("deferred", "pending")) for v in extras.values()):
            extras = uploader.apply_extras(video_id, req, extras)
            ledger.update(extras=extras)
        return PublishOutcome(
            video_id, entry.get("privacy_status", ""), entry.get("publish_at"), "reused", extras=extras
        )

    check_request(req)  # before any network call
    uncertain = entry.get("state") == "started" and same_root
    resume_uri = entry.get("session_uri") if uncertain and entry.get("sha256") == fingerprint else None
    if uploader.quota is not None:
        cost = publication_cost(req, new_session=not resume_uri, lookup=uncertain)
        uploader.quota.ensure(cost, f"publishing {Path(req.path).name}")

    def done(video: dict, how: str, bytes_sent: int = 0, resumed_from: int = 0) -> PublishOutcome:
        video_id = check_video_id(video.get("id"), "YouTube's answer")
        st = video.get("status") or {}
        privacy = st.get("privacyStatus") or ("private" if req.publish_at else req.privacy_status)
        publish_at = st.get("publishAt") or (req.publish_at if req.publish_at else None)
        pending = {k: "pending" for k in ("thumbnail", "captions", "playlist")}
        ledger.write(
            record
            | {
                "state": "done",
                "yt_video_id": video_id,
                "privacy_status": privacy,
                "publish_at": publish_at,
                "title": req.title,
                "api_root": api_root,
                "sha256": fingerprint,
                "how": how,
                "extras": pending,
                "at": _now_iso(),
            }
        )
        extras = uploader.apply_extras(video_id, req, pending)
        ledger.update(extras=extras)
        return PublishOutcome(video_id, privacy, publish_at, how, bytes_sent, resumed_from, extras)

    def adopt() -> PublishOutcome | None:
        if not req.marker:
            return None
        video = uploader.find_by_marker(req.marker, since=entry.get("at"))
        if video is None:
            return None
        log.warning(
            "clip already on YouTube as %s (found by its marker); not uploading again", video.get("id")
        )
        return done(video, "adopted")

    def started(**fields: Any) -> None:
        ledger.write(
            record
            | {
                "state": "started",
                "sha256": fingerprint,
                "size": Path(req.path).stat().st_size,
                "marker": req.marker,
                "api_root": api_root,
                "at": entry.get("at") if uncertain else _now_iso(),
            }
            | fields
        )

    def on_session(uri: str) -> None:
        started(session_uri=uri, session_at=_now_iso())

    if resume_uri:
        try:
            result = uploader.upload(req, resume_uri=resume_uri, extras=False)
            how = "resumed" if result.resumed_from else "uploaded"
            return done(
                {
                    "id": result.video_id,
                    "status": {"privacyStatus": result.privacy_status, "publishAt": result.publish_at},
                },
                how,
                result.bytes_sent,
                result.resumed_from,
            )
        except UploadSessionGone as exc:
            log.warning("%s; looking the clip up on the channel", exc)
            started(session_uri=None)
    if uncertain:
        adopted = adopt()
        if adopted is not None:
            return adopted
    started(session_uri=None)
    result = uploader.upload(req, on_session=on_session, extras=False)
    return done(
        {
            "id": result.video_id,
            "status": {"privacyStatus": result.privacy_status, "publishAt": result.publish_at},
        },
        "uploaded",
        result.bytes_sent,
    )
