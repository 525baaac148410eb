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
