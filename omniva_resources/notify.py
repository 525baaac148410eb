"""Notifications (#29): each project's channels, and the one place alerts leave the farm.

A project's settings (``NotificationSettings``: e-mail over SMTP, a Slack-compatible incoming
webhook, PagerDuty's Events API v2, which events, how long a clip may wait for review) are kept
in ``<home>/secrets/notifications/<project>.json``, owner-only (0600, folder 0700), because
three of their fields are secrets: the SMTP password, the webhook URL (its path is the
credential) and the PagerDuty routing key. ``redacted`` is the only view of them that leaves
this module; every error names the channel and what went wrong, with the secrets masked.

Webhook URLs and PagerDuty endpoints must be public ``https`` addresses, checked when they are
set and again at connect time (``source_guard.network_guard``, the same guard creators' fetches
use). ``OMNIVA_NOTIFY_ALLOW_LOOPBACK=1`` lets a loopback receiver through (plain ``http`` too):
the tests' receivers, or a relay on the farm's own machine. The SMTP host is the operator's
relay and is not checked (a relay on localhost or the LAN is the usual case); a password is
only sent over STARTTLS or to a loopback relay.

``SentLedger`` (``<home>/notifications/sent.json``) remembers what each channel was sent, by
the alert's ``dedup_key``, so each alert reaches each channel once; a failed delivery is tried
again on the next tick, at most ``MAX_ATTEMPTS`` times.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import os
import smtplib
import socket
import ssl
import urllib.parse
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Annotated, Any

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from omniva import alerts
from omniva.alerts import KINDS, PAGERDUTY_ENDPOINT, Alert, Delivery, Kind, TokenFacts
from omniva.errors import OmnivaError
from omniva.redact import MASK
from omniva_resources.private_files import locked, write_private_json
from omniva_resources.source_guard import SourceAccess, network_guard, refused_reason
from omniva_resources.youtube.auth import TokenStore
from omniva_resources.youtube.quota import QuotaLedger

log = logging.getLogger("omniva.notify")

CHANNELS = ("email", "slack", "pagerduty")
TIMEOUT_S = 10.0
MAX_ATTEMPTS = 5
KEEP_DAYS = 60
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class DeliveryError(OmnivaError):
    """An alert did not reach a channel; the message names the channel and why (no secret)."""


class SettingsError(OmnivaError):
    """A notification setting is not acceptable; ``field`` names it (``slack.webhook_url``)."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem


# ---------------------------------------------------------------- the settings
class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)


Address = Annotated[str, AfterValidator(alerts.check_email)]  # an error names its index: email.to.0


class EmailSettings(_Model):
    """SMTP: the relay, the sender and the recipients; STARTTLS and a login if the relay wants them."""

    enabled: bool = True
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(default=587, ge=1, le=65535)
    from_: str = Field(alias="from", max_length=254)
    to: list[Address] = Field(min_length=1, max_length=20)
    starttls: bool = True
    username: str | None = Field(default=None, max_length=254)
    password: str | None = Field(default=None, max_length=1000, repr=False)  # secret

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        return alerts.check_host(v)

    @field_validator("from_")
    @classmethod
    def _from(cls, v: str) -> str:
        return alerts.check_email(v)


class SlackSettings(_Model):
    """A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, ...)."""

    enabled: bool = True
    webhook_url: str | None = Field(default=None, max_length=2000, repr=False)  # secret


class PagerDutySettings(_Model):
    """PagerDuty's Events API v2: the integration's routing key, and where to send events."""

    enabled: bool = True
    routing_key: str | None = Field(default=None, max_length=200, repr=False)  # secret
    endpoint: str = Field(default=PAGERDUTY_ENDPOINT, max_length=2000)


class NotificationSettings(_Model):
    """One project's notifications. A channel left out (null) is not used."""

    email: EmailSettings | None = None
    slack: SlackSettings | None = None
    pagerduty: PagerDutySettings | None = None
    events: list[Kind] = Field(default_factory=lambda: list(KINDS), max_length=len(KINDS))
    review_wait_hours: float = Field(default=24.0, gt=0, le=24 * 30)

    def secrets(self) -> list[str]:
        out = [
            self.email.password if self.email else None,
            self.slack.webhook_url if self.slack else None,
            self.pagerduty.routing_key if self.pagerduty else None,
        ]
        return [s for s in out if s]

    def channels(self) -> list[str]:
        """The channels that are set and on."""
        return [c for c in CHANNELS if (s := getattr(self, c)) is not None and s.enabled]


