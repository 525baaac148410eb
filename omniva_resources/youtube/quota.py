"""YouTube's daily quota: what each call costs, from which bucket, and how much is spent.

Since 2026 a Google Cloud project has three daily buckets for the YouTube Data API
(``QUOTA_TABLE``): ``videos.insert`` (100 calls, 1 each), ``search.list`` (100 calls,
1 each) and the shared pool (10,000 units for every other method). The model before
that charged ``videos.insert`` 1,600 units from the one pool; it stays selectable
(``QuotaModel.legacy``, ``OMNIVA_YOUTUBE_QUOTA_MODEL=legacy``) for projects still on it.
Separately YouTube limits uploads per *channel* per day (``uploadLimitExceeded``): that
pauses the channel, not the project.

Every call is charged to a per-project, per-Pacific-day ledger (``QuotaLedger``)
before it is made; a publication that would overrun a bucket, and any quota answer,
raise ``QuotaExceededError`` with the time the quota resets and the bucket (or the
channel) that is full.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cognitive_sensors import horizon
from omniva.errors import ConfigError
from omniva_resources.private_files import locked, write_private_json
from omniva_resources.youtube.errors import QuotaExceededError, iso, next_quota_reset
from omniva_resources.youtube.metadata import UploadRequest

#: Where the table below comes from, and when it was last checked against it.
QUOTA_SOURCE = "https://developers.google.com/youtube/v3/determine_quota_cost"
QUOTA_CHECKED = "2026-12"

INSERT, SEARCH, SHARED = "videos.insert", "search.list", "shared"
#: The buckets of a Google Cloud project and their default daily limits (calls for the
#: two per-method buckets, units for the shared pool). Projects with an extension set
#: their own (``OMNIVA_YOUTUBE_INSERT_CALLS``, ``..._SEARCH_CALLS``, ``..._DAILY_QUOTA_UNITS``).
DEFAULT_LIMITS: dict[str, int] = {INSERT: 100, SEARCH: 100, SHARED: 10_000}
#: Default daily quota of the shared pool (and of the whole project under the legacy model).
DEFAULT_DAILY_UNITS = DEFAULT_LIMITS[SHARED]
#: The one cost table: method -> (bucket, cost) under the current model
#: (QUOTA_SOURCE, checked QUOTA_CHECKED). Under the legacy model every method is in the
#: shared pool and videos.insert costs LEGACY_INSERT_UNITS.
QUOTA_TABLE: dict[str, tuple[str, int]] = {
    "videos.insert": (INSERT, 1),
    "search.list": (SEARCH, 1),
    "videos.list": (SHARED, 1),
    "videos.update": (SHARED, 50),
    "videos.delete": (SHARED, 50),
    "thumbnails.set": (SHARED, 50),
    "captions.insert": (SHARED, 400),
    "captions.list": (SHARED, 50),
    "playlistItems.insert": (SHARED, 50),
    "playlistItems.list": (SHARED, 1),
    "playlists.insert": (SHARED, 50),
    "channels.list": (SHARED, 1),
    "channels.update": (SHARED, 50),
    "channelBanners.insert": (SHARED, 50),
}
LEGACY_INSERT_UNITS = 1600
LEGACY_SEARCH_UNITS = 100
#: Units each call costs under the legacy model (kept for callers of the old name).
QUOTA_COSTS: dict[str, int] = {
    m: LEGACY_INSERT_UNITS if m == INSERT else LEGACY_SEARCH_UNITS if m == SEARCH else cost
    for m, (_, cost) in QUOTA_TABLE.items()
}
#: Upper bound of the look-ups ``find_by_marker`` makes (channels + 4 pages + 4 videos.list).
MARKER_LOOKUP_UNITS = 1 + 4 + 4
MODELS = ("buckets", "legacy")


@dataclass(frozen=True)
class QuotaModel:
    """Which bucket each method is charged to, at what cost, and each bucket's daily limit."""

    name: str = "buckets"
    limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))

    @classmethod
    def of(
        cls,
        name: str = "buckets",
        *,
        shared_units: int | None = None,
        insert_calls: int | None = None,
        search_calls: int | None = None,
    ) -> QuotaModel:
        """The model ``name`` (``buckets`` or ``legacy``) with a project's own limits, if any."""
        name = (name or "buckets").strip().lower()
        if name not in MODELS:
            raise ConfigError(f"YouTube quota model {name!r} must be one of {', '.join(MODELS)}")
        shared = DEFAULT_DAILY_UNITS if shared_units is None else shared_units
        if name == "legacy":
            return cls("legacy", {SHARED: shared})
        limits = {
            INSERT: DEFAULT_LIMITS[INSERT] if insert_calls is None else insert_calls,
            SEARCH: DEFAULT_LIMITS[SEARCH] if search_calls is None else search_calls,
            SHARED: shared,
        }
        return cls("buckets", limits)

    @classmethod
    def legacy(cls, units: int = DEFAULT_DAILY_UNITS) -> QuotaModel:
        return cls.of("legacy", shared_units=units)

    def cost(self, method: str) -> tuple[str, int]:
        """(bucket, cost) of one ``method`` call."""
        if self.name == "legacy":
            return SHARED, QUOTA_COSTS.get(method, 1)
        return QUOTA_TABLE.get(method, (SHARED, 1))

    def describe(self, bucket: str) -> str:
        if self.name == "legacy":
            return f"the project's {self.limits[SHARED]:,}-unit pool (legacy model, videos.insert 1,600)"
        if bucket == SHARED:
            return f"the shared pool ({self.limits[SHARED]:,} units a day)"
        return f"the {bucket} bucket ({self.limits[bucket]:,} calls a day)"

    def publications_per_day(self, per_publication: Mapping[str, int]) -> tuple[int, str]:
        """How many publications of ``per_publication`` units per bucket fit in a day, and the
        bucket that bounds it."""
        best, which = 10**9, SHARED
        for bucket, units in per_publication.items():
            if units > 0:
                n = self.limits.get(bucket, 0) // units
                if n < best:
                    best, which = n, bucket
        return best, which


