"""The YouTube Data API v3 client: the service, its credentials, and the one retry loop.

Uses the real ``google-api-python-client``. The service is built from the
discovery document shipped inside that package; when an ``api_root`` is given
(the loopback emulator, ``omniva_devkit.youtube_emulator``) the document's
``rootUrl``/``mtlsRootUrl``/``baseUrl`` are rewritten so that *both* plain
calls and media uploads go there (``client_options.api_endpoint`` only
redirects plain calls: media upload URLs are derived from ``rootUrl``).

Retries are done here, not by the library, in ``YouTubeClient.call``: every call
(plain requests, raw exchanges with an upload session, each upload chunk) goes
through it, so the policy (which failures are retried, the back-off, quota
charging and error sorting) is written once.

Never log or put tokens (or upload session URIs, which act as capabilities)
into exception messages, logs or metadata. Credentials and API root must match
(``check_destination``): a real channel's token only ever goes to Google, and the
emulator's tokens never do.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import google.auth.credentials
import google.auth.exceptions
import google.oauth2.credentials
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError

from omniva.errors import ConfigError
from omniva_resources.youtube.errors import (
    RETRIABLE_STATUSES,
    TRANSPORT_ERRORS,
    MissingCredentialsError,
    QuotaExceededError,
    YouTubeError,
    auth_error,
    describe,
    translate,
)
from omniva_resources.youtube.metadata import parse_rfc3339
from omniva_resources.youtube.quota import QuotaLedger

log = logging.getLogger(__name__)

T = TypeVar("T")

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
MAX_BACKOFF_S = 64.0


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
    holds a refresh token). ``omniva_resources.youtube.auth.TokenStore`` also saves the
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


def is_loopback_url(url: str) -> bool:
    """True for an address on this machine (``localhost``, ``127.0.0.0/8``, ``::1``, ``0.0.0.0``)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


def is_youtube_root(api_root: str | None) -> bool:
    """True for real YouTube: no root (the library's default) or an https ``googleapis.com`` one."""
    if not api_root:
        return True
    parts = urlsplit(api_root)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and (host == "googleapis.com" or host.endswith(".googleapis.com"))


def issued_by_emulator(credentials: Any) -> bool:
    """The emulator's fixed token, or a token whose refresh endpoint is a loopback HTTP one."""
    if getattr(credentials, "token", None) == EMULATOR_TOKEN:
        return True
    token_uri = getattr(credentials, "token_uri", None) or ""
    return urlsplit(token_uri).scheme == "http" and is_loopback_url(token_uri)


def check_destination(api_root: str | None, credentials: Any) -> None:
    """Refuse (``ConfigError``) to send a channel's real token anywhere but Google, or the
    emulator's token to Google. Credentials without a secret (anonymous) go anywhere."""
    if credentials is None or isinstance(credentials, google.auth.credentials.AnonymousCredentials):
        return
    emulator_token = issued_by_emulator(credentials)
    if is_youtube_root(api_root):
        if emulator_token:
            raise ConfigError(
                "refusing to send the YouTube emulator's token to real YouTube: connect the channel "
                "with `omniva youtube auth --channel NAME` (a Google OAuth client), or set "
                "OMNIVA_YOUTUBE_API_ROOT to the emulator's address (e.g. http://127.0.0.1:8089/)"
            )
        return
    if not emulator_token:
        where = (
            "a loopback address (the emulator)" if is_loopback_url(api_root or "") else "a non-Google host"
        )
        raise ConfigError(
            f"refusing to send a real YouTube channel's OAuth token to {where}: the API root "
            f"{api_root} is not YouTube's. For real YouTube set OMNIVA_YOUTUBE_API_ROOT= (empty); "
            "for the emulator, unset OMNIVA_YOUTUBE_TOKEN_FILE (and OMNIVA_CHANNEL's token) so "
            "the emulator's own token is used"
        )


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
    check_destination(api_root, credentials)
    return build_from_document(discovery_document(api_root), credentials=credentials)


# --------------------------------------------------------------------- client
#: The fields of a video's ``status`` that ``videos.update`` takes (the rest are read-only).
STATUS_WRITABLE = (
    "privacyStatus",
    "publishAt",
    "license",
    "embeddable",
    "publicStatsViewable",
    "selfDeclaredMadeForKids",
    "containsSyntheticMedia",
)


