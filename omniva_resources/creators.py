"""The creator registry: ``creators.json`` in the working folder.

``omniva creators add`` writes it; the creator sensor turns each active entry into
a ``creators`` partition. Removing a creator marks it inactive and keeps history.
An entry may carry the creator's rules (duration, Shorts or long-form only) and a cookies
file for sources that need a login: a copy kept owner-only under
``$OMNIVA_HOME/secrets/cookies/NAME.txt`` (``Layout.cookies``), whose contents are never
printed or logged. A URL given with ``user:password@`` or with secret query parameters
(``?token=...&sig=...``, ``omniva.redact.is_secret_param``) is stored without them: they go to
``$OMNIVA_HOME/secrets/credentials/NAME.json`` (owner-only) and the scraper puts them back in
memory when it fetches from the creator's own origin (``access_for``), so the stored URL, and
everything made from it (answers, metadata, tables, messages), holds no secret. ``allow_private_network`` is set only for creators
registered from the CLI, whose loopback or private address is on purpose; the REST API never
sets it. The registry is written atomically under a lock, owner-only.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from omniva.errors import ConfigError
from omniva.records import Creator
from omniva.redact import redact_url, split_credentials, split_secret_params
from omniva.settings import Layout
from omniva.source_rules import SourceRules, SourceSettings, platform_of
from omniva_resources import project_file
from omniva_resources.folder_source import folder_path, folder_url
from omniva_resources.private_files import locked, write_private_json
from omniva_resources.source_guard import SourceAccess, origin_of

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}$")


def _read(layout: Layout, migrate: bool = True) -> dict:
    if not layout.creators_file.exists():
        return {}
    data = json.loads(layout.creators_file.read_text())
    if migrate and any(_has_url_secrets(e.get("url", "")) for e in data.values()):
        data = _update(layout, lambda d: None)  # a registry written before #26: move them now
    return data


def _has_url_secrets(url: str) -> bool:
    return split_credentials(url)[1] is not None or bool(split_secret_params(url)[1])


def _move_url_secrets(layout: Layout, data: dict) -> None:
    """Entries whose URL still holds a password or a secret query parameter (registered before
    they were split at registration): the secrets go to the secrets folder, the URL keeps none."""
    for name, entry in data.items():
        url = entry.get("url", "")
        if not _has_url_secrets(url):
            continue
        clean, credentials = split_credentials(url)
        clean, params = split_secret_params(clean)
        path = credentials_file(layout, name)
        kept = json.loads(path.read_text()) if path.exists() else {}
        if credentials is None and "user" in kept and kept.get("origin") == origin_of(clean):
            credentials = (kept["user"], kept.get("password", ""))  # moved earlier: keep them
        _keep_credentials(layout, name, clean, credentials, params)
        entry.update(url=clean, credentials=True)


def _update(layout: Layout, change: Callable[[dict], None]) -> dict:
    """Read, change and write the registry under its lock (owner-only, atomic)."""
    with locked(layout.creators_file):
        data = _read(layout, migrate=False)
        _move_url_secrets(layout, data)
        change(data)
        write_private_json(layout.creators_file, data)
    return data


def normalize_url(url: str) -> str:
    """A full http(s) URL, or a local folder as ``folder:///absolute/path``."""
    if (
        url.startswith("folder://")
        or url.startswith(("/", "~", "./"))
        or (not re.match(r"^[a-z][a-z0-9+.-]*://", url) and os.path.isdir(url))
    ):
        folder = folder_url(url)
        if not folder_path(folder).is_dir():
            raise ConfigError(f"folder {folder_path(folder)} does not exist (create it, or give a URL)")
        return folder
    if not re.match(r"^(https?|file)://", url):
        raise ConfigError(
            f"creator URL {redact_url(url)!r}: give a full http(s):// URL (channel, feed or page) or a folder path"
        )
    return url


