"""API keys: ``omv_<key id>_<secret>``, stored only as a salted scrypt hash.

The store is ``$OMNIVA_HOME/api/keys.json`` (owner-only). A key is scoped to one
project, or to all of them (``"*"``, an admin key that may also create projects).
The key id in the token finds the record; the secret is checked in constant time.

A wrong secret costs the server a scrypt hash, so each key id gets a few wrong guesses a
window (``TooManyAttempts`` after that, without hashing), at most a few hashes run at once,
and a token already verified is not hashed again. Only wrong secrets count: parallel first
requests with the same token wait for one check (its answer serves them all), and a right
secret never counts. Guesses already hashing when the limit is reached may end (at most the
few hashes that run at once), each counted as it fails. ``RateLimit`` is each key's request budget.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from omniva.errors import ConfigError, OmnivaError
from omniva_app.api.envelope import now_iso
from omniva_resources.private_files import locked, write_private_json

ALL_PROJECTS = "*"
TOKEN = re.compile(r"^omv_([0-9a-f]{12})_([A-Za-z0-9_-]{32,64})$")
# scrypt cost: ~16 MiB and a few tens of ms per check; verified tokens are cached in memory.
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    project: str  # a project id, or "*" for every project
    label: str
    created_at: str
    revoked_at: str | None = None

    def allows(self, project_id: str) -> bool:
        return self.project in (ALL_PROJECTS, project_id)


class TooManyAttempts(OmnivaError):
    """Too many wrong secrets for one key id lately; ``retry_after`` seconds until the next try."""

    def __init__(self, key_id: str, retry_after: int):
        super().__init__(f"too many failed attempts for API key {key_id}; retry in {retry_after} s")
        self.retry_after = retry_after


def _hash(secret: str, salt: bytes) -> str:
    return hashlib.scrypt(secret.encode(), salt=salt, maxmem=64 * 1024 * 1024, **SCRYPT).hex()


class KeyStore:
    def __init__(self, path: Path, max_failures: int = 10, window_s: float = 60.0, parallel_checks: int = 0):
        self.path = Path(path)
        self.max_failures, self.window_s = max_failures, window_s
        self._verified: dict[str, str] = {}  # sha256(token) -> key id, for tokens already checked
        self._attempts: dict[str, list[float]] = {}  # key id -> monotonic times of wrong secrets
        self._checking: dict[str, threading.Event] = {}  # sha256(token) -> its check in progress
        self._lock = threading.Lock()  # verify runs in the server's thread pool
        # Half the CPUs at most: the rest stay free for every other request (0: that default).
        self._hashing = threading.BoundedSemaphore(parallel_checks or max(1, (os.cpu_count() or 2) // 2))

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}

    def _write(self, data: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private_json(self.path, data)

    def create(self, project: str, label: str = "") -> tuple[str, ApiKey]:
        """A new key for ``project`` (or ``"*"``); the token is returned once and never stored."""
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with locked(self.path):  # two `omniva api keys` at once: both keys stay
            data = self._read()
            data[key_id] = {
                "project": project,
                "label": label,
                "salt": salt.hex(),
                "scrypt": _hash(secret, salt),
                "created_at": now_iso(),
                "revoked_at": None,
            }
            self._write(data)
        return f"omv_{key_id}_{secret}", self._key(key_id, data[key_id])

    def revoke(self, key_id: str) -> ApiKey:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with locked(self.path):
            data = self._read()
            if key_id not in data:
                raise ConfigError(f"no API key {key_id!r} (see `omniva api keys list`)")
            data[key_id]["revoked_at"] = data[key_id]["revoked_at"] or now_iso()
            self._write(data)
        return self._key(key_id, data[key_id])

    def known(self, key_id: str) -> bool:
        """Whether ``key_id`` names a key of the store (revoked ones included)."""
        return key_id in self._read()

    def get(self, key_id: str) -> ApiKey | None:
        """The key ``key_id`` names unless it is revoked or gone (a session's key, looked up again
        on each request so that a revocation ends its sessions at once)."""
        entry = self._read().get(key_id)
        if not entry or entry.get("revoked_at"):
            return None
        return self._key(key_id, entry)

    def list(self) -> list[ApiKey]:
        return [self._key(k, v) for k, v in sorted(self._read().items())]

    def verify(self, token: str) -> ApiKey | None:
        """The key ``token`` names, if the token is right and the key not revoked.

        Raises ``TooManyAttempts`` when the key id had ``max_failures`` wrong secrets in the
        last ``window_s`` seconds (a token verified before still passes: it is no guess).
        """
        m = TOKEN.match(token or "")
        if not m:
            return None
        key_id, secret = m.groups()
        entry = self._read().get(key_id)  # re-read: a revocation takes effect at once
        if not entry or entry.get("revoked_at"):
            return None
        digest = hashlib.sha256(token.encode()).hexdigest()
        while True:
            with self._lock:
                if self._verified.get(digest) == key_id:
                    return self._key(key_id, entry)
                self._admit(key_id)
                running = self._checking.get(digest)
                if running is None:
                    self._checking[digest] = done = threading.Event()
                    break
            running.wait()  # the same token is being checked: its answer is this one's
        try:
            with self._hashing:  # a few hashes at a time leave the CPUs to everything else
                with self._lock:  # the guesses that failed while this one waited count too
                    self._admit(key_id)
                right = hmac.compare_digest(_hash(secret, bytes.fromhex(entry["salt"])), entry["scrypt"])
            with self._lock:
                if right:
                    self._verified[digest] = key_id
                else:
                    self._attempts.setdefault(key_id, []).append(time.monotonic())
        finally:
            with self._lock:
                self._checking.pop(digest, None)
            done.set()
        return self._key(key_id, entry) if right else None

    def _admit(self, key_id: str) -> None:
        """``TooManyAttempts`` when ``key_id`` had ``max_failures`` wrong secrets in the window."""
        now = time.monotonic()
        recent = [t for t in self._attempts.get(key_id, []) if now - t < self.window_s]
        self._attempts[key_id] = recent
        if self.max_failures and len(recent) >= self.max_failures:
            raise TooManyAttempts(key_id, max(1, math.ceil(recent[0] + self.window_s - now)))

    @staticmethod
    def _key(key_id: str, entry: dict) -> ApiKey:
        return ApiKey(
            key_id, entry["project"], entry.get("label", ""), entry["created_at"], entry.get("revoked_at")
        )


class RateLimit:
    """Each key's request budget: ``per_minute`` requests, refilled evenly (0: no limit)."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (requests left, when)
        self._lock = threading.Lock()

    def take(self, key_id: str) -> int:
        """0 when ``key_id`` may make a request now (and it is counted), else seconds to wait."""
        if self.per_minute <= 0:
            return 0
        rate = self.per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            left, then = self._buckets.get(key_id, (float(self.per_minute), now))
            left = min(float(self.per_minute), left + (now - then) * rate)
            if left < 1.0:
                self._buckets[key_id] = (left, now)
                return max(1, math.ceil((1.0 - left) / rate))
            self._buckets[key_id] = (left - 1.0, now)
            return 0