def publication_units(
    req: UploadRequest | None,
    model: QuotaModel,
    *,
    new_session: bool = True,
    lookup: bool = False,
    thumbnail: bool | None = None,
    captions: bool | None = None,
    playlist: bool | None = None,
) -> dict[str, int]:
    """Units per bucket one publication needs: the insert and the extras it will set.

    Given a request, the extras are those it carries; without one (planning ahead),
    ``thumbnail``/``captions``/``playlist`` say which to count.
    """
    if req is not None:
        thumbnail = req.thumbnail is not None and Path(req.thumbnail).is_file()
        captions = req.captions is not None and Path(req.captions).is_file()
        playlist = bool(req.playlist_id)
    calls = [
        ("videos.insert", new_session),
        ("thumbnails.set", bool(thumbnail)),
        ("captions.insert", bool(captions)),
        ("playlistItems.insert", bool(playlist)),
    ]
    out: dict[str, int] = {}
    for method, wanted in calls:
        if wanted:
            bucket, cost = model.cost(method)
            out[bucket] = out.get(bucket, 0) + cost
    if lookup:
        out[SHARED] = out.get(SHARED, 0) + MARKER_LOOKUP_UNITS
    return out


def publication_cost(req: UploadRequest, *, new_session: bool = True, lookup: bool = False) -> int:
    """Units one publication needs under the legacy model (one pool)."""
    return sum(publication_units(req, QuotaModel.legacy(), new_session=new_session, lookup=lookup).values())


