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

The dashboard connects channels too (#29, ``omniva_app/api/routes/channels.py``): the same
authorization-code flow with PKCE, but the redirect goes to the API's
``/v1/oauth/callback`` instead of a loopback server of this process. ``BrowserFlows`` keeps
each started flow's ``state`` (random, single use, ten minutes) with its PKCE verifier in
memory; ``finish_browser_flow`` exchanges the code and stores the token exactly as the CLI
does. Its OAuth client is the one ``omniva youtube auth`` last used (kept beside the tokens
as ``.oauth-client.json``, 0600), or a file put there by hand. ``revoke`` asks the
authorization server to revoke the grant and keeps only the token file's non-secret
``omniva`` block with ``revoked_at`` (the notifications sensor alerts on it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import stat
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import google.oauth2.credentials
from google_auth_oauthlib.flow import Flow, InstalledAppFlow
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
#: The OAuth client the browser flow uses, beside the tokens (its name is no channel name).
CLIENT_FILE = ".oauth-client.json"
#: Google's token revocation endpoint (developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke).
GOOGLE_REVOKE_URI = "https://oauth2.googleapis.com/revoke"
#: The token fields that are secret: a revoked token file keeps none of them.
SECRET_FIELDS = ("token", "refresh_token", "client_secret", "id_token")


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

    # ------------------------------------------------- the browser flow's OAuth client
    @property
    def client_path(self) -> Path:
        return self.root / CLIENT_FILE

    def save_client(self, config: dict) -> Path:
        """Keep the OAuth client (``installed`` or ``web``) for the dashboard's Connect, 0600."""
        self._ensure_root()
        write_private_json(self.client_path, config)
        return self.client_path

    def load_client(self) -> dict:
        if not self.client_path.is_file():
            raise MissingCredentialsError(
                f"no OAuth client for connecting channels from the dashboard at {self.client_path}: run "
                "`omniva youtube auth --client-secrets client_secret.json --channel NAME` once (it keeps "
                "the client there), or copy a client_secret.json there (mode 0600)"
            )
        self._tighten(self.client_path)
        return _checked_client(self._read_raw(self.client_path), self.client_path)

    def raw(self, channel: str) -> dict:
        """The token file's JSON (secrets included: never answer or log it); {} when none."""
        path = self.path(channel)
        return self._read_raw(path) if path.is_file() else {}

    def mark_revoked(self, channel: str, revoked_at: str, info: dict[str, Any] | None = None) -> Path:
        """Drop every secret of the token file and keep its ``omniva`` block with ``revoked_at``
        (what ``omniva_resources.notify.token_facts`` reads to alert)."""
        path = self.path(channel)
        data = self.raw(channel)
        kept = {k: v for k, v in data.items() if k not in SECRET_FIELDS and k != "omniva"}
        kept["omniva"] = (
            (data.get("omniva") or {}) | (info or {}) | {"channel": channel, "revoked_at": revoked_at}
        )
        self._ensure_root()
        write_private_json(path, kept)
        return path

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
        revoked = (data.get("omniva") or {}).get("revoked_at")
        if revoked and not data.get("refresh_token"):
            raise MissingCredentialsError(
                f"the YouTube token of channel {channel or path.stem} was revoked at {revoked}; connect the "
                f"channel again (`omniva youtube auth --channel {channel or path.stem}` or the dashboard's "
                "Channels page)"
            )
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


def _checked_client(config: Any, where: Path) -> dict:
    """An ``installed`` (Desktop) or ``web`` OAuth client config; the browser flow takes both."""
    if not isinstance(config, dict) or not ({"installed", "web"} & set(config)):
        raise MissingCredentialsError(
            f"{where} is not an OAuth client file (expected an 'installed' or 'web' client from "
            "Google Cloud console > APIs & Services > Credentials)"
        )
    return config


def _kind(config: dict) -> str:
    return "web" if "web" in config else "installed"


def _loopback_root(config: dict) -> str | None:
    """The emulator's root when the client's token endpoint is a loopback HTTP one, else None."""
    parts = urlsplit(config[_kind(config)].get("token_uri", ""))
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
    with contextlib.suppress(OSError):
        # the dashboard's Connect uses the same client (#29); a copy beside the tokens, 0600
        store.save_client(config)
    return _store_token(store, channel, creds, api_root)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _store_token(
    store: TokenStore,
    channel: str,
    creds: google.oauth2.credentials.Credentials,
    api_root: str | None,
    info: dict[str, Any] | None = None,
) -> ChannelToken:
    """Check the new token, read back whose channel it is, and save it (0600); the CLI's and the
    browser flow's one way of storing a token."""
    if not creds.refresh_token:
        raise YouTubeError(
            "Google returned no refresh token; remove Omniva's access at "
            "https://myaccount.google.com/permissions and run `omniva youtube auth` again"
        )
    info = {"authorized_at": _now(), **(info or {})}
    try:
        mine = YouTubeClient(api_root, creds).my_channel()
    except YouTubeError as exc:
        log.warning("connected, but the channel could not be read back: %s", exc)
        mine = None
    if mine:
        info |= {"channel_id": mine.get("id"), "channel_title": (mine.get("snippet") or {}).get("title")}
    # a reconnected channel is no longer revoked (the notifications sensor reads revoked_at)
    previous = (store.raw(channel).get("omniva") or {}) if store.path(channel).is_file() else {}
    if previous.get("revoked_at"):
        info["previously_revoked_at"] = previous["revoked_at"]
    store.save(channel, creds, info)
    if previous.get("revoked_at"):
        data = store.raw(channel)
        data["omniva"].pop("revoked_at", None)
        data["omniva"].pop("revoke_note", None)
        write_private_json(store.path(channel), data)
    return store.describe(channel)


# ------------------------------------------------------------ the browser flow (#29)
@dataclass(frozen=True)
class PendingFlow:
    """A started browser authorization, found again by its ``state``."""

    channel: str
    project_id: str
    key_id: str
    redirect_uri: str
    code_verifier: str
    scopes: tuple[str, ...]
    binding: str | None  # digest of the browser's flow cookie, when started from the dashboard
    started: float


class BrowserFlows:
    """Started browser authorizations by the SHA-256 of their ``state``: in memory only, each
    taken once, gone after ``ttl_s`` (the API's sessions live in memory as well)."""

    def __init__(self, ttl_s: float = 600.0, max_pending: int = 64):
        self.ttl_s, self.max_pending = ttl_s, max_pending
        self._pending: dict[str, PendingFlow] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _digest(value: str) -> str:
        return hashlib.sha256(value.encode()).hexdigest()

    def _expire(self, now: float) -> None:
        for d, p in list(self._pending.items()):
            if now - p.started > self.ttl_s:
                del self._pending[d]
        while len(self._pending) >= self.max_pending:  # the oldest go first
            del self._pending[min(self._pending, key=lambda d: self._pending[d].started)]

    def start(
        self,
        store: TokenStore,
        channel: str,
        redirect_uri: str,
        *,
        project_id: str,
        key_id: str,
        binding: str | None = None,
        scopes: Sequence[str] = YOUTUBE_SCOPES,
    ) -> str:
        """The authorization URL for ``channel`` (PKCE S256, offline access, consent)."""
        check_channel_name(channel)
        config = store.load_client()
        state = secrets.token_urlsafe(32)
        flow = Flow.from_client_config(
            config, scopes=list(scopes), redirect_uri=redirect_uri, autogenerate_code_verifier=True
        )
        with _plain_http_allowed(bool(_loopback_root(config))):
            url, _ = flow.authorization_url(access_type="offline", prompt="consent", state=state)
        pending = PendingFlow(
            channel,
            project_id,
            key_id,
            redirect_uri,
            str(flow.code_verifier),
            tuple(scopes),
            self._digest(binding) if binding else None,
            time.monotonic(),
        )
        with self._lock:
            self._expire(pending.started)
            self._pending[self._digest(state)] = pending
        return str(url)

    def take(self, state: str | None, binding: str | None) -> PendingFlow:
        """The flow ``state`` belongs to, taken out (single use); ``YouTubeError`` naming why
        when it is unknown, used, expired, or started in another browser."""
        if not state or len(state) > 128:
            raise YouTubeError(
                "the authorization answer carries no state: start again from the Channels page"
            )
        with self._lock:
            self._expire(time.monotonic())
            pending = self._pending.pop(self._digest(state), None)
        if pending is None:
            raise YouTubeError(
                "unknown, already used or expired authorization state (a flow lasts "
                f"{int(self.ttl_s // 60)} minutes and is used once): start again from the Channels page"
            )
        if pending.binding is not None and not (
            binding and hmac.compare_digest(pending.binding, self._digest(binding))
        ):
            raise YouTubeError("this authorization was started in another browser: start again from there")
        return pending


def redirect_allowed(config: dict, redirect_uri: str) -> bool:
    """A Desktop client may redirect to a loopback address only; a web client to the redirect
    URIs registered with it."""
    if _kind(config) == "web":
        return redirect_uri in (config["web"].get("redirect_uris") or [])
    parts = urlsplit(redirect_uri)
    return parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS


def finish_browser_flow(
    store: TokenStore, pending: PendingFlow, code: str, info: dict[str, Any] | None = None
) -> ChannelToken:
    """Exchange ``code`` (with the flow's PKCE verifier) and store the token as the CLI does."""
    if not code or len(code) > 2048:
        raise YouTubeError("the authorization answer carries no code")
    config = store.load_client()
    emulator_root = _loopback_root(config)
    flow = Flow.from_client_config(
        config,
        scopes=list(pending.scopes),
        redirect_uri=pending.redirect_uri,
        code_verifier=pending.code_verifier,
    )
    try:
        with _quiet_token_loggers(), _plain_http_allowed(bool(emulator_root)):
            flow.fetch_token(code=code)
    except OAuth2Error as exc:
        raise YouTubeError(f"authorization failed: {exc.error}: {exc.description or ''}".strip()) from exc
    except (OSError, ValueError) as exc:  # the token endpoint did not answer, or not with a token
        raise YouTubeError(f"authorization failed: the token endpoint answered {type(exc).__name__}") from exc
    return _store_token(store, pending.channel, flow.credentials, emulator_root, info)


def revoke_uri(token_uri: str) -> str:
    """Where a token is revoked: Google's endpoint, or the loopback emulator's ``/revoke``."""
    parts = urlsplit(token_uri or "")
    if parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS:
        return f"http://{parts.netloc}/revoke"
    return GOOGLE_REVOKE_URI


def revoke(store: TokenStore, channel: str, timeout_s: float = 15.0) -> tuple[bool, str]:
    """Revoke the channel's grant at the authorization server, then drop the token's secrets
    (``TokenStore.mark_revoked``). Returns (revoked there, a sentence saying what happened);
    the local token goes whatever the server answered."""
    data = store.raw(channel)
    if not data:
        raise MissingCredentialsError(f"no YouTube token is stored for channel {channel}")
    secret = data.get("refresh_token") or data.get("token")
    remote, note = False, "no token was left to revoke at the authorization server"
    if secret:
        url = revoke_uri(str(data.get("token_uri") or ""))
        body = urllib.parse.urlencode({"token": secret}).encode()
        req = urllib.request.Request(
            url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout_s):  # noqa: S310 - Google or loopback only
                remote, note = True, "revoked at the authorization server"
        except urllib.error.HTTPError as exc:
            # 400 invalid_token: it was revoked or expired already
            remote = exc.code == 400
            note = (
                "the authorization server no longer knew the token (revoked already)"
                if remote
                else f"the authorization server answered HTTP {exc.code}; remove the access at "
                "https://myaccount.google.com/permissions"
            )
        except OSError as exc:
            note = (
                f"the authorization server could not be reached ({type(exc).__name__}); remove the "
                "access at https://myaccount.google.com/permissions"
            )
    store.mark_revoked(channel, _now(), {"revoke_note": note})
    log.info("YouTube token of %s revoked (%s)", channel, note)
    return remote, note
