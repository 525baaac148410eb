"""What can go wrong talking to YouTube, and how a failure is sorted.

Every failure becomes one of the typed errors below, or is retried. ``translate``
sorts an API answer (quota, credentials, anything else); ``RETRIABLE_STATUSES`` and
``TRANSPORT_ERRORS`` say what is worth another try. Messages never carry a token or
an upload session URI (which acts as a capability): only statuses, reasons and the
API's own message.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Sequence

import google.auth.exceptions
import httplib2
from googleapiclient.errors import HttpError

from cognitive_sensors import horizon
from omniva.errors import OmnivaError

RETRIABLE_STATUSES = frozenset({500, 502, 503, 504})
#: A resumable session the server no longer knows (expired or never opened).
SESSION_GONE_STATUSES = frozenset({404, 410})
QUOTA_REASONS = frozenset({"quotaExceeded", "uploadLimitExceeded", "dailyLimitExceeded"})
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    socket.error,  # == OSError; includes socket timeouts and ssl errors
    httplib2.HttpLib2Error,
)


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


def iso(at: dt.datetime) -> str:
    """``at`` in UTC as YouTube writes timestamps (``2030-01-01T17:00:00Z``)."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_reason(exc: HttpError) -> tuple[str | None, str]:
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


def translate(exc: HttpError, what: str) -> YouTubeError:
    """The typed error for an API answer that is not worth retrying."""
    status = exc.resp.status if exc.resp is not None else None
    reason, message = error_reason(exc)
    if status in (400, 403, 429) and reason in QUOTA_REASONS:
        reset = next_quota_reset()
        if reason == "uploadLimitExceeded":
            # Per channel, not per project (YouTube answers 400): this channel waits for its
            # next day; other channels keep publishing.
            return QuotaExceededError(
                f"YouTube uploadLimitExceeded during {what}: {message} The channel reached its daily "
                f"upload limit; its uploads are paused until its next day ({iso(reset)}, midnight "
                "Pacific).",
                status=status,
                reason=reason,
                resets_at=reset,
            )
        return QuotaExceededError(
            f"YouTube {reason} during {what}: {message} Deferred to the next quota window: the daily "
            f"quota resets at midnight Pacific time ({iso(reset)}).",
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


def auth_error(exc: google.auth.exceptions.GoogleAuthError, what: str) -> AuthenticationError:
    # The exception text can carry the token endpoint's answer; only its type is kept.
    return AuthenticationError(
        f"YouTube credentials could not be used or refreshed during {what} ({type(exc).__name__}); "
        "run `omniva youtube auth` to re-authorize (refresh tokens of OAuth apps in 'Testing' "
        "status expire after 7 days)."
    )


def describe(err: BaseException) -> str:
    """A short, token-free account of ``err`` for logs and messages."""
    if isinstance(err, HttpError):
        reason, message = error_reason(err)
        return f"HTTP {err.resp.status} {reason or ''} {message}".strip()
    return str(err)[:200]
