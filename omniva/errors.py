"""Typed errors a user can hit. Each names the thing and says what to do."""

from __future__ import annotations


class OmnivaError(Exception):
    """Base class: a problem with a named input that the user can act on.

    ``retryable`` tells Eclipse (the failure classifier) whether trying again
    later can help; bad media never becomes good by retrying.
    """

    retryable = False


class SourceError(OmnivaError):
    """A creator URL or post cannot be listed or downloaded."""


class DeadLinkError(SourceError):
    """The post points at a URL that does not answer with media."""


class TransientSourceError(SourceError):
    retryable = True


class RateLimitedError(TransientSourceError):
    """The platform answered 429 (or 5xx) more often than our backoff allows."""


class UnavailableError(SourceError):
    """The post exists but cannot be fetched as things stand; ``reason`` says why.

    Retrying unchanged cannot help (Eclipse quarantines it); a cookies file, a proxy
    or the creator's own action can, after which an operator releases the partition.
    """

    reason = "unavailable"

    def __init__(self, message: str, reason: str | None = None):
        super().__init__(message)
        if reason:
            self.reason = reason


class PrivateVideoError(UnavailableError):
    reason = "private"


class RemovedVideoError(UnavailableError, DeadLinkError):
    reason = "removed"


class GeoBlockedError(UnavailableError):
    reason = "geo-blocked"


class AgeGatedError(UnavailableError):
    reason = "age-gated"


class MembersOnlyError(UnavailableError):
    reason = "members-only"


class LoginRequiredError(UnavailableError):
    reason = "login-required"


class MediaError(OmnivaError):
    """A media file that ffmpeg cannot use."""


class CorruptMediaError(MediaError):
    pass


class NoAudioError(MediaError):
    pass


class NoSpeechError(MediaError):
    pass


class RenderError(MediaError):
    pass


class ConfigError(OmnivaError):
    pass


class StorageFullError(OmnivaError):
    retryable = True


class UnsafeSourceError(SourceError):
    """A creator or media URL that points where Omniva must not fetch: the server's own files,
    loopback, private, link-local or cloud metadata addresses. Not retryable: the URL (or
    its DNS answer) has to change."""