def merged(new: NotificationSettings, old: NotificationSettings | None) -> NotificationSettings:
    """``new`` with each secret it leaves out (null, or ``REDACTED`` as GET showed it) taken from
    ``old``: the dashboard can send back what it read without knowing the secrets."""

    def keep(value: str | None, before: str | None) -> str | None:
        return before if value in (None, MASK) else value or None

    out = new.model_copy(deep=True)
    if out.email and old and old.email:
        out.email.password = keep(out.email.password, old.email.password)
    elif out.email and out.email.password == MASK:
        out.email.password = None
    if out.slack:
        before = old.slack.webhook_url if old and old.slack else None
        url = out.slack.webhook_url  # GET shows it as scheme://host/REDACTED
        out.slack.webhook_url = keep(None if (url or "").endswith(f"/{MASK}") else url, before)
    if out.pagerduty:
        before = old.pagerduty.routing_key if old and old.pagerduty else None
        out.pagerduty.routing_key = keep(out.pagerduty.routing_key, before)
    return out


def _is_loopback_host(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_endpoint(url: str, field: str, allow_loopback: bool) -> str:
    """A webhook URL or PagerDuty endpoint: ``https`` to a public address (``source_guard``'s
    rule), or, with ``allow_loopback``, any ``http(s)`` URL whose host is this machine.
    ``SettingsError`` naming ``field``; the URL itself is never echoed (it may be the secret)."""
    parts = urllib.parse.urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise SettingsError(field, "must be an https:// URL with a host")
    if parts.username or parts.password:
        raise SettingsError(field, "must not carry a user or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise SettingsError(field, "its port is not a number") from None
    loopback = _is_loopback_host(host)
    if loopback and allow_loopback:
        return url.strip()
    if parts.scheme != "https":
        raise SettingsError(field, "must use https (plain http only to a loopback receiver with "
                            "OMNIVA_NOTIFY_ALLOW_LOOPBACK=1)")  # fmt: skip
    try:
        addresses = {str(i[4][0]) for i in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
    except (OSError, UnicodeError):
        return url.strip()  # checked again, address by address, when it is sent to
    for address in sorted(addresses):
        reason = refused_reason(address)
        if reason:
            hint = " (OMNIVA_NOTIFY_ALLOW_LOOPBACK=1 allows loopback receivers)" if loopback else ""
            raise SettingsError(field, f"its host resolves to {reason}, which Omniva does not send to{hint}")
    return url.strip()


def check_complete(s: NotificationSettings, allow_loopback: bool) -> NotificationSettings:
    """The rules a single field cannot say: secrets present, endpoints allowed, no password sent
    in the clear. ``SettingsError`` naming the first field that is wrong."""
    if s.email is not None:
        if s.email.password and not s.email.username:
            raise SettingsError("email.username", "a password needs a username")
        if s.email.password and not s.email.starttls and not _is_loopback_host(s.email.host):
            raise SettingsError(
                "email.starttls", "a password is only sent over STARTTLS (set starttls: true)"
            )
    if s.slack is not None:
        if not s.slack.webhook_url:
            raise SettingsError("slack.webhook_url", "required (the incoming webhook's URL)")
        check_endpoint(s.slack.webhook_url, "slack.webhook_url", allow_loopback)
    if s.pagerduty is not None:
        if not s.pagerduty.routing_key:
            raise SettingsError("pagerduty.routing_key", "required (the Events API v2 integration key)")
        if not s.pagerduty.routing_key.replace("-", "").replace("_", "").isalnum():
            raise SettingsError("pagerduty.routing_key", "letters and digits only (an integration key)")
        check_endpoint(s.pagerduty.endpoint, "pagerduty.endpoint", allow_loopback)
    return s


def _url_hint(url: str | None) -> str | None:
    if not url:
        return None
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/{MASK}"


def redacted(s: NotificationSettings) -> dict[str, Any]:
    """What may be shown: every field, each secret replaced by ``REDACTED`` (the webhook by its
    scheme and host only), with ``*_set`` saying whether it is there."""
    out: dict[str, Any] = s.model_dump(by_alias=True)
    if s.email is not None:
        out["email"]["password"] = MASK if s.email.password else None
        out["email"]["password_set"] = bool(s.email.password)
    if s.slack is not None:
        out["slack"]["webhook_url"] = _url_hint(s.slack.webhook_url)
        out["slack"]["webhook_url_set"] = bool(s.slack.webhook_url)
    if s.pagerduty is not None:
        out["pagerduty"]["routing_key"] = MASK if s.pagerduty.routing_key else None
        out["pagerduty"]["routing_key_set"] = bool(s.pagerduty.routing_key)
    return out


class NotificationStore:
    """Each project's settings, one owner-only file per project in the secrets folder."""

    def __init__(self, home: Path):
        self.home = Path(home)
        self.root = self.home / "secrets" / "notifications"

    def path(self, project: str) -> Path:
        name = project.removeprefix("proj_")
        if not name or "/" in name or name.startswith("."):
            raise SettingsError("project_id", f"{project!r} is not a project name")
        return self.root / f"{name}.json"

    def load(self, project: str) -> NotificationSettings | None:
        path = self.path(project)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise DeliveryError(
                f"notification settings of {project} cannot be read ({type(exc).__name__})"
            ) from exc
        return NotificationSettings.model_validate(data.get("settings") or {})

    def meta(self, project: str) -> dict[str, Any]:
        try:
            data = json.loads(self.path(project).read_text())
        except (OSError, ValueError):
            return {}
        return {k: data.get(k) for k in ("updated_at", "updated_by")}

    def save(self, project: str, settings: NotificationSettings, by: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):
            os.chmod(self.root, 0o700)
            os.chmod(self.root.parent, 0o700)
        path = self.path(project)
        with locked(path):
            write_private_json(
                path,
                {
                    "settings": settings.model_dump(by_alias=True),
                    "updated_at": alerts.iso(datetime.now(UTC)),
                    "updated_by": by,
                },
            )

    def projects(self) -> list[str]:
        """The ids (``proj_<name>``) of the projects with settings."""
        if not self.root.is_dir():
            return []
        return sorted(f"proj_{p.stem}" for p in self.root.glob("*.json"))


# ---------------------------------------------------------------- what was sent
class SentLedger:
    """Which alert reached which channel of which project, and the sensor's memory of each
    stage's crisis (to tell entering from leaving). Kept ``KEEP_DAYS``."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @contextlib.contextmanager
    def editing(self) -> Iterator[dict[str, Any]]:
        with locked(self.path):
            data = self._read()
            yield data
            cutoff = alerts.iso(datetime.now(UTC) - timedelta(days=KEEP_DAYS))
            sent = data.get("sent", {})
            data["sent"] = {k: v for k, v in sent.items() if str(v.get("at", "")) >= cutoff}
            write_private_json(self.path, data)

    @staticmethod
    def key(project: str, channel: str, alert: Alert) -> str:
        return f"{project}|{channel}|{alert.dedup_key}"

    def done(self, key: str) -> bool:
        entry = self._read().get("sent", {}).get(key)
        return bool(entry) and (entry.get("delivered") or int(entry.get("attempts", 0)) >= MAX_ATTEMPTS)

    def record(self, key: str, delivered: bool, error: str | None) -> None:
        with self.editing() as data:
            entry = data.setdefault("sent", {}).setdefault(key, {"attempts": 0})
            entry.update(
                at=alerts.iso(datetime.now(UTC)),
                attempts=int(entry.get("attempts", 0)) + 1,
                delivered=delivered,
                error=error,
            )

    def settled(self) -> set[str]:
        """The dedup keys every channel they went to is done with (delivered, or given up on):
        the sensor need not look at those events again."""
        state: dict[str, bool] = {}
        for key, entry in self._read().get("sent", {}).items():
            dedup = key.split("|", 2)[-1]
            done = bool(entry.get("delivered")) or int(entry.get("attempts", 0)) >= MAX_ATTEMPTS
            state[dedup] = state.get(dedup, True) and done
        return {k for k, done in state.items() if done}

    def entries(self) -> dict[str, dict[str, Any]]:
        return dict(self._read().get("sent", {}))

    def crisis_state(self) -> dict[str, dict[str, Any]]:
        """job -> what the sensor last saw of its crisis: reason (None: out of crisis), the
        reason of the latest crisis, how many crises so far, when it last changed."""
        state = self._read().get("crisis", {})
        return {k: v for k, v in state.items() if isinstance(v, dict)} if isinstance(state, dict) else {}

    def set_crisis_state(self, state: dict[str, dict[str, Any]]) -> None:
        with self.editing() as data:
            data["crisis"] = state


# ---------------------------------------------------------------- sending
def _guarded(url: str, allow_loopback: bool) -> contextlib.AbstractContextManager[object]:
    """The connect-time guard for one send: public addresses only, plus the loopback receiver
    itself when the allowance is on (let through as the guard lets an operator's proxy)."""
    parts = urllib.parse.urlsplit(url)
    if allow_loopback and _is_loopback_host(parts.hostname or ""):
        return network_guard(SourceAccess(), proxy=f"{parts.scheme}://{parts.netloc}")
    return network_guard(SourceAccess())


def post_json(what: str, url: str, body: dict[str, Any], secrets: Iterable[str], allow_loopback: bool,
              timeout_s: float = TIMEOUT_S) -> dict[str, Any]:  # fmt: skip
    """POST ``body`` as JSON to ``url`` (no redirects, no proxy from the environment); the
    answer's status and JSON (if any). ``DeliveryError`` naming ``what`` otherwise."""
    secrets = list(secrets)
    try:
        check_endpoint(url, what, allow_loopback)
        with _guarded(url, allow_loopback), httpx.Client(timeout=timeout_s, trust_env=False) as client:
            resp = client.post(url, json=body, headers={"User-Agent": "Omniva-notifications"})
    except SettingsError as exc:
        raise DeliveryError(f"{what}: not sent, {exc.problem}") from None
    except httpx.TimeoutException:
        raise DeliveryError(f"{what}: no answer within {timeout_s:g} s") from None
    except (httpx.HTTPError, OSError) as exc:
        raise DeliveryError(f"{what}: could not connect ({type(exc).__name__})") from None
    if not 200 <= resp.status_code < 300:
        said = alerts.mask(resp.text[:200].strip(), secrets)
        raise DeliveryError(f"{what}: the receiver answered HTTP {resp.status_code}: {said}")
    try:
        answer = resp.json()
    except ValueError:
        answer = {"text": resp.text[:200]}
    return {"status": resp.status_code, "answer": answer if isinstance(answer, dict) else {"answer": answer}}


def send_email(cfg: EmailSettings, alert: Alert, timeout_s: float = TIMEOUT_S) -> dict[str, Any]:
    """One e-mail through the project's relay; ``DeliveryError`` naming the step that failed."""
    subject, body = alerts.email_text(alert)
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = subject, cfg.from_, ", ".join(cfg.to)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=cfg.from_.rsplit("@", 1)[-1])
    msg["X-Omniva-Alert"] = alert.dedup_key
    msg.set_content(body)
    where = f"e-mail via {cfg.host}:{cfg.port}"
    step = "connect"
    try:
        with smtplib.SMTP(cfg.host, cfg.port, timeout=timeout_s) as smtp:
            step = "EHLO"
            smtp.ehlo()
            if cfg.starttls:
                step = "STARTTLS"
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if cfg.username and cfg.password:
                step = "login"
                smtp.login(cfg.username, cfg.password)
            step = "send"
            refused = smtp.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"{where}: the relay refused the login (SMTP {exc.smtp_code})") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"{where}: every recipient was refused ({', '.join(exc.recipients)})") from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"{where}: {step} failed (SMTP {exc.smtp_code})") from None
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise DeliveryError(f"{where}: {step} failed ({type(exc).__name__})") from None
    return {"recipients": [a for a in cfg.to if a not in refused], "refused": sorted(refused)}


