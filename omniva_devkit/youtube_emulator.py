"""Loopback emulator of the YouTube Data API v3 pieces Omniva uses.

Standard library only. It speaks the same wire protocol that
``google-api-python-client`` drives for::

    videos().insert(..., media_body=MediaFileUpload(..., resumable=True))  # + next_chunk()
    videos().list(part=..., id="a,b")
    thumbnails().set(videoId=..., media_body=...)
    captions().insert(part="snippet", body=..., media_body=...)       # multipart
    channels().list(part=..., mine=True)
    playlistItems().list(playlistId=..., ...)  # the uploads playlist and created playlists
    playlistItems().insert(part="snippet", body=...)

and the two OAuth 2.0 endpoints an installed app uses (``GET /o/oauth2/auth``,
which consents at once and redirects to the loopback ``redirect_uri`` with a
code, and ``POST /token`` for the ``authorization_code`` grant with PKCE and the
``refresh_token`` grant), so google-auth-oauthlib's flow and google-auth's token
refresh run over real HTTP. With ``strict_auth`` only access tokens it issued and
that have not expired are accepted (``expire_access_tokens()`` forces the
401 -> refresh -> retry path); otherwise any bearer token is.

Resumable upload protocol (as used by the client library):

* ``POST /upload/youtube/v3/videos?uploadType=resumable&part=...`` with the
  JSON metadata body -> ``200`` + ``Location: <session uri>``.
* ``PUT <session uri>`` with ``Content-Range: bytes a-b/total`` -> ``308`` with
  ``Range: bytes=0-<last confirmed byte>`` until complete, then ``200`` with the
  video resource.
* ``PUT <session uri>`` with ``Content-Range: bytes */total`` and an empty body
  is a status query -> ``308`` with the confirmed ``Range`` (none when nothing is
  confirmed yet), or ``200`` + resource when the upload already finished.

State lives in ``data_dir`` (``state.json``, ``sessions/*.part``,
``videos/<id>.mp4`` + ``videos/<id>.json``, ``thumbnails/``, ``captions/``) so a
restarted emulator still knows its videos, open sessions, playlists, tokens and
the quota spent today.

Test hooks: ``fail_next`` (5xx or dropped connections on data chunks),
``hold_when_received`` (stall the answer to the chunk that brings a session past
N bytes, e.g. to kill the client at a known point), ``bytes_received``.

Run standalone with ``python -m omniva_devkit.youtube_emulator --port 8089 --data-dir DIR``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import email.parser
import email.policy
import hashlib
import json
import logging
import os
import re
import secrets
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

log = logging.getLogger(__name__)

#: YouTube Data API quota costs (units) of the calls we emulate.
QUOTA_COSTS = {
    "videos.insert": 1600,
    "videos.list": 1,
    "thumbnails.set": 50,
    "captions.insert": 400,
    "channels.list": 1,
    "playlistItems.list": 1,
    "playlistItems.insert": 50,
}
#: The OAuth client the emulator knows by default (``client_secrets()`` writes it out).
DEFAULT_CLIENT_ID = "omniva-emulator.apps.googleusercontent.com"
DEFAULT_CLIENT_SECRET = "omniva-emulator-client-secret"
DEFAULT_DAILY_QUOTA = 10_000
#: Non-final chunks of a resumable upload must be multiples of this.
CHUNK_GRANULARITY = 256 * 1024
MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024

_VIDEO_UPLOAD_PATHS = ("/upload/youtube/v3/videos", "/resumable/upload/youtube/v3/videos")
_THUMBNAIL_PATHS = ("/upload/youtube/v3/thumbnails/set", "/resumable/upload/youtube/v3/thumbnails/set")
_CAPTION_PATHS = ("/upload/youtube/v3/captions", "/resumable/upload/youtube/v3/captions")
_CONTENT_RANGE_RE = re.compile(r"^bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)$")
_PRIVACY_VALUES = ("private", "public", "unlisted")
_DROP_CONNECTION = 0


def _pacific_today() -> str:
    """Quota day: YouTube quotas reset at midnight Pacific time."""
    try:
        from zoneinfo import ZoneInfo

        tz: dt.tzinfo = ZoneInfo("America/Los_Angeles")
    except Exception:  # pragma: no cover - no tz database available
        tz = dt.timezone(dt.timedelta(hours=-8))
    return dt.datetime.now(tz).date().isoformat()


def _now_rfc3339() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error_body(code: int, message: str, reason: str, domain: str = "global", **extra: str) -> dict:
    err: dict[str, Any] = {"message": message, "domain": domain, "reason": reason}
    err.update(extra)
    return {"error": {"code": code, "message": message, "errors": [err]}}


class _ApiError(Exception):
    def __init__(self, code: int, message: str, reason: str, domain: str = "global", **extra: str):
        super().__init__(message)
        self.code = code
        self.body = _error_body(code, message, reason, domain, **extra)


_FAULT_REASONS = {
    400: "badRequest",
    401: "authError",
    403: "forbidden",
    404: "notFound",
    429: "rateLimitExceeded",
    500: "backendError",
    502: "backendError",
    503: "backendError",
    504: "backendError",
}


class YouTubeEmulator:
    """In-process HTTP emulator; see module docstring."""

    def __init__(
        self,
        data_dir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        daily_quota: int = DEFAULT_DAILY_QUOTA,
        channel_id: str = "UComnivaEmulatorChannel0",
        channel_title: str = "Omniva Emulator",
        strict_auth: bool = False,
        oauth_clients: dict[str, str] | None = None,
        access_token_ttl_s: int = 3600,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port
        self.daily_quota = daily_quota
        self.channel_id = channel_id
        self.channel_title = channel_title
        self.strict_auth = strict_auth
        self.oauth_clients = dict(oauth_clients or {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET})
        self.access_token_ttl_s = access_token_ttl_s
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._faults: list[int] = []  # statuses for the next data-chunk PUTs
        self._fault_skip = 0
        self._hold_at: int | None = None
        self.held = threading.Event()  # set while a chunk answer is being held back
        self._release = threading.Event()
        self.bytes_received = 0  # media bytes received in chunk PUTs (retries and resends included)
        self.token_grants: list[str] = []  # grant_type of every successful /token call
        self._videos: dict[str, dict] = {}
        self._sessions: dict[str, dict] = {}
        self._playlists: dict[str, dict] = {}
        self._codes: dict[str, dict] = {}
        self._access_tokens: dict[str, float] = {}  # token -> expiry (epoch seconds)
        self._refresh_tokens: dict[str, dict] = {}
        self._quota = {"day": _pacific_today(), "used": 0}
        for sub in ("videos", "sessions", "thumbnails", "captions"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)
        self._load_state()

    # ------------------------------------------------------------------ public
    def start(self) -> str:
        if self._server is not None:
            return self.url
        handler = type("_BoundHandler", (_Handler,), {"emulator": self})
        server = _Server((self.host, self.port), handler)
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

    def fail_next(self, status: int, count: int = 1, *, skip: int = 0) -> None:
        """Make the next ``count`` data-chunk PUTs answer ``status`` without storing the chunk.

        ``skip`` lets that many data-chunk PUTs succeed first (to hit a middle
        chunk). ``status=0`` drops the connection after reading the request
        instead of answering. Status-query PUTs (``bytes */N``) are never failed.
        """
        with self._lock:
            self._fault_skip = skip
            self._faults = [status] * count

    def hold_when_received(self, n_bytes: int | None) -> None:
        """Hold back the answer to the data chunk that brings a session to ``n_bytes`` or more.

        The chunk is stored (the server has confirmed it) but its 308 is not sent until
        ``release()`` (or 60 s); ``held`` is set meanwhile, so a test can kill the client
        at exactly that point. ``None`` switches it off.
        """
        with self._lock:
            self._hold_at = n_bytes
            self.held.clear()
            self._release.clear()

    def release(self) -> None:
        self._release.set()

    def _maybe_hold(self, sid: str) -> None:
        with self._lock:
            if self._hold_at is None or sid not in self._sessions:
                return
            if self._part_path(sid).stat().st_size < self._hold_at:
                return
            self._hold_at = None
        self.held.set()
        self._release.wait(timeout=60)

    def open_sessions(self) -> dict[str, int]:
        """Upload session id -> bytes confirmed so far."""
        with self._lock:
            return {sid: self._part_path(sid).stat().st_size for sid in self._sessions}

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (401) until refreshed."""
        with self._lock:
            self._access_tokens = {t: 0.0 for t in self._access_tokens}
            self._save_state()

    def create_playlist(self, title: str) -> str:
        with self._lock:
            pid = "PL" + secrets.token_urlsafe(24)[:32]
            self._playlists[pid] = {"title": title, "items": []}
            self._save_state()
            return pid

    def playlist_video_ids(self, playlist_id: str) -> list[str]:
        with self._lock:
            return [i["videoId"] for i in self._playlists.get(playlist_id, {}).get("items", [])]

    def captions(self, video_id: str) -> list[dict]:
        with self._lock:
            return list(self._videos.get(video_id, {}).get("_captions", []))

    @property
    def uploads_playlist_id(self) -> str:
        return "UU" + self.channel_id[2:]

    def client_secrets(self, path: Path | None = None) -> dict:
        """An installed-app ``client_secret.json`` whose endpoints are this emulator."""
        client_id, secret = next(iter(self.oauth_clients.items()))
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
            Path(path).write_text(json.dumps(config))
        return config

    def videos(self) -> list[dict]:
        with self._lock:
            return [
                {k: v for k, v in json.loads(json.dumps(video)).items() if not k.startswith("_")}
                for video in self._videos.values()
            ]

    def video_path(self, video_id: str) -> Path:
        return self.data_dir / "videos" / f"{video_id}.mp4"

    @property
    def quota_used(self) -> int:
        with self._lock:
            self._roll_quota_day()
            return self._quota["used"]

    def reset_quota(self) -> None:
        with self._lock:
            self._quota = {"day": _pacific_today(), "used": 0}
            self._save_state()

    # ----------------------------------------------------------------- state
    @property
    def _state_file(self) -> Path:
        return self.data_dir / "state.json"

    def _load_state(self) -> None:
        if self._state_file.exists():
            state = json.loads(self._state_file.read_text())
            self._sessions = state.get("sessions", {})
            self._quota = state.get("quota", self._quota)
            self._playlists = state.get("playlists", {})
            oauth = state.get("oauth", {})
            self._access_tokens = oauth.get("access_tokens", {})
            self._refresh_tokens = oauth.get("refresh_tokens", {})
        for meta in sorted((self.data_dir / "videos").glob("*.json")):
            video = json.loads(meta.read_text())
            self._videos[video["id"]] = video
        # The .part file is the source of truth for the confirmed offset.
        for sid in list(self._sessions):
            if not self._part_path(sid).exists():
                self._part_path(sid).touch()
        self._roll_quota_day()

    def _save_state(self) -> None:
        state = {
            "sessions": self._sessions,
            "quota": self._quota,
            "playlists": self._playlists,
            "oauth": {"access_tokens": self._access_tokens, "refresh_tokens": self._refresh_tokens},
        }
        tmp = self._state_file.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
        os.replace(tmp, self._state_file)

    def _part_path(self, sid: str) -> Path:
        return self.data_dir / "sessions" / f"{sid}.part"

    def _roll_quota_day(self) -> None:
        today = _pacific_today()
        if self._quota.get("day") != today:
            self._quota = {"day": today, "used": 0}

    def _charge(self, method: str) -> None:
        cost = QUOTA_COSTS[method]
        with self._lock:
            self._roll_quota_day()
            if self._quota["used"] + cost > self.daily_quota:
                msg = (
                    "The request cannot be completed because you have exceeded your "
                    '<a href="/youtube/v3/getting-started#quota">quota</a>.'
                )
                raise _ApiError(403, msg, "quotaExceeded", "youtube.quota")
            self._quota["used"] += cost
            self._save_state()

    def _take_fault(self) -> int | None:
        with self._lock:
            if not self._faults:
                return None
            if self._fault_skip > 0:
                self._fault_skip -= 1
                return None
            return self._faults.pop(0)

    # ------------------------------------------------------------ operations
    def _new_video_id(self) -> str:
        while True:
            vid = secrets.token_urlsafe(8)[:11]  # 11 chars of [A-Za-z0-9_-]
            if vid not in self._videos:
                return vid

    def _render(self, video: dict, parts: set[str]) -> dict:
        out = {k: video[k] for k in ("kind", "etag", "id")}
        for part in ("snippet", "status", "contentDetails", "fileDetails"):
            if part in parts and part in video:
                out[part] = video[part]
        return out

    def insert_start(self, query: dict[str, str], headers: dict[str, str], body: bytes, base: str) -> str:
        if query.get("uploadType") != "resumable":
            raise _ApiError(400, "Only uploadType=resumable is supported by the emulator.", "badRequest")
        parts = {p.strip() for p in query.get("part", "").split(",") if p.strip()}
        if not parts:
            raise _ApiError(400, "'part' is required.", "required", location="part", locationType="parameter")
        try:
            meta = json.loads(body or b"{}")
        except ValueError as exc:
            raise _ApiError(400, f"Request body is not valid JSON: {exc}", "parseError") from exc
        snippet = dict(meta.get("snippet") or {})
        status = dict(meta.get("status") or {})
        title = snippet.get("title", "")
        if not title or len(title) > 100:
            raise _ApiError(
                400, "The request metadata specifies an invalid video title.", "invalidTitle", "youtube.video"
            )
        if len(snippet.get("description", "")) > 5000:
            raise _ApiError(
                400,
                "The request metadata specifies an invalid video description.",
                "invalidDescription",
                "youtube.video",
            )
        privacy = status.setdefault("privacyStatus", "public")
        if privacy not in _PRIVACY_VALUES:
            raise _ApiError(
                400, f"Invalid privacyStatus {privacy!r}.", "invalidVideoMetadata", "youtube.video"
            )
        if status.get("publishAt"):
            if privacy != "private":
                raise _ApiError(
                    400,
                    "The request metadata specifies a scheduled-publishing time, but the video's privacy status is not private.",
                    "invalidPublishAt",
                    "youtube.video",
                )
            try:
                dt.datetime.fromisoformat(status["publishAt"].replace("Z", "+00:00"))
            except ValueError as exc:
                raise _ApiError(
                    400, "The publishAt time is invalid.", "invalidPublishAt", "youtube.video"
                ) from exc
        total = headers.get("x-upload-content-length")
        self._charge("videos.insert")
        sid = secrets.token_urlsafe(24)
        with self._lock:
            self._sessions[sid] = {
                "parts": sorted(parts),
                "snippet": snippet,
                "status": status,
                "total": int(total) if total and total.isdigit() else None,
                "mimetype": headers.get("x-upload-content-type", "video/*"),
                "created": _now_rfc3339(),
            }
            self._part_path(sid).write_bytes(b"")
            self._save_state()
        return f"{base}upload/youtube/v3/videos?uploadType=resumable&upload_id={sid}"

    def insert_chunk(
        self, sid: str, content_range: str | None, body: bytes
    ) -> tuple[int, dict[str, str], dict | None]:
        """Returns (status, extra headers, json body or None)."""
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                done = self._finished_by_session(sid)
                if done is not None:
                    return 200, {}, done
                raise _ApiError(404, "The upload session was not found or has expired.", "notFound")
            part = self._part_path(sid)
            received = part.stat().st_size if part.exists() else 0
            m = _CONTENT_RANGE_RE.match((content_range or "").strip())
            if content_range and not m:
                raise _ApiError(400, f"Invalid Content-Range header: {content_range!r}", "badContent")
            total: int | None = session["total"]
            if m and m.group(3) != "*":
                claimed = int(m.group(3))
                if total is not None and claimed != total:
                    raise _ApiError(
                        400,
                        f"Content-Range total {claimed} does not match the declared upload length {total}.",
                        "badContent",
                    )
                total = claimed
            if m is None or m.group(1) is None:
                # Status query (or an empty final PUT).
                if body:
                    raise _ApiError(400, "Content-Range 'bytes */N' must not carry data.", "badContent")
                if total is not None and received == total:
                    session["total"] = total
                    return 200, {}, self._finalize(sid, session)
                return 308, self._range_header(received), None
            start, end = int(m.group(1)), int(m.group(2))
            if end < start or len(body) != end - start + 1:
                raise _ApiError(
                    400,
                    f"Content-Range {content_range!r} does not match the {len(body)} bytes received.",
                    "badContent",
                )
            if total is not None and end >= total:
                raise _ApiError(400, "Content-Range ends past the total upload length.", "badContent")
            if start > received:
                # A gap: tell the client what we really have.
                return 308, self._range_header(received), None
            is_last = total is not None and end + 1 == total
            if not is_last and (end + 1) % CHUNK_GRANULARITY != 0:
                raise _ApiError(
                    400,
                    f"Non-final chunks must end on a multiple of {CHUNK_GRANULARITY} bytes.",
                    "badContent",
                )
            new = body[received - start :]
            if new:
                with part.open("ab") as fh:
                    fh.write(new)
            received = end + 1 if end + 1 > received else received
            session["total"] = total
            if total is not None and received == total:
                return 200, {}, self._finalize(sid, session)
            self._save_state()
            return 308, self._range_header(received), None

    @staticmethod
    def _range_header(received: int) -> dict[str, str]:
        return {"Range": f"bytes=0-{received - 1}"} if received > 0 else {}

    def _finished_by_session(self, sid: str) -> dict | None:
        for video in self._videos.values():
            if video.get("_session") == sid:
                return self._render(video, set(video.get("_parts", ["snippet", "status"])))
        return None

    def _finalize(self, sid: str, session: dict) -> dict:
        part = self._part_path(sid)
        size = part.stat().st_size
        if session["total"] is not None and size != session["total"]:
            raise _ApiError(400, f"Upload incomplete: {size} of {session['total']} bytes.", "badContent")
        vid = self._new_video_id()
        digest = hashlib.sha256(part.read_bytes()).hexdigest()
        os.replace(part, self.video_path(vid))
        snippet = dict(session["snippet"])
        snippet.setdefault("description", "")
        snippet.setdefault("categoryId", "22")
        snippet.update(
            publishedAt=_now_rfc3339(),
            channelId=self.channel_id,
            channelTitle=self.channel_title,
            liveBroadcastContent="none",
            localized={"title": snippet.get("title", ""), "description": snippet.get("description", "")},
        )
        status = dict(session["status"])
        status.setdefault("license", "youtube")
        status.setdefault("embeddable", True)
        status.setdefault("publicStatsViewable", True)
        status["uploadStatus"] = "uploaded"
        if "selfDeclaredMadeForKids" in status:
            status["madeForKids"] = bool(status["selfDeclaredMadeForKids"])
        video = {
            "kind": "youtube#video",
            "etag": hashlib.sha1(f"{vid}:{digest}".encode()).hexdigest()[:27],
            "id": vid,
            "snippet": snippet,
            "status": status,
            "fileDetails": {"fileSize": str(size), "fileType": "video", "sha256": digest},
            "_session": sid,
            "_parts": session["parts"],
            "_seq": max((v.get("_seq", 0) for v in self._videos.values()), default=0) + 1,
        }
        (self.data_dir / "videos" / f"{vid}.json").write_text(json.dumps(video, indent=1, sort_keys=True))
        self._videos[vid] = video
        del self._sessions[sid]
        self._save_state()
        log.info("emulator stored video %s (%d bytes)", vid, size)
        return self._render(video, set(session["parts"]))

    def list_videos(self, query: dict[str, str]) -> dict:
        parts = {p.strip() for p in query.get("part", "").split(",") if p.strip()}
        if not parts:
            raise _ApiError(400, "'part' is required.", "required", location="part", locationType="parameter")
        ids = [i for i in query.get("id", "").split(",") if i]
        self._charge("videos.list")
        with self._lock:
            items = [self._render(self._videos[i], parts) for i in ids if i in self._videos]
        return {
            "kind": "youtube#videoListResponse",
            "etag": hashlib.sha1(",".join(ids).encode()).hexdigest()[:27],
            "items": items,
            "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
        }

    def _save_video(self, vid: str) -> None:
        (self.data_dir / "videos" / f"{vid}.json").write_text(
            json.dumps(self._videos[vid], indent=1, sort_keys=True)
        )

    def list_channels(self, query: dict[str, str]) -> dict:
        parts = {p.strip() for p in query.get("part", "").split(",") if p.strip()}
        if not parts:
            raise _ApiError(400, "'part' is required.", "required", location="part", locationType="parameter")
        if query.get("mine", "").lower() != "true":
            raise _ApiError(400, "The emulator supports channels.list with mine=true only.", "badRequest")
        self._charge("channels.list")
        channel: dict[str, Any] = {
            "kind": "youtube#channel",
            "etag": hashlib.sha1(self.channel_id.encode()).hexdigest()[:27],
            "id": self.channel_id,
        }
        if "snippet" in parts:
            channel["snippet"] = {
                "title": self.channel_title,
                "description": "",
                "publishedAt": _now_rfc3339(),
            }
        if "contentDetails" in parts:
            channel["contentDetails"] = {
                "relatedPlaylists": {"likes": "", "uploads": self.uploads_playlist_id}
            }
        return {
            "kind": "youtube#channelListResponse",
            "items": [channel],
            "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
        }

    def _playlist_entries(self, playlist_id: str) -> list[dict]:
        """(videoId, added) of a playlist, in the API's order (uploads: newest first)."""
        if playlist_id == self.uploads_playlist_id:
            videos = sorted(self._videos.values(), key=lambda v: v.get("_seq", 0), reverse=True)
            return [{"videoId": v["id"], "added": v["snippet"].get("publishedAt", "")} for v in videos]
        if playlist_id not in self._playlists:
            raise _ApiError(
                404,
                "The playlist identified with the request's playlistId parameter cannot be found.",
                "playlistNotFound",
                "youtube.playlistItem",
                location="playlistId",
                locationType="parameter",
            )
        return list(self._playlists[playlist_id]["items"])

    def list_playlist_items(self, query: dict[str, str]) -> dict:
        parts = {p.strip() for p in query.get("part", "").split(",") if p.strip()}
        if not parts:
            raise _ApiError(400, "'part' is required.", "required", location="part", locationType="parameter")
        playlist_id = query.get("playlistId", "")
        size = max(0, min(int(query.get("maxResults") or 5), 50))
        start = int(query.get("pageToken") or 0) if (query.get("pageToken") or "0").isdigit() else 0
        self._charge("playlistItems.list")
        with self._lock:
            entries = self._playlist_entries(playlist_id)
            page = entries[start : start + size]
            items = []
            for pos, entry in enumerate(page, start=start):
                video = self._videos.get(entry["videoId"], {})
                item: dict[str, Any] = {
                    "kind": "youtube#playlistItem",
                    "etag": hashlib.sha1(f"{playlist_id}:{entry['videoId']}".encode()).hexdigest()[:27],
                    "id": hashlib.sha1(f"{playlist_id}:{pos}".encode()).hexdigest()[:32],
                }
                if "snippet" in parts:
                    item["snippet"] = {
                        "publishedAt": entry["added"],
                        "channelId": self.channel_id,
                        "title": video.get("snippet", {}).get("title", ""),
                        "description": video.get("snippet", {}).get("description", ""),
                        "channelTitle": self.channel_title,
                        "playlistId": playlist_id,
                        "position": pos,
                        "resourceId": {"kind": "youtube#video", "videoId": entry["videoId"]},
                    }
                if "contentDetails" in parts:
                    item["contentDetails"] = {"videoId": entry["videoId"]}
                if "status" in parts:
                    item["status"] = {
                        "privacyStatus": video.get("status", {}).get("privacyStatus", "private")
                    }
                items.append(item)
        out: dict[str, Any] = {
            "kind": "youtube#playlistItemListResponse",
            "items": items,
            "pageInfo": {"totalResults": len(entries), "resultsPerPage": size},
        }
        if start + size < len(entries):
            out["nextPageToken"] = str(start + size)
        if start > 0:
            out["prevPageToken"] = str(max(start - size, 0))
        return out

    def insert_playlist_item(self, query: dict[str, str], body: bytes) -> dict:
        try:
            meta = json.loads(body or b"{}")
        except ValueError as exc:
            raise _ApiError(400, f"Request body is not valid JSON: {exc}", "parseError") from exc
        snippet = meta.get("snippet") or {}
        playlist_id = snippet.get("playlistId", "")
        vid = (snippet.get("resourceId") or {}).get("videoId", "")
        with self._lock:
            if playlist_id not in self._playlists:
                raise _ApiError(
                    404,
                    "The playlist identified with the request's playlistId parameter cannot be found.",
                    "playlistNotFound",
                    "youtube.playlistItem",
                )
            if vid not in self._videos:
                raise _ApiError(404, f"Video {vid!r} not found.", "videoNotFound", "youtube.playlistItem")
        self._charge("playlistItems.insert")
        with self._lock:
            items = self._playlists[playlist_id]["items"]
            items.append({"videoId": vid, "added": _now_rfc3339()})
            self._save_state()
            return {
                "kind": "youtube#playlistItem",
                "id": hashlib.sha1(f"{playlist_id}:{len(items) - 1}".encode()).hexdigest()[:32],
                "snippet": {
                    "playlistId": playlist_id,
                    "position": len(items) - 1,
                    "resourceId": {"kind": "youtube#video", "videoId": vid},
                    "title": self._videos[vid]["snippet"].get("title", ""),
                },
            }

    def insert_caption(self, query: dict[str, str], headers: dict[str, str], body: bytes) -> dict:
        if query.get("uploadType") != "multipart":
            raise _ApiError(
                400, "captions.insert needs the metadata and the track (multipart).", "badRequest"
            )
        meta, track = _split_multipart(headers.get("content-type", ""), body)
        snippet = meta.get("snippet") or {}
        vid = snippet.get("videoId", "")
        language = snippet.get("language", "")
        with self._lock:
            if vid not in self._videos:
                raise _ApiError(
                    404, f"The video {vid!r} cannot be found.", "videoNotFound", "youtube.caption"
                )
        if not language:
            raise _ApiError(400, "snippet.language is required.", "required", "youtube.caption")
        if not track.strip():
            raise _ApiError(400, "The caption track is empty.", "contentRequired", "youtube.caption")
        if b"-->" not in track:
            raise _ApiError(
                400, "The caption track is not in a recognised format.", "invalidFormat", "youtube.caption"
            )
        self._charge("captions.insert")
        cid = secrets.token_urlsafe(16)
        with self._lock:
            (self.data_dir / "captions" / f"{vid}.{cid}.srt").write_bytes(track)
            caption = {
                "kind": "youtube#caption",
                "id": cid,
                "snippet": {
                    "videoId": vid,
                    "language": language,
                    "name": snippet.get("name", ""),
                    "isDraft": bool(snippet.get("isDraft", False)),
                    "trackKind": "standard",
                    "lastUpdated": _now_rfc3339(),
                    "status": "serving",
                },
            }
            self._videos[vid].setdefault("_captions", []).append(caption)
            self._save_video(vid)
        return caption

    # ------------------------------------------------------------------ OAuth
    def oauth_authorize(self, query: dict[str, str]) -> str:
        """Consent at once: the redirect (with a code) the user's browser would get."""
        client_id = query.get("client_id", "")
        redirect_uri = query.get("redirect_uri", "")
        if client_id not in self.oauth_clients:
            raise _ApiError(401, "The OAuth client was not found.", "invalid_client")
        host = urlsplit(redirect_uri).hostname
        if urlsplit(redirect_uri).scheme != "http" or host not in ("localhost", "127.0.0.1", "::1"):
            raise _ApiError(
                400, "redirect_uri must be a loopback address for installed apps.", "redirect_uri_mismatch"
            )
        if query.get("response_type") != "code":
            raise _ApiError(400, "response_type must be 'code'.", "unsupported_response_type")
        code = "4/" + secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": query.get("scope", ""),
                "challenge": query.get("code_challenge"),
                "method": query.get("code_challenge_method", "plain"),
            }
        sep = "&" if "?" in redirect_uri else "?"
        return f"{redirect_uri}{sep}{urlencode({'state': query.get('state', ''), 'code': code, 'scope': query.get('scope', '')})}"

    def _issue(self, client_id: str, scope: str, refresh_token: str | None) -> dict:
        token = "ya29.emu-" + secrets.token_urlsafe(24)
        self._access_tokens[token] = time.time() + self.access_token_ttl_s
        out = {
            "access_token": token,
            "expires_in": self.access_token_ttl_s,
            "token_type": "Bearer",
            "scope": scope,
        }
        if refresh_token is None:
            refresh_token = "1//emu-" + secrets.token_urlsafe(32)
            self._refresh_tokens[refresh_token] = {"client_id": client_id, "scope": scope}
            out["refresh_token"] = refresh_token
        self._save_state()
        return out

    def oauth_token(self, form: dict[str, str]) -> dict:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if self.oauth_clients.get(client_id) != secret:
            raise _OAuthError(401, "invalid_client", "The OAuth client was not found.")
        grant = form.get("grant_type")
        with self._lock:
            if grant == "authorization_code":
                pending = self._codes.pop(form.get("code", ""), None)
                if pending is None or pending["client_id"] != client_id:
                    raise _OAuthError(400, "invalid_grant", "Malformed auth code.")
                if form.get("redirect_uri") != pending["redirect_uri"]:
                    raise _OAuthError(400, "redirect_uri_mismatch", "Bad Request")
                if pending["challenge"]:
                    verifier = form.get("code_verifier", "")
                    if pending["method"] == "S256":
                        digest = hashlib.sha256(verifier.encode()).digest()
                        computed = base64.urlsafe_b64encode(digest).decode().rstrip("=")
                    else:
                        computed = verifier
                    if computed != pending["challenge"]:
                        raise _OAuthError(400, "invalid_grant", "Invalid code verifier.")
                out = self._issue(client_id, pending["scope"], None)
            elif grant == "refresh_token":
                known = self._refresh_tokens.get(form.get("refresh_token", ""))
                if known is None or known["client_id"] != client_id:
                    raise _OAuthError(400, "invalid_grant", "Token has been expired or revoked.")
                out = self._issue(client_id, known["scope"], form.get("refresh_token"))
            else:
                raise _OAuthError(400, "unsupported_grant_type", f"Invalid grant_type: {grant}")
            self.token_grants.append(grant)
            return out

    def token_is_valid(self, token: str) -> bool:
        if not self.strict_auth:
            return bool(token)
        with self._lock:
            return self._access_tokens.get(token, 0.0) > time.time()

    def set_thumbnail(self, query: dict[str, str], headers: dict[str, str], body: bytes) -> dict:
        vid = query.get("videoId", "")
        with self._lock:
            if vid not in self._videos:
                raise _ApiError(
                    404,
                    f"The video identified by videoId {vid!r} cannot be found.",
                    "videoNotFound",
                    "youtube.thumbnail",
                )
        if not body:
            raise _ApiError(400, "The thumbnail image is empty.", "mediaBodyRequired", "youtube.thumbnail")
        if len(body) > MAX_THUMBNAIL_BYTES:
            raise _ApiError(
                400, "The provided image content is too large.", "mediaBodyTooLarge", "youtube.thumbnail"
            )
        self._charge("thumbnails.set")
        ctype = headers.get("content-type", "application/octet-stream")
        ext = {"image/jpeg": ".jpg", "image/png": ".png"}.get(ctype.split(";")[0].strip(), ".bin")
        with self._lock:
            (self.data_dir / "thumbnails" / f"{vid}{ext}").write_bytes(body)
            url = f"{self.url}vi/{vid}/default{ext}"
            thumbs = {"default": {"url": url, "width": 120, "height": 90}}
            self._videos[vid]["snippet"]["thumbnails"] = thumbs
            (self.data_dir / "videos" / f"{vid}.json").write_text(
                json.dumps(self._videos[vid], indent=1, sort_keys=True)
            )
        return {
            "kind": "youtube#thumbnailSetResponse",
            "etag": hashlib.sha1(body).hexdigest()[:27],
            "items": [thumbs],
        }


