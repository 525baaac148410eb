"""``YouTubeEmulator``: the loopback YouTube Data API v3 a test, the demo or the CLI starts.

It owns the store (``store``), the OAuth endpoints (``oauth``) and the test hooks
(``faults``), serves them over HTTP on a thread, and offers what tests read back:
the videos, their captions, playlists, open sessions and the quota spent.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
from pathlib import Path

from omniva_devkit.youtube_emulator import playlists
from omniva_devkit.youtube_emulator.faults import Faults
from omniva_devkit.youtube_emulator.oauth import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEV_TOKEN,
    OAuthServer,
)
from omniva_devkit.youtube_emulator.server import Server, make_server
from omniva_devkit.youtube_emulator.store import (
    DEFAULT_BUCKET_CALLS,
    DEFAULT_DAILY_QUOTA,
    Clock,
    Store,
    write_private,
)

log = logging.getLogger(__name__)


class YouTubeEmulator:
    """In-process HTTP emulator; see the package docstring.

    ``strict_auth`` (default): only bearer tokens it issued (``/token``) and ``dev_token``
    (the fixed token of Omniva's emulator mode; None: OAuth tokens only) are accepted.
    ``strict_auth=False`` accepts any bearer token. Started as a bare server
    (``python -m omniva_devkit.youtube_emulator``) it accepts only the tokens it issued
    unless given ``--lax-auth``; Omniva's own launchers (``omniva_devkit.loopback`` for
    ``omniva run``/``demo``/``api``, and ``omniva youtube-emulator`` unless ``--oauth-only``)
    pass the dev token explicitly, since Omniva's emulator mode sends it.

    Quota: ``quota_model`` "buckets" (default; videos.insert and search.list ``bucket_calls``
    calls a day each, the rest ``daily_quota`` units) or "legacy" (videos.insert 1,600 units of
    ``daily_quota``). ``channel_upload_limit`` (0: none): uploads a day before the channel
    answers ``uploadLimitExceeded``. ``clock`` (UTC now) decides the quota day.
    """

    def __init__(
        self,
        data_dir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        daily_quota: int = DEFAULT_DAILY_QUOTA,
        channel_id: str = "UComnivaEmulatorChannel0",
        channel_title: str = "Omniva Emulator",
        strict_auth: bool = True,
        dev_token: str | None = DEV_TOKEN,
        oauth_clients: dict[str, str] | None = None,
        access_token_ttl_s: int = 3600,
        quota_model: str = "buckets",
        bucket_calls: int = DEFAULT_BUCKET_CALLS,
        channel_upload_limit: int = 0,
        clock: Clock | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.store = Store(
            data_dir,
            daily_quota=daily_quota,
            channel_id=channel_id,
            channel_title=channel_title,
            quota_model=quota_model,
            bucket_calls=bucket_calls,
            channel_upload_limit=channel_upload_limit,
            **({"clock": clock} if clock is not None else {}),
        )
        clients = dict(oauth_clients or {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET})
        self.oauth = OAuthServer(self.store, clients, access_token_ttl_s, strict_auth, dev_token)
        self.faults = Faults(self.store)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------- serving
    def start(self) -> str:
        if self._server is not None:
            return self.url
        server = make_server(self)
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},  # fast stop() (shutdown waits for a poll)
            name=f"youtube-emulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        log.info("YouTube emulator listening on %s (data in %s)", self.url, self.data_dir)
        return self.url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()  # keep-alive clients must not talk to a stopped instance
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(timeout=1)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    @property
    def url(self) -> str:
        host = self.host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    def __enter__(self) -> YouTubeEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------- test hooks
    def fail_next(self, status: int, count: int = 1, *, skip: int = 0) -> None:
        """See ``Faults.fail_next``: the next data-chunk PUTs answer ``status`` (0: dropped)."""
        self.faults.fail_next(status, count, skip=skip)

    def hold_when_received(self, n_bytes: int | None) -> None:
        """See ``Faults.hold_when_received``: hold the 308 once a session reaches ``n_bytes``."""
        self.faults.hold_when_received(n_bytes)

    def release(self) -> None:
        self.faults.release()

    @property
    def held(self) -> threading.Event:
        return self.faults.held

    @property
    def bytes_received(self) -> int:
        return self.faults.bytes_received

    @property
    def token_grants(self) -> list[str]:
        return self.oauth.token_grants

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (401) until refreshed."""
        self.oauth.expire_access_tokens()

    def create_playlist(self, title: str) -> str:
        return playlists.create_playlist(self.store, title)

    def reset_quota(self) -> None:
        self.store.reset_quota()

    def bucket_used(self, bucket: str) -> int:
        """Today's use of a bucket: ``videos.insert`` or ``search.list`` (calls), ``shared``
        (units), or ``uploads`` (the channel's uploads, for its daily upload limit)."""
        return self.store.bucket_used(bucket)

    # ----------------------------------------------------------- read back
    @property
    def data_dir(self) -> Path:
        return self.store.data_dir

    @property
    def channel_id(self) -> str:
        return self.store.channel_id

    @property
    def channel_title(self) -> str:
        return self.store.channel_title

    @property
    def uploads_playlist_id(self) -> str:
        return self.store.uploads_playlist_id

    @property
    def quota_used(self) -> int:
        return self.store.quota_used()

    def open_sessions(self) -> dict[str, int]:
        """Upload session id -> bytes confirmed so far."""
        return self.store.open_sessions()

    def videos(self) -> list[dict]:
        return self.store.public_videos()

    def video_path(self, video_id: str) -> Path:
        return self.store.video_path(video_id)

    def captions(self, video_id: str) -> list[dict]:
        with self.store.lock:
            return list(self.store.videos.get(video_id, {}).get("_captions", []))

    def branding(self) -> dict:
        """The channel's ``brandingSettings`` (``channels.update``)."""
        with self.store.lock:
            return json.loads(json.dumps(self.store.branding))

    def banner(self, url: str) -> bytes | None:
        """The bytes of a banner ``channelBanners.insert`` answered ``url`` for."""
        name = url.removeprefix(f"{self.url}banners/")
        path = self.data_dir / "banners" / name
        return path.read_bytes() if name != url and "/" not in name and path.is_file() else None

    @property
    def revocations(self) -> list[str]:
        """What each ``/revoke`` call revoked: ``refresh_token`` or ``access_token``."""
        return list(self.store.revoked)

    def playlist_video_ids(self, playlist_id: str) -> list[str]:
        return playlists.playlist_video_ids(self.store, playlist_id)

    def client_secrets(self, path: Path | None = None) -> dict:
        """An installed-app ``client_secret.json`` whose endpoints are this emulator."""
        client_id, secret = next(iter(self.oauth.clients.items()))
        config = {
            "installed": {
                "client_id": client_id,
                "client_secret": secret,
                "project_id": "omniva-emulator",
                "auth_uri": f"{self.url}o/oauth2/auth",
                "token_uri": f"{self.url}token",
                "redirect_uris": ["http://localhost"],
            }
        }
        if path is not None:
            write_private(Path(path), json.dumps(config))  # it holds the client secret
        return config


