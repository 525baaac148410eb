"""The emulator's state: videos, upload sessions, playlists, tokens and today's quota.

Quota is modelled as YouTube's buckets (since 2026): ``videos.insert`` and ``search.list``
have their own daily buckets (100 calls, 1 each) and every other method shares a pool of
10,000 units; ``quota_model="legacy"`` charges ``videos.insert`` 1,600 units from the one
pool instead. ``channel_upload_limit`` (0: none) answers YouTube's per-channel
``uploadLimitExceeded`` (400) once the channel has that many uploads in its day.

Everything lives in ``data_dir`` (``state.json``, ``sessions/*.part``,
``videos/<id>.mp4`` + ``videos/<id>.json``, ``thumbnails/``, ``captions/``, ``banners/``) so a
restarted emulator still knows its videos, open sessions, playlists, tokens and the
quota spent today. One re-entrant lock guards it all; the HTTP server is threaded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from omniva_devkit.youtube_emulator.errors import ApiError

#: YouTube Data API quota (bucket, cost) of the calls we emulate
#: (developers.google.com/youtube/v3/determine_quota_cost, checked 2026-12). Kept apart from
#: the client's own table (``omniva_resources.youtube.quota``) on purpose: the emulator plays
#: the server, so tests compare the client's estimate against an independent count.
SHARED = "shared"
QUOTA_BUCKETS: dict[str, tuple[str, int]] = {
    "videos.insert": ("videos.insert", 1),
    "search.list": ("search.list", 1),
    "videos.list": (SHARED, 1),
    "thumbnails.set": (SHARED, 50),
    "captions.insert": (SHARED, 400),
    "channels.list": (SHARED, 1),
    "playlistItems.list": (SHARED, 1),
    "playlistItems.insert": (SHARED, 50),
    "channelBanners.insert": (SHARED, 50),
    "channels.update": (SHARED, 50),
    "videos.update": (SHARED, 50),
}
#: The legacy model: one pool, videos.insert 1,600 units.
QUOTA_COSTS = {
    m: 1600 if m == "videos.insert" else 100 if m == "search.list" else c
    for m, (_, c) in QUOTA_BUCKETS.items()
}
DEFAULT_DAILY_QUOTA = 10_000
DEFAULT_BUCKET_CALLS = 100
QUOTA_MODELS = ("buckets", "legacy")
Clock = Callable[[], dt.datetime]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def pacific_today(clock: Clock = _utcnow) -> str:
    """Quota day: YouTube quotas reset at midnight Pacific time."""
    try:
        tz: dt.tzinfo = ZoneInfo("America/Los_Angeles")
    except Exception:  # pragma: no cover - no tz database available
        tz = dt.timezone(dt.timedelta(hours=-8))
    return clock().astimezone(tz).date().isoformat()


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by its owner only (0600): the state
    holds the tokens the emulator issued."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def now_rfc3339() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    """The emulated channel's data, on disk and in memory."""

    def __init__(
        self,
        data_dir: Path,
        *,
        daily_quota: int,
        channel_id: str,
        channel_title: str,
        quota_model: str = "buckets",
        bucket_calls: int = DEFAULT_BUCKET_CALLS,
        channel_upload_limit: int = 0,
        clock: Clock = _utcnow,
    ) -> None:
        if quota_model not in QUOTA_MODELS:
            raise ValueError(f"quota_model must be one of {QUOTA_MODELS}")
        self.data_dir = Path(data_dir)
        self.daily_quota = daily_quota
        self.quota_model = quota_model
        self.bucket_calls = bucket_calls
        self.channel_upload_limit = channel_upload_limit
        self.clock = clock
        self.channel_id = channel_id
        self.channel_title = channel_title
        self.lock = threading.RLock()
        self.videos: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}
        self.playlists: dict[str, dict] = {}
        self.codes: dict[str, dict] = {}  # pending OAuth authorization codes (not persisted)
        self.access_tokens: dict[str, float] = {}  # token -> expiry (epoch seconds)
        self.refresh_tokens: dict[str, dict] = {}
        self.revoked: list[str] = []  # "refresh_token" / "access_token" per revocation (not persisted)
        self.branding: dict[str, Any] = {}  # the channel's brandingSettings (channels.update)
        self.quota: dict[str, Any] = self._new_day()
        for folder in (
            self.data_dir,
            *(self.data_dir / sub for sub in ("videos", "sessions", "thumbnails", "captions")),
        ):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            with contextlib.suppress(OSError):  # not ours to change
                folder.chmod(0o700)  # a folder made before (by an older emulator) too
        self._load()

    @property
    def uploads_playlist_id(self) -> str:
        return "UU" + self.channel_id[2:]

    # ---------------------------------------------------------------- files
    @property
    def _state_file(self) -> Path:
        return self.data_dir / "state.json"

    def _load(self) -> None:
        if self._state_file.exists():
            state = json.loads(self._state_file.read_text())
            self.sessions = state.get("sessions", {})
            self.quota = state.get("quota", self.quota)
            self.playlists = state.get("playlists", {})
            oauth = state.get("oauth", {})
            self.access_tokens = oauth.get("access_tokens", {})
            self.refresh_tokens = oauth.get("refresh_tokens", {})
            self.branding = state.get("branding", {})
        for meta in sorted((self.data_dir / "videos").glob("*.json")):
            video = json.loads(meta.read_text())
            self.videos[video["id"]] = video
        # The .part file is the source of truth for the confirmed offset.
        for sid in list(self.sessions):
            if not self.part_path(sid).exists():
                self.part_path(sid).touch()
        self.roll_quota_day()

    def save(self) -> None:
        state = {
            "sessions": self.sessions,
            "quota": self.quota,
            "playlists": self.playlists,
            "oauth": {"access_tokens": self.access_tokens, "refresh_tokens": self.refresh_tokens},
            "branding": self.branding,
        }
        write_private(self._state_file, json.dumps(state, indent=1, sort_keys=True))

    def save_video(self, vid: str) -> None:
        write_private(
            self.data_dir / "videos" / f"{vid}.json", json.dumps(self.videos[vid], indent=1, sort_keys=True)
        )

    def part_path(self, sid: str) -> Path:
        return self.data_dir / "sessions" / f"{sid}.part"

    def video_path(self, video_id: str) -> Path:
        return self.data_dir / "videos" / f"{video_id}.mp4"

    # ---------------------------------------------------------------- quota
    def _new_day(self) -> dict[str, Any]:
        return {"day": pacific_today(self.clock), "used": 0, "buckets": {}, "uploads": 0}

    def roll_quota_day(self) -> None:
        if self.quota.get("day") != pacific_today(self.clock):
            self.quota = self._new_day()

    def cost(self, method: str) -> tuple[str, int]:
        """(bucket, cost) of ``method`` under this emulator's model."""
        if self.quota_model == "legacy":
            return SHARED, QUOTA_COSTS[method]
        return QUOTA_BUCKETS[method]

    def charge(self, method: str) -> None:
        """Spend ``method``'s units from its bucket, or answer ``quotaExceeded`` as YouTube does."""
        bucket, cost = self.cost(method)
        with self.lock:
            self.roll_quota_day()
            if bucket == SHARED:
                used, limit = self.quota["used"], self.daily_quota
            else:
                used, limit = self.quota.setdefault("buckets", {}).get(bucket, 0), self.bucket_calls
            if used + cost > limit:
                msg = (
                    "The request cannot be completed because you have exceeded your "
                    '<a href="/youtube/v3/getting-started#quota">quota</a>.'
                )
                raise ApiError(403, msg, "quotaExceeded", "youtube.quota")
            if bucket == SHARED:
                self.quota["used"] += cost
            else:
                self.quota["buckets"][bucket] = used + cost
            self.save()

    def count_upload(self) -> None:
        """One more upload on the channel today, or YouTube's ``uploadLimitExceeded`` (400)."""
        with self.lock:
            self.roll_quota_day()
            uploads = int(self.quota.get("uploads", 0))
            if self.channel_upload_limit and uploads >= self.channel_upload_limit:
                raise ApiError(
                    400,
                    "The user has exceeded the number of videos they may upload.",
                    "uploadLimitExceeded",
                    "youtube.video",
                )
            self.quota["uploads"] = uploads + 1
            self.save()

    def quota_used(self) -> int:
        """Units of the shared pool spent today (the whole day's use under the legacy model)."""
        with self.lock:
            self.roll_quota_day()
            return self.quota["used"]

    def bucket_used(self, bucket: str) -> int:
        with self.lock:
            self.roll_quota_day()
            if bucket == SHARED:
                return self.quota["used"]
            if bucket == "uploads":
                return int(self.quota.get("uploads", 0))
            return int(self.quota.get("buckets", {}).get(bucket, 0))

    def reset_quota(self) -> None:
        with self.lock:
            self.quota = self._new_day()
            self.save()

    # --------------------------------------------------------------- videos
    def new_video_id(self) -> str:
        while True:
            vid = secrets.token_urlsafe(8)[:11]  # 11 chars of [A-Za-z0-9_-]
            if vid not in self.videos:
                return vid

    @staticmethod
    def render(video: dict, parts: set[str]) -> dict:
        """The API's view of a stored video: its id and the requested parts."""
        out = {k: video[k] for k in ("kind", "etag", "id")}
        for part in ("snippet", "status", "contentDetails", "fileDetails"):
            if part in parts and part in video:
                out[part] = video[part]
        return out

    def public_videos(self) -> list[dict]:
        """Every video without the emulator's own bookkeeping fields (deep copies)."""
        with self.lock:
            return [
                {k: v for k, v in json.loads(json.dumps(video)).items() if not k.startswith("_")}
                for video in self.videos.values()
            ]

    def open_sessions(self) -> dict[str, int]:
        """Upload session id -> bytes confirmed so far."""
        with self.lock:
            return {sid: self.part_path(sid).stat().st_size for sid in self.sessions}