def send(channel: str, s: NotificationSettings, alert: Alert, allow_loopback: bool) -> Delivery:
    """Send ``alert`` to one of the project's channels; the outcome, errors masked."""
    secrets = s.secrets()
    try:
        if channel == "email" and s.email is not None:
            detail = send_email(s.email, alert)
        elif channel == "slack" and s.slack is not None and s.slack.webhook_url:
            detail = post_json("slack webhook", s.slack.webhook_url, alerts.slack_payload(alert), secrets,
                               allow_loopback)  # fmt: skip
        elif channel == "pagerduty" and s.pagerduty is not None and s.pagerduty.routing_key:
            payload = alerts.pagerduty_payload(alert, s.pagerduty.routing_key)
            detail = post_json("pagerduty", s.pagerduty.endpoint, payload, secrets, allow_loopback)
            detail["answer"] = {k: v for k, v in detail["answer"].items() if k in ("status", "message")}
        else:
            return Delivery(channel, False, f"{channel}: not set up for this project")
    except DeliveryError as exc:
        return Delivery(channel, False, alerts.mask(str(exc), secrets))
    return Delivery(channel, True, None, detail)


# ---------------------------------------------------------------- dispatching
class Notifier:
    """Sends each alert to the channels of the projects it concerns, once per channel."""

    def __init__(self, home: Path, allow_loopback: bool = False):
        self.store = NotificationStore(home)
        self.ledger = SentLedger(Path(home) / "notifications" / "sent.json")
        self.allow_loopback = allow_loopback

    def dispatch(self, alert: Alert, project_ids: Iterable[str]) -> list[tuple[str, Delivery]]:
        """Each (project, delivery) tried now; channels that already have it are skipped."""
        out = []
        for pid in project_ids:
            try:
                s = self.store.load(pid)
            except (DeliveryError, ValueError) as exc:
                log.warning("notifications of %s skipped: %s", pid, exc)
                continue
            if s is None or alert.kind not in s.events:
                continue
            addressed = alert.for_project(pid)
            for channel in s.channels():
                key = SentLedger.key(pid, channel, alert)
                if self.ledger.done(key):
                    continue
                d = send(channel, s, addressed, self.allow_loopback)
                self.ledger.record(key, d.delivered, d.error)
                if not d.delivered:
                    log.warning(
                        "alert %s to %s of %s not delivered: %s", alert.dedup_key, channel, pid, d.error
                    )
                out.append((pid, d))
        return out