def from_args(argv: list[str] | None = None) -> YouTubeEmulator:
    """The emulator the command line asks for (not started): strict, OAuth tokens only,
    unless ``--lax-auth``."""
    parser = argparse.ArgumentParser(
        prog="python -m omniva_devkit.youtube_emulator", description="Loopback YouTube Data API v3 emulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument(
        "--daily-quota", type=int, default=DEFAULT_DAILY_QUOTA, help="units of the shared pool a day"
    )
    parser.add_argument("--quota-model", choices=("buckets", "legacy"), default="buckets")
    parser.add_argument(
        "--bucket-calls",
        type=int,
        default=DEFAULT_BUCKET_CALLS,
        help="videos.insert and search.list calls a day",
    )
    parser.add_argument(
        "--channel-upload-limit",
        type=int,
        default=0,
        help="uploads a day before uploadLimitExceeded (0: none)",
    )
    parser.add_argument(
        "--lax-auth",
        action="store_true",
        help="accept any bearer token, Omniva's fixed emulator token included "
        "(default: only tokens from its /token endpoint)",
    )
    args = parser.parse_args(argv)
    return YouTubeEmulator(
        args.data_dir,
        host=args.host,
        port=args.port,
        daily_quota=args.daily_quota,
        quota_model=args.quota_model,
        bucket_calls=args.bucket_calls,
        channel_upload_limit=args.channel_upload_limit,
        strict_auth=not args.lax_auth,
        dev_token=DEV_TOKEN if args.lax_auth else None,
    )


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    emulator = from_args(argv)
    url = emulator.start()
    print(f"YouTube emulator serving on {url} (data: {emulator.data_dir})", flush=True)
    emulator.serve_forever()
