"""The emulator's HTTP side: a threaded server and the handler routing each request.

The handler only routes: the bearer-token check, then the endpoint's function in
``uploads``, ``videos``, ``playlists`` or ``oauth``, whose ``ApiError``/``OAuthError``
become Google's error bodies. The token is checked before the body is read: a 401
closes the connection instead of reading (possibly megabytes of) unauthenticated bytes.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote_plus, urlsplit

from omniva_devkit.youtube_emulator import branding, playlists, uploads, videos
from omniva_devkit.youtube_emulator.errors import (
    FAULT_REASONS,
    ApiError,
    OAuthError,
    error_body,
    unauthenticated_body,
)
from omniva_devkit.youtube_emulator.faults import DROP_CONNECTION, Faults
from omniva_devkit.youtube_emulator.oauth import OAuthServer
from omniva_devkit.youtube_emulator.store import Store

log = logging.getLogger(__name__)

_VIDEO_UPLOAD_PATHS = ("/upload/youtube/v3/videos", "/resumable/upload/youtube/v3/videos")
_THUMBNAIL_PATHS = ("/upload/youtube/v3/thumbnails/set", "/resumable/upload/youtube/v3/thumbnails/set")
_CAPTION_PATHS = ("/upload/youtube/v3/captions", "/resumable/upload/youtube/v3/captions")
_BANNER_PATHS = ("/upload/youtube/v3/channelBanners/insert",)


class Backend(Protocol):
    """What the handler serves from (``YouTubeEmulator``)."""

    store: Store
    oauth: OAuthServer
    faults: Faults
    host: str
    port: int

    @property
    def url(self) -> str: ...


class Server(ThreadingHTTPServer):
    """A threaded server that can close its keep-alive connections when stopped."""

    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def track(self, conn: socket.socket, alive: bool) -> None:
        with self._conns_lock:
            (self._conns.add if alive else self._conns.discard)(conn)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


def make_server(backend: Backend) -> Server:
    """A server on ``backend``'s host and port (0: any free port), not yet serving."""
    handler = type("_BoundHandler", (Handler,), {"backend": backend})
    return Server((backend.host, backend.port), handler)


