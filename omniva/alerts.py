"""Alerts that reach a person (#29): the records, the rules that raise them, and the payloads.

Five things are worth waking someone for: a run failed after its retries, a stage entered or
left crisis mode, a channel's quota or upload limit was reached, a channel's token expires
within ``TOKEN_WARNING`` or was revoked, and a clip has waited for review longer than its
project allows. Each becomes one ``Alert`` with a ``dedup_key`` that names the event, not the
moment it was seen: the sensor (``omniva_assets/insights/notifications.py``) sees the same
failure on every tick, and the key is what makes it one e-mail.

The three payloads follow their documented formats: Slack's incoming webhooks (``text`` as the
fallback, ``blocks`` in Block Kit), PagerDuty's Events API v2 (``trigger`` events) and a plain
e-mail (subject and body). Pure: the sending is ``omniva_resources/notify.py``'s.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args
from urllib.parse import quote

from omniva.redact import MASK, redact_text

Kind = Literal[
    "run_failed",
    "crisis_entered",
    "crisis_left",
    "quota_exhausted",
    "upload_limit",
    "token_expiring",
    "token_revoked",
    "review_waiting",
]
KINDS: tuple[Kind, ...] = get_args(Kind)
Severity = Literal["critical", "error", "warning", "info"]
#: PagerDuty's four severities; Slack and e-mail show the same word.
SEVERITY: dict[Kind, Severity] = {
    "run_failed": "error",
    "crisis_entered": "critical",
    "crisis_left": "info",
    "quota_exhausted": "warning",
    "upload_limit": "warning",
    "token_expiring": "warning",
    "token_revoked": "critical",
    "review_waiting": "warning",
}
#: A token that stops working sooner than this is worth a warning (the issue's "3 days").
TOKEN_WARNING = timedelta(days=3)
#: PagerDuty's documented limits: summary 1024 characters, dedup_key 255.
PD_SUMMARY_MAX, PD_DEDUP_MAX = 1024, 255
#: Slack's: a header's text 150 characters, a section's 3000, a field's 2000, 10 fields.
SLACK_HEADER_MAX, SLACK_TEXT_MAX, SLACK_FIELD_MAX, SLACK_FIELDS_MAX = 150, 3000, 2000, 10
PAGERDUTY_ENDPOINT = "https://events.pagerduty.com/v2/enqueue"

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+$")
_HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")


@dataclass(frozen=True, slots=True)
class Alert:
    """One event worth telling a person about, as every channel says it.

    ``dedup_key`` names the event (the run, the stage's crisis episode, the channel's quota
    day, ...): an alert with a key already delivered to a channel is not sent there again.
    ``link``: where to look (the Dagster UI's run page when the run is known).
    """

    kind: Kind
    dedup_key: str
    summary: str
    occurred_at: str  # ISO 8601, UTC
    source: str  # what raised it: the job, the channel, the quota project
    details: tuple[tuple[str, str], ...] = ()
    link: str | None = None
    link_text: str = "Open in Dagster"
    run_id: str | None = None
    partition: str | None = None
    project_id: str = ""  # "" : the farm as a whole (a stage's crisis concerns every project)

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.kind]

    @property
    def title(self) -> str:
        return self.kind.replace("_", " ")

    def for_project(self, project_id: str) -> Alert:
        """The same alert, addressed to ``project_id`` (its key stays the event's)."""
        return Alert(
            self.kind,
            self.dedup_key,
            self.summary,
            self.occurred_at,
            self.source,
            self.details,
            self.link,
            self.link_text,
            self.run_id,
            self.partition,
            project_id,
        )

    def detail_map(self) -> dict[str, str]:
        out = {"kind": self.kind, "severity": self.severity, "occurred_at": self.occurred_at}
        if self.project_id:
            out["project"] = self.project_id
        if self.run_id:
            out["run_id"] = self.run_id
        if self.partition:
            out["partition"] = self.partition
        return out | dict(self.details)


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> datetime | None:
    """An ISO 8601 time (``Z`` or an offset; naive means UTC), or None if it is not one."""
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


# ---------------------------------------------------------------- the links
def run_url(ui: str, run_id: str) -> str:
    return f"{ui.rstrip('/')}/runs/{run_id}"


def job_runs_url(ui: str, job: str) -> str:
    return f"{ui.rstrip('/')}/runs?q%5B%5D={quote('job:' + job, safe='')}"


def partition_url(ui: str, asset: str, partition: str) -> str:
    return f"{ui.rstrip('/')}/assets/{quote(asset)}?view=partitions&partition={quote(partition, safe='')}"


# ---------------------------------------------------------------- the rules
def run_failed_key(run_id: str) -> str:
    return f"run-failed:{run_id}"


def run_failed(
    run_id: str, job: str, partition: str | None, message: str, ended_at: datetime, ui: str
) -> Alert:
    """A run that failed with no retry left (its steps' retries and Eclipse's)."""
    where = f" for partition {partition}" if partition else ""
    text = redact_text(message.strip())[:500] or "no step failure message"
    return Alert(
        "run_failed",
        run_failed_key(run_id),
        f"{job} failed{where} after its retries: {text}",
        iso(ended_at),
        job,
        (("job", job), ("error", text)),
        link=run_url(ui, run_id),
        run_id=run_id,
        partition=partition,
    )


def crisis_changes(
    before: Mapping[str, str | None], now: Mapping[str, str | None]
) -> list[tuple[str, bool, str]]:
    """(job, entered, reason) of each stage whose crisis mode changed: ``entered`` True when it
    went into crisis, False when it came out. A stage seen for the first time counts as having
    been out of crisis (a farm that starts in crisis says so)."""
    out = []
    for job, reason in now.items():
        was = before.get(job)
        if reason and not was:
            out.append((job, True, reason))
        elif was and not reason:
            out.append((job, False, was))
    return out


def crisis_changed(job: str, entered: bool, reason: str, episode: int, at: datetime, ui: str) -> Alert:
    """A stage went into crisis mode (Zenith stops launching it) or came out of it.
    ``episode``: the how-many-th crisis of the stage, so each one is its own alert."""
    if entered:
        summary = f"stage {job} entered crisis mode: {reason}; Zenith launches none of its runs"
    else:
        summary = f"stage {job} left crisis mode (it was in: {reason}); its runs launch again"
    return Alert(
        "crisis_entered" if entered else "crisis_left",
        f"crisis:{job}:{episode}:{'entered' if entered else 'left'}",
        summary,
        iso(at),
        job,
        (("job", job), ("reason", reason)),
        link=job_runs_url(ui, job),
        link_text="The stage's runs in Dagster",
    )


def quota_alerts(status: Mapping[str, Any]) -> list[Alert]:
    """From one quota ledger's ``status()`` (``omniva_resources.youtube.quota``): an alert per
    bucket that is spent for the day (YouTube said so, or Omniva's count reached the limit) and
    per channel YouTube paused for its upload limit (``uploadLimitExceeded``)."""
    project, day = str(status.get("project") or "?"), str(status.get("day") or "?")
    resets = str(status.get("resets_at") or "")
    now = resets or day
    out: list[Alert] = []
    whole = status.get("exhausted")
    for b in status.get("buckets") or ():
        said = b.get("exhausted") or whole
        full = int(b.get("limit") or 0) > 0 and int(b.get("remaining") or 0) <= 0
        if not (said or full):
            continue
        bucket = str(b.get("bucket"))
        why = (
            f"YouTube answered {said}"
            if said
            else f"{b.get('used')} of {b.get('limit')} {b.get('unit')} used"
        )
        out.append(
            Alert(
                "quota_exhausted",
                f"quota:{project}:{day}:{bucket}",
                f"YouTube quota of project {project} reached in bucket {bucket} ({why}); uploads wait "
                f"for the next quota day at {resets or 'midnight Pacific'}",
                now,
                f"youtube-quota/{project}",
                (("quota_project", project), ("bucket", bucket), ("day", day), ("resets_at", resets)),
                link=None,
            )
        )
    for channel, c in sorted((status.get("channels") or {}).items()):
        if c.get("paused"):
            out.append(
                Alert(
                    "upload_limit",
                    f"upload-limit:{channel}:{day}",
                    f"channel {channel} reached YouTube's daily upload limit ({c.get('paused')}) after "
                    f"{c.get('uploads', 0)} upload(s); it is paused until {resets or 'its next day'}",
                    now,
                    f"channel/{channel}",
                    (("channel", str(channel)), ("day", day), ("resets_at", resets)),
                )
            )
    return out


@dataclass(frozen=True, slots=True)
class TokenFacts:
    """What Omniva knows of a channel's stored token (no secret in it).

    ``revoked_at``: set when the channel was disconnected or Google refused the refresh token
    (``invalid_grant``); ``refresh_expires_at``: when the refresh token itself ends (Google's
    ``refresh_token_expires_in`` for apps in testing); ``expiry``: the access token's."""

    channel: str
    expiry: str | None = None
    has_refresh_token: bool = True
    refresh_expires_at: str | None = None
    revoked_at: str | None = None


def token_alert(facts: TokenFacts, now: datetime, warning: timedelta = TOKEN_WARNING) -> Alert | None:
    """An alert when the channel's token was revoked, or stops working within ``warning``:
    its refresh token ends then, or it has none and its access token expires then."""
    if facts.revoked_at:
        return Alert(
            "token_revoked",
            f"token-revoked:{facts.channel}:{facts.revoked_at}",
            f"the YouTube token of channel {facts.channel} was revoked ({facts.revoked_at}); uploads to it "
            "stop until it is connected again (`omniva youtube auth --channel "
            f"{facts.channel}` or the dashboard's Channels page)",
            facts.revoked_at,
            f"channel/{facts.channel}",
            (("channel", facts.channel), ("revoked_at", facts.revoked_at)),
        )
    ends = parse_time(facts.refresh_expires_at)
    if ends is None and not facts.has_refresh_token:
        ends = parse_time(facts.expiry)
    if ends is None or ends - now > warning:
        return None
    left = ends - now
    when = "expired" if left.total_seconds() <= 0 else f"expires in {_duration(left)}"
    return Alert(
        "token_expiring",
        f"token-expiring:{facts.channel}:{iso(ends)}",
        f"the YouTube token of channel {facts.channel} {when} ({iso(ends)}); connect the channel again "
        f"before then (`omniva youtube auth --channel {facts.channel}`)",
        iso(now),
        f"channel/{facts.channel}",
        (("channel", facts.channel), ("expires_at", iso(ends))),
    )


def review_waiting(
    clip_id: str,
    clip_key: str,
    creator: str,
    rendered_at: datetime,
    now: datetime,
    limit_hours: float,
    ui: str,
) -> Alert | None:
    """An alert for a rendered clip of a review-required project that has waited longer than
    ``limit_hours`` for a person's approval (its upload is held until then)."""
    waited = now - rendered_at
    if waited < timedelta(hours=limit_hours):
        return None
    return Alert(
        "review_waiting",
        f"review-waiting:{clip_key}:{clip_id}",
        f"clip {clip_id} ({clip_key}) of creator {creator} has waited {_duration(waited)} for review "
        f"(the project allows {limit_hours:g} h); its upload is held until it is approved",
        iso(now),
        f"creator/{creator}",
        (("clip_id", clip_id), ("creator", creator), ("rendered_at", iso(rendered_at))),
        link=partition_url(ui, "uploads", clip_key),
        link_text="The clip's upload partition in Dagster",
        partition=clip_key,
    )


def sample_alert(project_id: str, at: datetime, ui: str) -> Alert:
    """What ``POST .../notifications/test`` sends: an alert of no event, never deduplicated."""
    return Alert(
        "run_failed",
        f"test:{project_id}:{iso(at)}",
        f"Test notification from Omniva for {project_id}: this channel is set up correctly",
        iso(at),
        "omniva/test",
        (("test", "true"),),
        link=ui.rstrip("/") or None,
        project_id=project_id,
    )


def _duration(delta: timedelta) -> str:
    s = int(abs(delta.total_seconds()))
    if s >= 2 * 86400:
        return f"{s // 86400} days"
    if s >= 3600:
        return f"{s // 3600} h"
    return f"{max(s // 60, 1)} min"


# ---------------------------------------------------------------- the payloads
def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each of ``secrets`` (and URL credentials) replaced by ``REDACTED``."""
    for s in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(s, MASK)
    return redact_text(text)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_payload(alert: Alert) -> dict[str, Any]:
    """An incoming webhook's message: ``text`` (the notification's fallback) and Block Kit
    ``blocks`` (a header, the summary, the details as fields, the link, a context line)."""
    head = f"Omniva {alert.severity}: {alert.title}"
    fields = [
        {"type": "mrkdwn", "text": _cut(f"*{k}*\n{v}", SLACK_FIELD_MAX)}
        for k, v in list(alert.detail_map().items())[:SLACK_FIELDS_MAX]
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(head, SLACK_HEADER_MAX)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _cut(alert.summary, SLACK_TEXT_MAX)}},
        {"type": "section", "fields": fields},
    ]
    if alert.link:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f"<{alert.link}|{alert.link_text}>"}}
        )
    context = f"{alert.project_id or 'farm'} · {alert.source} · {alert.occurred_at}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {"text": _cut(f"{head}: {alert.summary}", SLACK_TEXT_MAX), "blocks": blocks}


def pagerduty_payload(alert: Alert, routing_key: str) -> dict[str, Any]:
    """An Events API v2 ``trigger`` event. Its ``dedup_key`` is the project's and the event's,
    so PagerDuty too keeps one incident per event."""
    dedup = f"omniva:{alert.project_id or 'farm'}:{alert.dedup_key}"
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": _cut(dedup, PD_DEDUP_MAX),
        "payload": {
            "summary": _cut(alert.summary, PD_SUMMARY_MAX),
            "source": alert.source,
            "severity": alert.severity,
            "timestamp": alert.occurred_at,
            "component": alert.source,
            "group": alert.project_id or "farm",
            "class": alert.kind,
            "custom_details": alert.detail_map(),
        },
        "client": "Omniva",
        "links": [{"href": alert.link, "text": alert.link_text}] if alert.link else [],
    }
    return body


def email_text(alert: Alert) -> tuple[str, str]:
    """(subject, plain-text body) of the alert's e-mail."""
    subject = f"[Omniva {alert.severity}] {alert.project_id or 'farm'}: {alert.title}"
    lines = [alert.summary, ""]
    lines += [f"{k}: {v}" for k, v in alert.detail_map().items()]
    if alert.link:
        lines += ["", f"{alert.link_text}: {alert.link}"]
    lines += ["", "-- ", "Omniva notifications (docs/notifications.md)"]
    return _cut(subject, 200), "\n".join(lines) + "\n"


# ---------------------------------------------------------------- checks of the settings
def check_email(value: str) -> str:
    """An e-mail address (``local@domain.tld``); ValueError naming the problem otherwise."""
    value = value.strip()
    if not _EMAIL.match(value) or len(value) > 254:
        raise ValueError(f"{value[:80]!r} is not an e-mail address (local@domain.tld)")
    return value


def check_host(value: str) -> str:
    """An SMTP host: a DNS name or an IP address, no scheme, port or path."""
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value.strip("[]")))
    except ValueError:
        pass
    if not _HOST.match(value):
        raise ValueError(f"{value[:80]!r} is not a host name (e.g. smtp.example.org; no scheme or port)")
    return value


@dataclass(frozen=True, slots=True)
class Delivery:
    """What happened when one alert went to one channel (for the API's test answer and logs)."""

    channel: str
    delivered: bool
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
