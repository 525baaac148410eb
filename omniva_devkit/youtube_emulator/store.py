"""The emulator's state: videos, upload sessions, playlists, tokens and today's quota.

Everything lives in ``data_dir`` (``state.json``, ``sessions/*.part``,
``videos/<id>.mp4`` + ``videos/<id>.json``, ``thumbnails/``, ``captions/``) so a
restarted emulator still knows its videos, open sessions, playlists, tokens and the
quota spent today. One re-entrant lock guards it all; the HTTP server is threaded.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import threading
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from omniva_devkit.youtube_emulator.errors import ApiError

#: YouTube Data API quota costs (units) of the calls we emulate. Kept apart from the client's
#: own table (``omniva_resources.youtube.quota``) on purpose: the emulator plays the server,
#: so tests compare the client's estimate against an independent count.
QUOTA_COSTS = {
    "videos.insert": 1600,
    "videos.list": 1,
    "thumbnails.set": 50,
    "captions.insert": 400,
    "channels.list": 1,
    "playlistItems.list": 1,
    "playlistItems.insert": 50,
}
DEFAULT_DAILY_QUOTA = 10_000


def pacific_today() -> str:
    """Quota day: YouTube quotas reset at midnight Pacific time."""
    try:
        tz: dt.tzinfo = ZoneInfo("America/Los_Angeles")
    except Exception:  # pragma: no cover - no tz database available
        tz = dt.timezone(dt.timedelta(hours=-8))
    return dt.datetime.now(tz).date().isoformat()


def now_rfc3339() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    """The emulated channel's data, on disk and in memory."""

    def __init__(self, data_dir: Path, *, daily_quota: int, channel_id: str, channel_title: str) -> None:
        self.data_dir = Path(data_dir)
        self.daily_quota = daily_quota
        self.channel_id = channel_id
        self.channel_title = channel_title
        self.lock = threading.RLock()
        self.videos: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}
        self.playlists: dict[str, dict] = {}
        self.codes: dict[str, dict] = {}  # pending OAuth authorization codes (not persisted)
        self.access_tokens: dict[str, float] = {}  # token -> expiry (epoch seconds)
        self.refresh_tokens: dict[str, dict] = {}
        self.quota: dict[str, Any] = {"day": pacific_today(), "used": 0}
        for sub in ("videos", "sessions", "thumbnails", "captions"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)
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
        }
        tmp = self._state_file.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
        os.replace(tmp, self._state_file)

    def save_video(self, vid: str) -> None:
        (self.data_dir / "videos" / f"{vid}.json").write_text(
            json.dumps(self.videos[vid], indent=1, sort_keys=True)
        )

    def part_path(self, sid: str) -> Path:
        return self.data_dir / "sessions" / f"{sid}.part"

    def video_path(self, video_id: str) -> Path:
        return self.data_dir / "videos" / f"{video_id}.mp4"

    # ---------------------------------------------------------------- quota
    def roll_quota_day(self) -> None:
        today = pacific_today()
        if self.quota.get("day") != today:
            self.quota = {"day": today, "used": 0}

    def charge(self, method: str) -> None:
        """Spend ``method``'s units, or answer ``quotaExceeded`` as YouTube does."""
        cost = QUOTA_COSTS[method]
        with self.lock:
            self.roll_quota_day()
            if self.quota["used"] + cost > self.daily_quota:
                msg = (
                    "The request cannot be completed because you have exceeded your "
                    '<a href="/youtube/v3/getting-started#quota">quota</a>.'
                )
                raise ApiError(403, msg, "quotaExceeded", "youtube.quota")
            self.quota["used"] += cost
            self.save()

    def quota_used(self) -> int:
        with self.lock:
            self.roll_quota_day()
            return self.quota["used"]

    def reset_quota(self) -> None:
        with self.lock:
            self.quota = {"day": pacific_today(), "used": 0}
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
