"""Refused requests (401, 403, 404, 429) audited in the warehouse ``logs`` table, rate-limited.

Each refusal is a row (``source = 'api'``, level WARNING: key id, path, status, code, reason),
but at most ``per_key`` rows per key id a minute and ``per_minute`` rows in all, so a flood
cannot fill the table: the rest are counted, and the next row written for that key id says
how many went unwritten (``refusals_not_logged``). A request naming no existing key id is
counted under ``-`` (anyone can invent key ids), with the key id it claimed in its row; a
wrong secret for an existing key id under that key id.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: Paths and ids in a row are cut to this many characters.
MAX_TEXT = 200
UNAUTHENTICATED = "-"


def clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass
class RefusalLog:
    """Decides which refusals get a row; ``write(message, **metadata)`` writes one."""

    write: Callable[..., None]
    per_key: int = 20
    per_minute: int = 200
    clock: Callable[[], float] = time.time
    _minute: int = -1
    _written: dict[str, int] = field(default_factory=dict)  # bucket -> rows this minute
    _total: int = 0  # rows this minute
    _dropped: dict[str, int] = field(default_factory=dict)  # bucket -> refusals not written yet
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, bucket: str) -> int | None:
        """None: no row for this refusal (it is counted); else how many went unwritten before."""
        minute = int(self.clock() // 60)
        with self._lock:
            if minute != self._minute:
                self._minute, self._written, self._total = minute, {}, 0
            if self._written.get(bucket, 0) >= self.per_key or self._total >= self.per_minute:
                self._dropped[bucket] = self._dropped.get(bucket, 0) + 1
                return None
            self._written[bucket] = self._written.get(bucket, 0) + 1
            self._total += 1
            return self._dropped.pop(bucket, 0)

    def refused(
        self,
        *,
        key_id: str | None,
        known: bool,
        path: str,
        method: str,
        status: int,
        code: str,
        reason: str,
        request_id: str,
    ) -> bool:
        """Write the refusal's row if its key id and the minute have room; True if written."""
        bucket = key_id if known and key_id else UNAUTHENTICATED
        before = self.admit(bucket)
        if before is None:
            return False
        self.write(
            f"refused {method} {clip(path, 120)}: {status} {code}",
            request_id=request_id,
            key_id=clip(key_id or UNAUTHENTICATED, 64),
            known_key=known,
            path=clip(path),
            status=status,
            code=code,
            reason=clip(reason),
            refusals_not_logged=before,
        )
        return True