# ---------------------------------------------------------------- facts the alerts come from
def quota_statuses(home: Path) -> list[dict[str, Any]]:
    """Today's status of every quota ledger in the working folder (``youtube-quota/*.json``)."""
    folder = Path(home) / "youtube-quota"
    if not folder.is_dir():
        return []
    return [QuotaLedger.from_file(p).status() for p in sorted(folder.glob("*.json"))]


def token_facts(store: TokenStore, channel: str) -> TokenFacts | None:
    """What the stored token of ``channel`` says about its life (None: no token stored).
    ``omniva.revoked_at`` (or a Google ``invalid_grant`` recorded as ``omniva.refresh_error``)
    marks a revoked token; ``omniva.refresh_expires_at`` or Google's
    ``refresh_token_expires_at`` when the refresh token ends."""
    try:
        path = store.path(channel)
        data = json.loads(path.read_text())
    except (OSError, ValueError, OmnivaError):
        return None
    if not isinstance(data, dict):
        return None
    meta = data.get("omniva") or {}
    refresh_error = str(meta.get("refresh_error") or "")
    revoked = meta.get("revoked_at") or (
        meta.get("refresh_error_at") if "invalid_grant" in refresh_error else None
    )
    return TokenFacts(
        channel=channel,
        expiry=data.get("expiry"),
        has_refresh_token=bool(data.get("refresh_token")),
        refresh_expires_at=meta.get("refresh_expires_at") or data.get("refresh_token_expires_at"),
        revoked_at=str(revoked) if revoked else None,
    )
