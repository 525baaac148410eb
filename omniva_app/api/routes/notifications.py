"""A project's notifications (#29): e-mail, a Slack-compatible webhook and PagerDuty, which events
they carry, and a test alert. The settings live in the secrets folder (``omniva_resources.notify``);
every answer shows them redacted. The sensor ``notifications_sensor`` sends the alerts.

``PUT`` replaces the settings; a secret left out, ``null`` or ``"REDACTED"`` (as ``GET`` shows it)
keeps the stored one, so the dashboard can send back what it read. A channel set to ``null`` is
removed. Errors name the field (``email.to.0``, ``slack.webhook_url``). See docs/notifications.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field

from omniva import alerts
from omniva.alerts import KINDS, Kind
from omniva.settings import notify_allow_loopback
from omniva_app.api.context import ctx_of, key_of
from omniva_app.api.envelope import ApiError
from omniva_app.api.routes.actions import audit
from omniva_app.api.routes.common import ok, project_of
from omniva_app.api.schemas import Envelope, Strict
from omniva_resources import notify
from omniva_resources.notify import EmailSettings, NotificationSettings, PagerDutySettings, SlackSettings

router = APIRouter()

Channel = Literal["email", "slack", "pagerduty"]


class NotificationsRequest(Strict):
    email: EmailSettings | None = None
    slack: SlackSettings | None = None
    pagerduty: PagerDutySettings | None = None
    events: list[Kind] = Field(default_factory=lambda: list(KINDS), max_length=len(KINDS))
    review_wait_hours: float = Field(default=24.0, gt=0, le=24 * 30)


class TestRequest(Strict):
    channels: list[Channel] | None = Field(default=None, description="default: every channel that is on")


# The answers (``data`` of the envelope), for the OpenAPI document.
class Notifications(BaseModel):
    project_id: str
    email: dict[str, Any] | None = Field(description="host, port, from, to, starttls, username, "
                                         "password (REDACTED), password_set, enabled")  # fmt: skip
    slack: dict[str, Any] | None = Field(
        description="webhook_url (scheme://host/REDACTED), webhook_url_set, enabled"
    )
    pagerduty: dict[str, Any] | None = Field(
        description="routing_key (REDACTED), routing_key_set, endpoint, enabled"
    )
    events: list[Kind]
    review_wait_hours: float
    event_kinds: list[Kind] = Field(description="every kind of event there is")
    updated_at: str | None
    updated_by: str | None


class TestDelivery(BaseModel):
    channel: Channel
    delivered: bool
    error: str | None


class TestAnswer(BaseModel):
    project_id: str
    deliveries: list[TestDelivery]


class NotificationsEnvelope(Envelope):
    data: Notifications


class TestEnvelope(Envelope):
    data: TestAnswer


def _store(request: Request) -> notify.NotificationStore:
    return notify.NotificationStore(ctx_of(request).layout.home)


def _view(project_id: str, s: NotificationSettings, meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "project_id": project_id,
        **notify.redacted(s),
        "event_kinds": list(KINDS),
        "updated_at": meta.get("updated_at"),
        "updated_by": meta.get("updated_by"),
    }


def _refusal(exc: notify.SettingsError) -> ApiError:
    return ApiError(
        400, "VALIDATION_ERROR", f"invalid request: {exc}", [{"field": exc.field, "problem": exc.problem}]
    )


@router.get("/projects/{project_id}/notifications", response_model=NotificationsEnvelope)
def get_notifications(request: Request, project_id: str):
    """The project's notification channels and events, secrets redacted (defaults when none are
    set: no channel, every event, 24 h for a clip waiting for review)."""
    project_of(request, project_id)
    store = _store(request)
    s = store.load(project_id) or NotificationSettings()
    return ok(request, _view(project_id, s, store.meta(project_id)))


@router.put("/projects/{project_id}/notifications", response_model=NotificationsEnvelope)
def put_notifications(request: Request, project_id: str, body: NotificationsRequest):
    """Replace the project's notification settings (secrets kept when left out or REDACTED)."""
    project_of(request, project_id)
    store = _store(request)
    new = NotificationSettings.model_validate(body.model_dump(exclude={"schema_version"}, by_alias=True))
    try:
        s = notify.check_complete(notify.merged(new, store.load(project_id)), notify_allow_loopback())
    except notify.SettingsError as exc:
        raise _refusal(exc) from None
    store.save(project_id, s, key_of(request).key_id)
    audit(
        ctx_of(request),
        request,
        f"notifications of {project_id} set: {', '.join(s.channels()) or 'no channel'}",
        project_id=project_id,
        channels=s.channels(),
        events=list(s.events),
    )
    return ok(request, _view(project_id, s, store.meta(project_id)))


@router.post("/projects/{project_id}/notifications/test", response_model=TestEnvelope)
def test_notifications(request: Request, project_id: str, body: Annotated[TestRequest | None, Body()] = None):
    """Send a test alert to the project's channels (all that are on, or those named) now; each
    channel's outcome, errors redacted. Not recorded as sent: real alerts still go out."""
    project_of(request, project_id)
    s = _store(request).load(project_id)
    wanted = (body.channels if body and body.channels else None) or (s.channels() if s else [])
    if s is None or not wanted:
        raise ApiError(409, "NO_CHANNELS", f"{project_id} has no notification channel to test; PUT one first")
    alert = alerts.sample_alert(project_id, datetime.now(UTC), ctx_of(request).ui_url)
    out = []
    for channel in dict.fromkeys(wanted):
        d = notify.send(channel, s, alert, notify_allow_loopback())
        out.append({"channel": channel, "delivered": d.delivered, "error": d.error})
    audit(
        ctx_of(request),
        request,
        f"test notification of {project_id}: "
        + ", ".join(f"{d['channel']} {'delivered' if d['delivered'] else 'failed'}" for d in out),
        project_id=project_id,
    )
    return ok(request, {"project_id": project_id, "deliveries": out})
