"""API keys: ``omv_<key id>_<secret>``, stored only as a salted scrypt hash.

The store is ``$OMNIVA_HOME/api/keys.json`` (owner-only). A key is scoped to one
project, or to all of them (``"*"``, an admin key that may also create projects).
The key id in the token finds the record; the secret is checked in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from omniva.errors import ConfigError
from omniva_app.api.envelope import now_iso

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


def _hash(secret: str, salt: bytes) -> str:
    return hashlib.scrypt(secret.encode(), salt=salt, maxmem=64 * 1024 * 1024, **SCRYPT).hex()


class KeyStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._verified: dict[str, str] = {}  # sha256(token) -> key id, for tokens already checked

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}

    def _write(self, data: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
        os.replace(tmp, self.path)

    def create(self, project: str, label: str = "") -> tuple[str, ApiKey]:
        """A new key for ``project`` (or ``"*"``); the token is returned once and never stored."""
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
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
        data = self._read()
        if key_id not in data:
            raise ConfigError(f"no API key {key_id!r} (see `omniva api keys list`)")
        data[key_id]["revoked_at"] = data[key_id]["revoked_at"] or now_iso()
        self._write(data)
        return self._key(key_id, data[key_id])

    def list(self) -> list[ApiKey]:
        return [self._key(k, v) for k, v in sorted(self._read().items())]

    def verify(self, token: str) -> ApiKey | None:
        """The key ``token`` names, if the token is right and the key not revoked."""
        m = TOKEN.match(token or "")
        if not m:
            return None
        key_id, secret = m.groups()
        entry = self._read().get(key_id)  # re-read: a revocation takes effect at once
        if not entry or entry.get("revoked_at"):
            return None
        digest = hashlib.sha256(token.encode()).hexdigest()
        if self._verified.get(digest) != key_id:
            expected = entry["scrypt"]
            if not hmac.compare_digest(_hash(secret, bytes.fromhex(entry["salt"])), expected):
                return None
            self._verified[digest] = key_id
        return self._key(key_id, entry)

    @staticmethod
    def _key(key_id: str, entry: dict) -> ApiKey:
        return ApiKey(
            key_id, entry["project"], entry.get("label", ""), entry["created_at"], entry.get("revoked_at")
        )