class YouTubeClient:
    """Authorized calls with Omniva's retry policy, quota accounting and error sorting; reads.

    Not thread-safe (httplib2); use one instance per thread.
    """

    def __init__(
        self,
        api_root: str | None,
        credentials: Any,
        *,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        quota: QuotaLedger | None = None,
    ) -> None:
        check_destination(api_root, credentials)  # before any call, not at the first one
        self.api_root = api_root
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

    # ------------------------------------------------------------ the policy
    def call(
        self,
        attempt: Callable[[], T],
        what: str,
        method: str | None = None,
        on_retry: Callable[[], None] | None = None,
    ) -> T:
        """``attempt()`` until it returns, retrying 5xx answers and transport errors.

        ``method`` is charged to the quota ledger before every try. A non-retriable
        ``HttpError`` becomes its typed error (a quota answer also marks the day spent);
        a credentials failure becomes ``AuthenticationError``; anything else ``attempt``
        raises passes through. After ``max_retries`` retries the last error is raised
        as a ``YouTubeError``.
        """
        failures = 0
        while True:
            if method is not None:
                self._charge(method)
            try:
                return attempt()
            except HttpError as exc:
                if exc.resp.status not in RETRIABLE_STATUSES:
                    raise self._error(exc, what, method) from exc
                err: BaseException = exc
            except google.auth.exceptions.GoogleAuthError as exc:
                raise auth_error(exc, what) from exc
            except TRANSPORT_ERRORS as exc:
                err = exc
            failures += 1
            if on_retry is not None:
                on_retry()
            self._backoff(failures, what, err)

    def execute(self, request: Any, what: str, method: str | None = None) -> Any:
        """``request.execute()`` under the retry policy."""
        return self.call(request.execute, what, method)

    def exchange(self, http: Any, uri: str, method: str, what: str, **kw: Any) -> tuple[Any, bytes]:
        """One raw HTTP exchange on the authorized transport, under the retry policy.

        Any answer but a retriable one is returned as it is, for the caller to read.
        """

        def attempt() -> tuple[Any, bytes]:
            resp, content = http.request(uri, method=method, **kw)
            if resp.status in RETRIABLE_STATUSES:
                raise HttpError(resp, content, uri=uri)
            return resp, content

        return self.call(attempt, what)

    def _backoff(self, failures: int, what: str, err: BaseException) -> None:
        if failures > self.max_retries:
            raise YouTubeError(
                f"YouTube {what} failed after {self.max_retries} retries; last error: {type(err).__name__}: {describe(err)}"
            ) from err
        delay = min(self.backoff_base * (2 ** (failures - 1)), MAX_BACKOFF_S)
        log.warning(
            "YouTube %s: %s (%s); retry %d/%d in %.1fs",
            what,
            type(err).__name__,
            describe(err),
            failures,
            self.max_retries,
            delay,
        )
        self._sleep(delay)

    def _charge(self, method: str) -> None:
        if self.quota is not None:
            self.quota.charge(method)

    def _error(self, exc: HttpError, what: str, method: str | None = None) -> YouTubeError:
        err = translate(exc, what)
        if isinstance(err, QuotaExceededError) and self.quota is not None:
            self.quota.exhaust(err.reason or "quotaExceeded", method)
        return err

    # ------------------------------------------------------------------ reads
    def get_videos(self, ids: Iterable[str], part: str = "snippet,status") -> list[dict]:
        """Video resources for ``ids`` (unknown ids are simply absent)."""
        id_list: Sequence[str] = list(dict.fromkeys(ids))
        items: list[dict] = []
        for start in range(0, len(id_list), 50):  # API limit: 50 ids per call
            batch = ",".join(id_list[start : start + 50])
            resp = self.execute(self.service.videos().list(part=part, id=batch), "videos.list", "videos.list")
            items.extend(resp.get("items", []))
        return items

    # ----------------------------------------------------------------- writes
    def reschedule(self, video_id: str, publish_at: str) -> dict:
        """Move a scheduled (private until ``publishAt``) video to ``publish_at`` (RFC 3339):
        ``videos.list`` for its status, then ``videos.update(part=status)`` with that status and
        the new time (an update replaces the whole part, so the other fields are sent back as
        they were). Returns the video's new status."""
        found = self.get_videos([video_id], part="status")
        if not found:
            raise YouTubeError(f"video {video_id} is not on the channel (deleted on YouTube?)")
        status = {k: v for k, v in (found[0].get("status") or {}).items() if k in STATUS_WRITABLE}
        if status.get("privacyStatus") != "private" or not status.get("publishAt"):
            raise YouTubeError(
                f"video {video_id} is not scheduled (privacy {status.get('privacyStatus')!r}): "
                "only a private video waiting for its publish time can be moved"
            )
        status["publishAt"] = publish_at
        body = {"id": video_id, "status": status}
        resp = self.execute(
            self.service.videos().update(part="status", body=body), "videos.update", "videos.update"
        )
        return dict(resp.get("status") or {})

    def my_channel(self) -> dict | None:
        """The authorized channel (``channels.list(mine=True)``): id, title, uploads playlist."""
        resp = self.execute(
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
        cutoff = parse_rfc3339(since) if since else None
        if cutoff is not None:
            cutoff -= dt.timedelta(days=1)
        ids: list[str] = []
        token = None
        for _ in range(max_pages):
            kw: dict[str, Any] = {"part": "snippet", "playlistId": uploads, "maxResults": 50}
            if token:
                kw["pageToken"] = token
            resp = self.execute(
                self.service.playlistItems().list(**kw), "playlistItems.list", "playlistItems.list"
            )
            older = False
            for item in resp.get("items", []):
                snippet = item.get("snippet") or {}
                vid = (snippet.get("resourceId") or {}).get("videoId")
                if vid:
                    ids.append(vid)
                added = parse_rfc3339(snippet.get("publishedAt", ""))
                if cutoff is not None and added is not None and added < cutoff:
                    older = True
            token = resp.get("nextPageToken")
            if older or not token:
                break
        for video in self.get_videos(ids, part="snippet,status"):
            if marker in ((video.get("snippet") or {}).get("tags") or []):
                return video
        return None
