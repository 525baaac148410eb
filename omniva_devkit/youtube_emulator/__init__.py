"""Loopback emulator of the YouTube Data API v3 pieces Omniva uses.

Standard library only. It speaks the same wire protocol that
``google-api-python-client`` drives for::

    videos().insert(..., media_body=MediaFileUpload(..., resumable=True))  # + next_chunk()
    videos().list(part=..., id="a,b")
    thumbnails().set(videoId=..., media_body=...)
    captions().insert(part="snippet", body=..., media_body=...)       # multipart
    channels().list(part=..., mine=True)
    channelBanners().insert(media_body=...)                          # then:
    channels().update(part="brandingSettings", body=...)              # the banner's URL
    playlistItems().list(playlistId=..., ...)  # the uploads playlist and created playlists
    playlistItems().insert(part="snippet", body=...)

and the two OAuth 2.0 endpoints an installed app uses, so google-auth-oauthlib's flow
and google-auth's token refresh run over real HTTP.

- ``emulator``: ``YouTubeEmulator``, what a test, the demo or the CLI starts; ``main``.
- ``server``: the threaded HTTP server and the handler that routes each request.
- ``store``: videos, sessions, playlists, tokens and quota, kept in ``data_dir``.
- ``uploads``: the resumable ``videos.insert`` protocol.
- ``videos``: ``videos.list``, ``thumbnails.set``, ``captions.insert``.
- ``playlists``: ``channels.list``, ``playlistItems.list``/``insert``.
- ``branding``: ``channelBanners.insert``, ``channels.update`` (brandingSettings).
- ``oauth``: ``/o/oauth2/auth``, ``/token`` and ``/revoke``; the bearer-token check (strict by default:
  only tokens it issued, and the dev token when given, checked before a request's body is read).
- ``faults``: test hooks (``fail_next``, ``hold_when_received``, ``bytes_received``).
- ``errors``: Google's error bodies.

Run standalone with ``python -m omniva_devkit.youtube_emulator --port 8089 --data-dir DIR``
(only OAuth tokens it issued; ``--lax-auth`` for Omniva's fixed emulator token).
"""

from omniva_devkit.youtube_emulator.emulator import YouTubeEmulator, main
from omniva_devkit.youtube_emulator.oauth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEV_TOKEN
from omniva_devkit.youtube_emulator.store import DEFAULT_DAILY_QUOTA, QUOTA_BUCKETS, QUOTA_COSTS

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_DAILY_QUOTA",
    "DEV_TOKEN",
    "QUOTA_BUCKETS",
    "QUOTA_COSTS",
    "YouTubeEmulator",
    "main",
]
