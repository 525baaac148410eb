"""YouTube's daily quota: what each call costs and how much of today's budget is spent.

Every call is charged to a per-project, per-Pacific-day ledger (``QuotaLedger``)
before it is made; an upload that would overrun the day's budget, and any
``quotaExceeded``/``uploadLimitExceeded`` answer, raise ``QuotaExceededError`` with
the time the quota resets.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from cognitive_sensors import horizon
from omniva_resources.private_files import locked, write_private_json
from omniva_resources.youtube.errors import QuotaExceededError, iso, next_quota_reset
from omniva_resources.youtube.metadata import UploadRequest

#: Default daily quota of a Google Cloud project for the YouTube Data API v3.
DEFAULT_DAILY_UNITS = 10_000
#: Units each call costs (https://developers.google.com/youtube/v3/determine_quota_cost).
QUOTA_COSTS: dict[str, int] = {
    "videos.insert": 1600,
    "videos.list": 1,
    "thumbnails.set": 50,
    "captions.insert": 400,
    "playlistItems.insert": 50,
    "playlistItems.list": 1,
    "channels.list": 1,
}
#: Upper bound of the look-ups ``find_by_marker`` makes (channels + 4 pages + 4 videos.list).
MARKER_LOOKUP_UNITS = 1 + 4 + 4


def publication_cost(req: UploadRequest, *, new_session: bool = True, lookup: bool = False) -> int:
    """Quota units one publication needs: the insert and the extras it will set."""
    cost = QUOTA_COSTS["videos.insert"] if new_session else 0
    if req.thumbnail is not None and Path(req.thumbnail).is_file():
        cost += QUOTA_COSTS["thumbnails.set"]
    if req.captions is not None and Path(req.captions).is_file():
        cost += QUOTA_COSTS["captions.insert"]
    if req.playlist_id:
        cost += QUOTA_COSTS["playlistItems.insert"]
    if lookup:
        cost += MARKER_LOOKUP_UNITS
    return cost


class QuotaLedger:
    """Units spent per Google Cloud project per quota day (Pacific), in a small JSON file.

    Several processes may upload at once: every read-modify-write holds a file lock.
    The count is Omniva's own estimate (YouTube does not report usage); it is made
    conservative by charging each call before it is sent, and a ``quotaExceeded``
    answer marks the day spent whatever the count says.
    """

    KEEP_DAYS = 14

    def __init__(
        self,
        path: Path,
        project: str,
        budget: int = DEFAULT_DAILY_UNITS,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ):
        self.path = Path(path)
        self.project = project
        self.budget = budget
        self._clock = clock

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

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
        write_private_json(self.path, data)

    def status(self) -> dict:
        """``{"day", "used", "budget", "remaining", "exhausted", "calls", "resets_at"}`` for today."""
        day, today = self._today(self._read())
        used = int(today.get("used", 0))
        return {
            "project": self.project,
            "day": day,
            "used": used,
            "budget": self.budget,
            "remaining": max(self.budget - used, 0),
            "exhausted": today.get("exhausted"),
            "calls": dict(today.get("calls", {})),
            "resets_at": iso(next_quota_reset(self._clock())),
        }

    def _deferral(self, used: int, cost: int, what: str, exhausted: str | None) -> QuotaExceededError:
        reset = next_quota_reset(self._clock())
        why = (
            f"YouTube answered {exhausted} earlier today"
            if exhausted
            else f"{what} needs {cost} units but project {self.project} has used {used} of its "
            f"{self.budget} today"
        )
        return QuotaExceededError(
            f"{why}; deferred to the next quota window at {iso(reset)} (midnight Pacific).",
            status=None,
            reason=exhausted or "dailyBudget",
            resets_at=reset,
        )

    def ensure(self, cost: int, what: str) -> None:
        """Raise ``QuotaExceededError`` if ``cost`` more units would overrun today's budget."""
        with locked(self.path):
            _, today = self._today(self._read())
            used, exhausted = int(today.get("used", 0)), today.get("exhausted")
            if exhausted or not horizon.fits_quota(used, cost, self.budget):
                raise self._deferral(used, cost, what, exhausted)

    def charge(self, method: str, units: int | None = None) -> None:
        """Count one call (before it is sent); raise ``QuotaExceededError`` if it does not fit."""
        cost = QUOTA_COSTS[method] if units is None else units
        with locked(self.path):
            data = self._read()
            _, today = self._today(data)
            used, exhausted = int(today.get("used", 0)), today.get("exhausted")
            if exhausted or not horizon.fits_quota(used, cost, self.budget):
                raise self._deferral(used, cost, method, exhausted)
            today["used"] = used + cost
            calls = today.setdefault("calls", {})
            calls[method] = calls.get(method, 0) + 1
            self._save(data)

    def exhaust(self, reason: str) -> None:
        """YouTube said the quota is spent: nothing more today, whatever our count says."""
        with locked(self.path):
            data = self._read()
            _, today = self._today(data)
            today["exhausted"] = reason
            self._save(data)