class _OAuthError(Exception):
    """An OAuth 2.0 token endpoint error (RFC 6749 section 5.2 body)."""

    def __init__(self, code: int, error: str, description: str):
        super().__init__(description)
        self.code = code
        self.body = {"error": error, "error_description": description}


def _split_multipart(content_type: str, body: bytes) -> tuple[dict, bytes]:
    """(JSON metadata, media bytes) of a ``multipart/related`` upload."""
    if not content_type.lower().startswith("multipart/related"):
        raise _ApiError(400, "Expected a multipart/related body.", "badContent")
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    parts = [p for p in msg.iter_parts()] if msg.is_multipart() else []
    if len(parts) != 2:
        raise _ApiError(400, "A multipart upload needs exactly two parts.", "badContent")
    try:
        meta = json.loads(parts[0].get_payload(decode=True) or b"{}")
    except ValueError as exc:
        raise _ApiError(400, f"Metadata part is not JSON: {exc}", "parseError") from exc
    return meta, parts[1].get_payload(decode=True) or b""


class _Server(ThreadingHTTPServer):
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


class _Handler(BaseHTTPRequestHandler):
    emulator: YouTubeEmulator  # set on the bound subclass
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
        host = self.headers.get("Host") or f"{self.emulator.host}:{self.emulator.port}"
        return f"http://{host}/"

    def _authorized(self) -> bool:
        auth = self.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            if self.emulator.token_is_valid(token.strip()):
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
        """Google's 401 for a missing or invalid bearer token."""
        body = _error_body(
            401,
            f"{what} Expected OAuth 2 access token, login cookie or other valid authentication credential.",
            reason,
            location="Authorization",
            locationType="header",
        )
        body["error"]["errors"][0]["message"] = short
        body["error"]["status"] = "UNAUTHENTICATED"
        self._send(401, body, {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})

    def _dispatch(self, method: str) -> None:
        body = self._read_body()
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = split.path.rstrip("/")
        em = self.emulator
        if path in ("/o/oauth2/auth", "/token"):
            self._oauth(method, path, query, headers, body)
            return
        if not self._authorized():
            return
        try:
            if method == "POST" and path in _VIDEO_UPLOAD_PATHS:
                location = em.insert_start(query, headers, body, self._base_url())
                self._send(200, None, {"Location": location, "X-GUploader-UploadID": _upload_id(location)})
            elif method == "PUT" and path in _VIDEO_UPLOAD_PATHS and "upload_id" in query:
                content_range = headers.get("content-range")
                is_data = bool(content_range) and not content_range.strip().startswith("bytes */")
                if is_data:
                    with em._lock:
                        em.bytes_received += len(body)
                fault = em._take_fault() if is_data else None
                if fault == _DROP_CONNECTION:
                    self.close_connection = True
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault is not None:
                    reason = _FAULT_REASONS.get(fault, "backendError")
                    raise _ApiError(fault, f"Injected fault {fault}.", reason)
                code, extra, payload = em.insert_chunk(query["upload_id"], content_range, body)
                if is_data and code == 308:
                    em._maybe_hold(query["upload_id"])
                self._send(code, payload, extra)
            elif method == "GET" and path == "/youtube/v3/videos":
                self._send(200, em.list_videos(query))
            elif method == "POST" and path in _THUMBNAIL_PATHS:
                self._send(200, em.set_thumbnail(query, headers, body))
            elif method == "POST" and path in _CAPTION_PATHS:
                self._send(200, em.insert_caption(query, headers, body))
            elif method == "GET" and path == "/youtube/v3/channels":
                self._send(200, em.list_channels(query))
            elif method == "GET" and path == "/youtube/v3/playlistItems":
                self._send(200, em.list_playlist_items(query))
            elif method == "POST" and path == "/youtube/v3/playlistItems":
                self._send(200, em.insert_playlist_item(query, body))
            else:
                raise _ApiError(404, f"No emulated endpoint for {method} {split.path}.", "notFound")
        except _ApiError as exc:
            self._send(exc.code, exc.body)
        except Exception as exc:  # pragma: no cover - keep the server alive, report as 500
            log.exception("emulator failure on %s %s", method, split.path)
            self._send(500, _error_body(500, f"Emulator internal error: {exc}", "backendError"))

    def _oauth(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> None:
        em = self.emulator
        try:
            if method == "GET" and path == "/o/oauth2/auth":
                self._send(302, None, {"Location": em.oauth_authorize(query)})
            elif method == "POST" and path == "/token":
                form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
                scheme, _, cred = headers.get("authorization", "").partition(" ")
                if scheme.lower() == "basic" and cred:  # client authentication per RFC 6749 2.3.1
                    user, _, password = base64.b64decode(cred).decode("utf-8", "replace").partition(":")
                    form.setdefault("client_id", unquote_plus(user))
                    form.setdefault("client_secret", unquote_plus(password))
                self._send(200, em.oauth_token(form), {"Cache-Control": "no-store"})
            else:
                self._send(405, {"error": "invalid_request", "error_description": f"{method} not allowed"})
        except _OAuthError as exc:
            self._send(exc.code, exc.body)
        except _ApiError as exc:
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Loopback YouTube Data API v3 emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--daily-quota", type=int, default=DEFAULT_DAILY_QUOTA)
    parser.add_argument(
        "--strict-auth", action="store_true", help="accept only access tokens issued by its /token endpoint"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    emulator = YouTubeEmulator(
        args.data_dir,
        host=args.host,
        port=args.port,
        daily_quota=args.daily_quota,
        strict_auth=args.strict_auth,
    )
    url = emulator.start()
    print(f"YouTube emulator serving on {url} (data: {args.data_dir})", flush=True)
    emulator.serve_forever()


if __name__ == "__main__":
    main()
