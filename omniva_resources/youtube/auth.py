"""Connecting YouTube channels: the OAuth installed-app flow and the token store.

``omniva youtube auth --client-secrets client_secret.json --channel NAME`` runs
google-auth-oauthlib's ``InstalledAppFlow``: a loopback redirect server on this
machine (``run_local_server``), or, where no browser can reach this machine (a
server over SSH), a console flow in which the user opens the link anywhere and
pastes back the address the browser was sent to. The resulting authorized-user
token (access token, refresh token, client id and secret) is written to
``<secrets dir>/<channel>.json`` with mode 0600 in a 0700 folder. The caller
chooses the secrets dir (``--secrets-dir``, ``OMNIVA_YOUTUBE_SECRETS_DIR``);
``$OMNIVA_HOME/secrets/youtube`` otherwise. Each channel has its own file, so one
project can post to many.

Tokens refresh on use (google-auth does it when the access token has expired or
YouTube answers 401); the refreshed token is saved back at once. Nothing here
logs or prints a token, and the store's ``describe`` only reports what is safe to
show (channel, scopes, expiry, whether a refresh token exists).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import google.oauth2.credentials
from google_auth_oauthlib.flow import InstalledAppFlow
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from omniva.settings import omniva_home
from omniva_resources.private_files import write_private_json
from omniva_resources.youtube.client import YOUTUBE_SCOPES, YouTubeClient
from omniva_resources.youtube.errors import MissingCredentialsError, YouTubeError

log = logging.getLogger(__name__)

_CHANNEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: Where the console flow tells Google to send the browser. Nothing listens there: the
#: page fails to load and the user copies its address (code + state) back.
CONSOLE_REDIRECT_URI = "http://localhost:1/"
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def default_secrets_dir(home: Path | None = None) -> Path:
    """``<home>/secrets/youtube``; ``home`` defaults to ``$OMNIVA_HOME``."""
    return Path(home or omniva_home()) / "secrets" / "youtube"


def check_channel_name(name: str) -> str:
    if not _CHANNEL_RE.match(name or ""):
        raise YouTubeError(
            f"channel name {name!r} must be 1-64 letters, digits, '.', '_' or '-' (it names the token file)"
        )
    return name


class _StoredCredentials(google.oauth2.credentials.Credentials):
    """Authorized-user credentials that write themselves back after every refresh."""

    _on_refresh: Callable[[google.oauth2.credentials.Credentials], None] | None = None

    def refresh(self, request: Any) -> None:
        super().refresh(request)
        if self._on_refresh is not None:
            self._on_refresh(self)


@dataclass(frozen=True)
class ChannelToken:
    """What is safe to say about a stored token."""

    channel: str
    path: Path
    channel_id: str | None
    channel_title: str | None
    scopes: tuple[str, ...]
    expiry: str | None
    has_refresh_token: bool
    mode: str


class TokenStore:
    """Per-channel OAuth token files in an owner-only folder.

    ``root``: the folder, chosen by the caller (the ``--secrets-dir`` option or the
    resource's ``secrets_dir``, both of which honour ``OMNIVA_YOUTUBE_SECRETS_DIR``);
    ``default_secrets_dir()`` when not given.
    """

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else default_secrets_dir()

    def path(self, channel: str) -> Path:
        return self.root / f"{check_channel_name(channel)}.json"

    def _ensure_root(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):
            os.chmod(self.root, 0o700)
            if self.root.parent.name == "secrets":
                os.chmod(self.root.parent, 0o700)

    def channels(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.stem for p in self.root.glob("*.json") if _CHANNEL_RE.match(p.stem))

    def save(
        self,
        channel: str,
        creds: google.oauth2.credentials.Credentials,
        info: dict[str, Any] | None = None,
    ) -> Path:
        """Write the token (authorized-user JSON, plus Omniva's non-secret ``omniva`` block)."""
        path = self.path(channel)
        self._ensure_root()
        data = json.loads(creds.to_json()) | {"type": "authorized_user"}
        previous = self._read_raw(path) if path.exists() else {}
        data["omniva"] = (previous.get("omniva") or {}) | (info or {}) | {"channel": channel}
        write_private_json(path, data)
        return path

    def _read_raw(self, path: Path) -> dict:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise MissingCredentialsError(
                f"YouTube token file {path} cannot be read ({type(exc).__name__}); "
                "run `omniva youtube auth` to recreate it."
            ) from exc
        return data if isinstance(data, dict) else {}

    def _tighten(self, path: Path) -> None:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("YouTube token file %s was readable by others (mode %o); setting 0600", path, mode)
            os.chmod(path, 0o600)

    def load(self, channel: str) -> google.oauth2.credentials.Credentials:
        return self.load_file(self.path(channel), channel)

    def load_file(self, path: Path, channel: str | None = None) -> google.oauth2.credentials.Credentials:
        """Credentials from a token file; a refresh saves the new access token back to it."""
        path = Path(path).expanduser()
        if not path.is_file():
            hint = f" --channel {channel}" if channel else ""
            raise MissingCredentialsError(
                f"no YouTube token at {path}; run `omniva youtube auth --client-secrets "
                f"client_secret.json{hint}` to connect the channel"
            )
        self._tighten(path)
        data = self._read_raw(path)
        try:
            creds = _StoredCredentials.from_authorized_user_info(data)
        except (ValueError, KeyError) as exc:
            # Messages name missing fields only, never values.
            raise MissingCredentialsError(
                f"YouTube token file {path} is not an authorized-user token ({exc}); "
                "run `omniva youtube auth` to recreate it."
            ) from exc

        token_uri = data.get("token_uri") or ""
        if token_uri and token_uri != creds.token_uri:
            # google-auth always points a loaded token at Google's endpoint, so that a
            # planted file cannot send the refresh token elsewhere. A loopback HTTP
            # endpoint (the emulator) is the one exception kept; anything else is refused.
            parts = urlsplit(token_uri)
            if not (parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS):
                raise MissingCredentialsError(
                    f"YouTube token file {path} names an unexpected token endpoint; "
                    "run `omniva youtube auth` to recreate it."
                )
            creds._token_uri = token_uri

        def persist(refreshed: google.oauth2.credentials.Credentials) -> None:
            fresh = json.loads(refreshed.to_json()) | {"type": "authorized_user"}
            fresh["omniva"] = data.get("omniva") or {}
            write_private_json(path, fresh)
            log.info("YouTube token for %s refreshed and saved", channel or path.name)

        creds._on_refresh = persist
        return creds

    def describe(self, channel: str) -> ChannelToken:
        path = self.path(channel)
        data = self._read_raw(path) if path.is_file() else {}
        meta = data.get("omniva") or {}
        return ChannelToken(
            channel=channel,
            path=path,
            channel_id=meta.get("channel_id"),
            channel_title=meta.get("channel_title"),
            scopes=tuple(data.get("scopes") or ()),
            expiry=data.get("expiry"),
            has_refresh_token=bool(data.get("refresh_token")),
            mode=oct(stat.S_IMODE(path.stat().st_mode)) if path.exists() else "-",
        )


# ------------------------------------------------------------------ the flow
def _client_config(client_secrets: Path) -> dict:
    try:
        config = json.loads(Path(client_secrets).read_text())
    except (OSError, ValueError) as exc:
        raise YouTubeError(
            f"cannot read the OAuth client file {client_secrets} ({type(exc).__name__}); download it "
            "from Google Cloud console > APIs & Services > Credentials (OAuth client, type Desktop app)"
        ) from exc
    if "installed" not in config:
        kind = ", ".join(config) if isinstance(config, dict) else "?"
        raise YouTubeError(
            f"{client_secrets} is not a Desktop-app OAuth client (found {kind!r}); create an OAuth "
            "client ID of application type 'Desktop app'"
        )
    return config


def _loopback_root(config: dict) -> str | None:
    """The emulator's root when the client's token endpoint is a loopback HTTP one, else None."""
    parts = urlsplit(config["installed"].get("token_uri", ""))
    if parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS:
        return f"http://{parts.netloc}/"
    return None


def _console_flow(
    flow: Any, input_fn: Callable[[str], str], print_fn: Callable[[str], None]
) -> google.oauth2.credentials.Credentials:
    flow.redirect_uri = CONSOLE_REDIRECT_URI
    url, state = flow.authorization_url(access_type="offline", prompt="consent")
    print_fn(
        "Open this link in any browser, sign in with the Google account that owns the channel and "
        f"allow access:\n\n    {url}\n\nThe browser then tries to open {CONSOLE_REDIRECT_URI}?... and "
        "shows an error page; that is expected. Copy the whole address from its address bar."
    )
    answer = input_fn("Paste the address (or just the code): ").strip()
    if answer.startswith("http"):
        query = parse_qs(urlsplit(answer).query)
        if query.get("error"):
            raise YouTubeError(f"authorization was refused: {query['error'][0]}")
        if query.get("state", [None])[0] != state:
            raise YouTubeError("the pasted address belongs to another authorization attempt (state mismatch)")
        code = (query.get("code") or [""])[0]
    else:
        code = answer
    if not code:
        raise YouTubeError("no authorization code in what was pasted")
    flow.fetch_token(code=code)
    return flow.credentials


@contextlib.contextmanager
def _plain_http_allowed(allowed: bool):
    """oauthlib refuses plain-HTTP token endpoints; the loopback emulator is the exception.

    oauthlib reads this switch from the environment and offers no parameter for it, so it
    is set for the flow's duration only and put back as it was.
    """
    if not allowed:
        yield
        return
    before = os.environ.get("OAUTHLIB_INSECURE_TRANSPORT")
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("OAUTHLIB_INSECURE_TRANSPORT", None)
        else:
            os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = before


@contextlib.contextmanager
def _quiet_token_loggers():
    """requests-oauthlib logs the token endpoint's answer (tokens included) at DEBUG."""
    loggers = [logging.getLogger(n) for n in ("requests_oauthlib", "oauthlib", "urllib3")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(lg.getEffectiveLevel(), logging.INFO))
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _run_flow(
    flow: Any,
    console: bool,
    open_browser: bool,
    port: int,
    timeout_s: int | None,
    input_fn: Callable[[str], str],
    print_fn: Callable[[str], None],
) -> google.oauth2.credentials.Credentials:
    if console:
        return _console_flow(flow, input_fn, print_fn)
    return flow.run_local_server(
        host="localhost",
        port=port,
        open_browser=open_browser,
        authorization_prompt_message="Open this link in a browser on this machine to connect the "
        "channel (use --console if this machine has no browser):\n\n    {url}\n",
        success_message="Omniva: the channel is connected. You can close this tab.",
        timeout_seconds=timeout_s,
        access_type="offline",
        prompt="consent",
    )


def authorize(
    client_secrets: Path,
    channel: str,
    *,
    store: TokenStore | None = None,
    api_root: str | None = None,
    console: bool = False,
    open_browser: bool = False,
    port: int = 0,
    scopes: Sequence[str] = YOUTUBE_SCOPES,
    input_fn: Callable[[str], str] | None = None,
    print_fn: Callable[[str], None] | None = None,
    timeout_s: int | None = 600,
) -> ChannelToken:
    """Run the installed-app flow for ``channel`` and store its token; returns what was stored.

    ``api_root``: where to ask which channel the token belongs to (``None``: YouTube, or
    the emulator when the client file's token endpoint is a loopback one).
    """
    check_channel_name(channel)
    store = store or TokenStore()
    config = _client_config(client_secrets)
    emulator_root = _loopback_root(config)
    if emulator_root:
        api_root = api_root or emulator_root
    flow = InstalledAppFlow.from_client_config(config, scopes=list(scopes))
    try:
        with _quiet_token_loggers(), _plain_http_allowed(bool(emulator_root)):
            creds = _run_flow(
                flow, console, open_browser, port, timeout_s, input_fn or input, print_fn or print
            )
    except OAuth2Error as exc:
        # error + description come from the authorization server; no token is in them.
        raise YouTubeError(f"authorization failed: {exc.error}: {exc.description or ''}".strip()) from exc
    if not creds.refresh_token:
        raise YouTubeError(
            "Google returned no refresh token; remove Omniva's access at "
            "https://myaccount.google.com/permissions and run `omniva youtube auth` again"
        )
    info: dict[str, Any] = {"authorized_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    try:
        mine = YouTubeClient(api_root, creds).my_channel()
    except YouTubeError as exc:
        log.warning("connected, but the channel could not be read back: %s", exc)
        mine = None
    if mine:
        info |= {"channel_id": mine.get("id"), "channel_title": (mine.get("snippet") or {}).get("title")}
    store.save(channel, creds, info)
    return store.describe(channel)