class QuotaLedger:
    """Use per Google Cloud project per quota day (Pacific), per bucket, in a small JSON file.

    Several processes may upload at once: every read-modify-write holds a file lock.
    The count is Omniva's own estimate (YouTube does not report usage); it is made
    conservative by charging each call before it is sent, and a quota answer marks the
    bucket spent whatever the count says. ``channel`` names the channel this ledger's
    uploads go to: YouTube's per-channel ``uploadLimitExceeded`` pauses that channel for
    the rest of the day, and other channels of the project keep publishing.
    """

    KEEP_DAYS = 14

    def __init__(
        self,
        path: Path,
        project: str,
        budget: int = DEFAULT_DAILY_UNITS,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        *,
        model: QuotaModel | None = None,
        channel: str = "",
    ):
        self.path = Path(path)
        self.project = project
        self.model = model or QuotaModel.of("buckets", shared_units=budget)
        self.channel = channel
        self._clock = clock

    @classmethod
    def from_file(
        cls, path: Path, clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    ) -> QuotaLedger:
        """The ledger a file was written by (its project, model and limits)."""
        data = cls._load(Path(path))
        limits = data.get("limits") or {SHARED: int(data.get("budget", DEFAULT_DAILY_UNITS))}
        model = QuotaModel(str(data.get("model") or "legacy"), {k: int(v) for k, v in limits.items()})
        return cls(path, str(data.get("project") or Path(path).stem), clock=clock, model=model)

    @property
    def budget(self) -> int:
        return self.model.limits[SHARED]

    @staticmethod
    def _load(path: Path) -> dict:
        try:
            data = json.loads(path.read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _read(self) -> dict:
        return self._load(self.path)

    def _today(self, data: dict) -> tuple[str, dict]:
        day = horizon.quota_day(self._clock())
        days = data.setdefault("days", {})
        return day, days.setdefault(day, {"used": 0, "calls": {}})

    def _save(self, data: dict) -> None:
        days = data.get("days", {})
        for old in sorted(days)[: max(len(days) - self.KEEP_DAYS, 0)]:
            del days[old]
        data["project"] = self.project
        data["budget"] = self.budget
        data["model"] = self.model.name
        data["limits"] = dict(self.model.limits)
        write_private_json(self.path, data)

    @staticmethod
    def _used(today: dict, bucket: str) -> int:
        if bucket == SHARED:
            return int(today.get("used", 0))
        return int((today.get("buckets") or {}).get(bucket, 0))

    def status(self) -> dict:
        """Today's use: the shared pool's ``used``/``budget`` (as before), every bucket's use,
        limit and state, each channel's uploads and pause, and when it all resets."""
        day, today = self._today(self._read())
        used = self._used(today, SHARED)
        resets = iso(next_quota_reset(self._clock()))
        exhausted_buckets = today.get("exhausted_buckets") or {}
        buckets = [
            {
                "bucket": bucket,
                "unit": "units" if bucket == SHARED else "calls",
                "used": self._used(today, bucket),
                "limit": limit,
                "remaining": max(limit - self._used(today, bucket), 0),
                "exhausted": exhausted_buckets.get(bucket) or today.get("exhausted"),
                "resets_at": resets,
            }
            for bucket, limit in self.model.limits.items()
        ]
        channels = {
            name: {"uploads": int(c.get("uploads", 0)), "paused": c.get("paused"), "resets_at": resets}
            for name, c in sorted((today.get("channels") or {}).items())
        }
        return {
            "project": self.project,
            "model": self.model.name,
            "day": day,
            "used": used,
            "budget": self.budget,
            "remaining": max(self.budget - used, 0),
            "exhausted": today.get("exhausted"),
            "calls": dict(today.get("calls", {})),
            "buckets": buckets,
            "channels": channels,
            "resets_at": resets,
        }

    def _deferral(self, what: str, reason: str, why: str) -> QuotaExceededError:
        reset = next_quota_reset(self._clock())
        return QuotaExceededError(
            f"{why}; {what} deferred to the next quota window at {iso(reset)} (midnight Pacific).",
            status=None,
            reason=reason,
            resets_at=reset,
        )

    def _refusal(
        self, today: dict, need: Mapping[str, int], what: str, uploads: bool = True
    ) -> QuotaExceededError | None:
        """Why ``need`` (units per bucket) does not fit today, or None. ``uploads``: it
        uploads, so a paused channel refuses it too."""
        if today.get("exhausted"):
            return self._deferral(
                what, today["exhausted"], f"YouTube answered {today['exhausted']} earlier today"
            )
        if self.channel and uploads:
            paused = ((today.get("channels") or {}).get(self.channel) or {}).get("paused")
            if paused:
                return self._deferral(
                    what,
                    "uploadLimitExceeded",
                    f"channel {self.channel} reached YouTube's daily upload limit ({paused}) and is "
                    "paused until its next day; other channels keep publishing",
                )
        for bucket, cost in need.items():
            spent = (today.get("exhausted_buckets") or {}).get(bucket)
            if spent:
                return self._deferral(
                    what, spent, f"YouTube answered {spent} earlier today for {self.model.describe(bucket)}"
                )
            limit = self.model.limits.get(bucket, 0)
            used = self._used(today, bucket)
            if not horizon.fits_quota(used, cost, limit):
                unit = "units" if bucket == SHARED else "calls"
                return self._deferral(
                    what,
                    "dailyBudget",
                    f"{what} needs {cost} {unit} but project {self.project} has used {used} of its "
                    f"{limit} today in {self.model.describe(bucket)}",
                )
        return None

    def ensure(self, cost: int | Mapping[str, int], what: str) -> None:
        """Raise ``QuotaExceededError`` if ``cost`` (units of the shared pool, or units per
        bucket) would overrun today's limits, or the channel is paused."""
        need = {SHARED: cost} if isinstance(cost, int) else dict(cost)
        with locked(self.path):
            _, today = self._today(self._read())
            refusal = self._refusal(today, need, what)
            if refusal is not None:
                raise refusal

    def charge(self, method: str, units: int | None = None) -> None:
        """Count one call (before it is sent); raise ``QuotaExceededError`` if it does not fit."""
        bucket, cost = self.model.cost(method)
        cost = cost if units is None else units
        with locked(self.path):
            data = self._read()
            _, today = self._today(data)
            refusal = self._refusal(today, {bucket: cost}, method, uploads=method == INSERT)
            if refusal is not None:
                raise refusal
            if bucket == SHARED:
                today["used"] = int(today.get("used", 0)) + cost
            else:
                buckets = today.setdefault("buckets", {})
                buckets[bucket] = int(buckets.get(bucket, 0)) + cost
            calls = today.setdefault("calls", {})
            calls[method] = calls.get(method, 0) + 1
            if method == INSERT and self.channel:
                ch = today.setdefault("channels", {}).setdefault(self.channel, {})
                ch["uploads"] = int(ch.get("uploads", 0)) + 1
            self._save(data)

    def exhaust(self, reason: str, method: str | None = None) -> None:
        """YouTube said no. ``uploadLimitExceeded``: this channel is paused for the day.
        Otherwise the bucket of ``method`` (the whole project when not known) is spent
        for the day, whatever our count says."""
        with locked(self.path):
            data = self._read()
            _, today = self._today(data)
            if reason == "uploadLimitExceeded" and self.channel:
                ch = today.setdefault("channels", {}).setdefault(self.channel, {})
                ch["paused"] = reason
            elif method is not None and self.model.name != "legacy":
                bucket, _ = self.model.cost(method)
                today.setdefault("exhausted_buckets", {})[bucket] = reason
            else:
                today["exhausted"] = reason
            self._save(data)