def add(
    layout: Layout,
    name: str,
    url: str,
    *,
    cookies: str | Path | None = None,
    rules: SourceRules | None = None,
    project: str | None = None,
    allow_private_network: bool = False,
    language: str | None = None,
) -> Creator:
    """Register (or update) a creator; ``project``: also join that project.

    ``allow_private_network``: its URLs may resolve to loopback or private addresses (the
    CLI's registration, where that is on purpose; never through the REST API)."""
    if not NAME.match(name):
        raise ConfigError(
            f"creator name {name!r}: use lowercase letters, digits, '-' or '_' (it becomes a partition key)"
        )
    if language is not None and not LANGUAGE.match(language):
        raise ConfigError(
            f"creator {name!r}: language {language!r} is not an ISO 639-1 code (e.g. en, es, pt, ja)"
        )
    url, credentials = split_credentials(url.strip())
    url, secret_params = split_secret_params(url)
    url = normalize_url(url)
    if project:
        project_file.get(project, layout)  # a clear error before anything is written
        owner = project_file.owner_of(name, layout)
        if owner not in (None, project):  # refuse before the registry entry is touched
            raise project_file.CreatorOwnedError(name, owner)
    kept_cookies = str(_keep_cookies(layout, name, Path(cookies).expanduser())) if cookies else None
    if credentials or secret_params:
        _keep_credentials(layout, name, url, credentials, secret_params)
    else:
        credentials_file(layout, name).unlink(missing_ok=True)

    def change(data: dict) -> None:
        entry = data.get(name, {})
        entry.update(
            url=url, platform=platform_of(url), active=True, allow_private_network=allow_private_network
        )
        entry.setdefault("added_at", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        if rules is not None:
            entry["rules"] = rules.as_dict()
        if kept_cookies:
            entry["cookies"] = kept_cookies
        if language is not None:
            entry["language"] = language.lower()
        entry["credentials"] = bool(credentials or secret_params)
        data[name] = entry

    entry = _update(layout, change)[name]
    if project:
        project_file.add_member(project, name, layout)
    return Creator(name, url, entry["platform"])


def _keep_cookies(layout: Layout, name: str, source: Path) -> Path:
    """Copy a Netscape cookies file to the secrets folder, owner-only (yt-dlp also writes
    refreshed cookies back to it)."""
    if not source.is_file():
        raise ConfigError(f"cookies file {source} does not exist (export one in Netscape format)")
    head = source.read_text(errors="replace")[:4096]
    if "\t" not in head and "# Netscape HTTP Cookie File" not in head:
        raise ConfigError(f"cookies file {source}: not in Netscape cookies.txt format (tab-separated)")
    folder = layout.cookies
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    target = folder / f"{name}.txt"
    tmp = target.with_suffix(".partial")
    shutil.copyfile(source, tmp)
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
    return target


def credentials_file(layout: Layout, name: str) -> Path:
    return layout.cookies.parent / "credentials" / f"{name}.json"


def _keep_credentials(
    layout: Layout,
    name: str,
    url: str,
    credentials: tuple[str, str] | None,
    secret_params: tuple[tuple[str, str], ...] = (),
) -> None:
    """The URL's user and password and its secret query parameters, owner-only in the secrets
    folder, tied to its origin."""
    path = credentials_file(layout, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    kept: dict = {"origin": origin_of(url)}
    if credentials:
        kept.update(user=credentials[0], password=credentials[1])
    if secret_params:
        kept["params"] = [list(p) for p in secret_params]
    write_private_json(path, kept)


def access_for(layout: Layout, name: str) -> SourceAccess:
    """Where and how this creator's URLs may be fetched (its network flag, its credentials)."""
    entry = _read(layout).get(name, {})
    origin = origin_of(entry.get("url", ""))
    path = credentials_file(layout, name)
    credentials = None
    params: tuple[tuple[str, str], ...] = ()
    if path.exists():
        kept = json.loads(path.read_text())
        if kept.get("origin") == origin:  # a changed URL never gets the old host's secrets
            if "user" in kept:
                credentials = (kept["user"], kept.get("password", ""))
            params = tuple((str(k), str(v)) for k, v in kept.get("params", []))
    return SourceAccess(bool(entry.get("allow_private_network", False)), credentials, origin, params)


def settings_for(layout: Layout, name: str, shared: SourceSettings | None = None) -> SourceSettings:
    """How to reach this creator: ``shared`` (the proxy, interval and retry settings every
    creator shares: the ``scrape`` resource's) with its own rules and cookies file."""
    entry = _read(layout).get(name, {})
    cookies = entry.get("cookies")
    default = layout.cookies / f"{name}.txt"
    if not cookies and default.exists():
        cookies = str(default)
    if cookies and not Path(cookies).exists():
        raise ConfigError(
            f"creator {name!r}: its cookies file {cookies} is gone; add it again with --cookies"
        )
    return dataclasses.replace(
        shared or SourceSettings(), cookies_file=cookies, rules=SourceRules(**entry.get("rules", {}))
    )


def language_of(layout: Layout, name: str) -> str | None:
    """The language a creator was registered with (``--language``), or None: detected per video."""
    return _read(layout).get(name, {}).get("language")


def describe(layout: Layout, name: str) -> dict:
    """The registry entry without secrets (a cookies file shows as present or not)."""
    entry = dict(_read(layout).get(name, {}))
    if entry.pop("cookies", None):
        entry["cookies"] = "set"
    return entry


def remove(layout: Layout, name: str) -> None:
    def change(data: dict) -> None:
        if name not in data:
            raise ConfigError(f"no creator named {name!r}")
        data[name]["active"] = False

    _update(layout, change)


def active(layout: Layout) -> list[Creator]:
    return [
        Creator(n, e["url"], e.get("platform", "other"))
        for n, e in sorted(_read(layout).items())
        if e.get("active", True)
    ]


def get(layout: Layout, name: str) -> Creator:
    entry = _read(layout).get(name)
    if not entry:
        raise ConfigError(f"no creator named {name!r}: add it with `omniva creators add {name} URL`")
    return Creator(name, entry["url"], entry.get("platform", "other"))


def is_active(layout: Layout, name: str) -> bool:
    return bool(_read(layout).get(name, {}).get("active", False))


def added_at(layout: Layout, name: str) -> str:
    return _read(layout).get(name, {}).get("added_at", "")