class Handler(BaseHTTPRequestHandler):
    backend: Backend  # set on the bound subclass
    protocol_version = "HTTP/1.1"
    server_version = "OmnivaYouTubeEmulator/1.0"
    timeout = 60

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)  # type: ignore[attr-defined]

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s - %s", self.address_string(), format % args)

    # ------------------------------------------------------------- plumbing
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, code: int, payload: dict | None = None, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode() if payload is not None else b""
        try:
            self.send_response(code)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if payload is not None:
                self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)
        except OSError:  # the client went away (killed mid-request): nothing to answer
            self.close_connection = True

    def _base_url(self) -> str:
        host = self.headers.get("Host") or f"{self.backend.host}:{self.backend.port}"
        return f"http://{host}/"

    def _authorized(self) -> bool:
        auth = self.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            if self.backend.oauth.token_is_valid(token.strip()):
                return True
            self._unauthenticated(
                "Request had invalid authentication credentials.", "authError", "Invalid Credentials"
            )
        else:
            self._unauthenticated(
                "Request is missing required authentication credential.", "required", "Login Required."
            )
        return False

    def _unauthenticated(self, what: str, reason: str, short: str) -> None:
        """Google's 401 for a missing or invalid bearer token; the body stays unread, so the
        connection closes (a keep-alive reader would take the unread bytes for a request)."""
        body = unauthenticated_body(what, reason, short)
        self._send(
            401,
            body,
            {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"', "Connection": "close"},
        )
        self.close_connection = True

    # -------------------------------------------------------------- routing
    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = split.path.rstrip("/")
        if path in ("/o/oauth2/auth", "/token", "/revoke"):
            self._oauth(method, path, query, headers, self._read_body())
            return
        if not self._authorized():
            return
        body = self._read_body()
        store = self.backend.store
        try:
            if method == "POST" and path in _VIDEO_UPLOAD_PATHS:
                location = uploads.insert_start(store, query, headers, body, self._base_url())
                self._send(200, None, {"Location": location, "X-GUploader-UploadID": _upload_id(location)})
            elif method == "PUT" and path in _VIDEO_UPLOAD_PATHS and "upload_id" in query:
                self._upload_chunk(query["upload_id"], headers.get("content-range"), body)
            elif method == "GET" and path == "/youtube/v3/videos":
                self._send(200, videos.list_videos(store, query))
            elif method == "PUT" and path == "/youtube/v3/videos":
                self._send(200, videos.update_video(store, query, body))
            elif method == "POST" and path in _THUMBNAIL_PATHS:
                self._send(200, videos.set_thumbnail(store, query, headers, body, self.backend.url))
            elif method == "POST" and path in _CAPTION_PATHS:
                self._send(200, videos.insert_caption(store, query, headers, body))
            elif method == "GET" and path == "/youtube/v3/channels":
                self._send(200, playlists.list_channels(store, query))
            elif method == "PUT" and path == "/youtube/v3/channels":
                self._send(200, branding.update_channel(store, query, body, self.backend.url))
            elif method == "POST" and path in _BANNER_PATHS:
                self._send(200, branding.insert_banner(store, headers, body, self.backend.url))
            elif method == "GET" and path == "/youtube/v3/playlistItems":
                self._send(200, playlists.list_playlist_items(store, query))
            elif method == "POST" and path == "/youtube/v3/playlistItems":
                self._send(200, playlists.insert_playlist_item(store, query, body))
            else:
                raise ApiError(404, f"No emulated endpoint for {method} {split.path}.", "notFound")
        except ApiError as exc:
            self._send(exc.code, exc.body)
        except Exception as exc:  # pragma: no cover - keep the server alive, report as 500
            log.exception("emulator failure on %s %s", method, split.path)
            self._send(500, error_body(500, f"Emulator internal error: {exc}", "backendError"))

    def _upload_chunk(self, sid: str, content_range: str | None, body: bytes) -> None:
        faults = self.backend.faults
        is_data = bool(content_range) and not (content_range or "").strip().startswith("bytes */")
        if is_data:
            faults.received(len(body))
        fault = faults.take() if is_data else None
        if fault == DROP_CONNECTION:
            self.close_connection = True
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None:
            raise ApiError(fault, f"Injected fault {fault}.", FAULT_REASONS.get(fault, "backendError"))
        code, extra, payload = uploads.insert_chunk(self.backend.store, sid, content_range, body)
        if is_data and code == 308:
            faults.maybe_hold(sid)
        self._send(code, payload, extra)

    def _oauth(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> None:
        oauth = self.backend.oauth
        try:
            if method == "GET" and path == "/o/oauth2/auth":
                self._send(302, None, {"Location": oauth.authorize(query)})
            elif method == "POST" and path == "/token":
                form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
                scheme, _, cred = headers.get("authorization", "").partition(" ")
                if scheme.lower() == "basic" and cred:  # client authentication per RFC 6749 2.3.1
                    user, _, password = base64.b64decode(cred).decode("utf-8", "replace").partition(":")
                    form.setdefault("client_id", unquote_plus(user))
                    form.setdefault("client_secret", unquote_plus(password))
                self._send(200, oauth.token(form), {"Cache-Control": "no-store"})
            elif method == "POST" and path == "/revoke":
                form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
                form.update({k: v for k, v in query.items() if k == "token" and "token" not in form})
                oauth.revoke(form)
                self._send(200, {})
            else:
                self._send(405, {"error": "invalid_request", "error_description": f"{method} not allowed"})
        except OAuthError as exc:
            self._send(exc.code, exc.body)
        except ApiError as exc:
            self._send(
                exc.code, {"error": exc.body["error"]["errors"][0]["reason"], "error_description": str(exc)}
            )

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")


def _upload_id(location: str) -> str:
    return parse_qs(urlsplit(location).query).get("upload_id", [""])[0]
