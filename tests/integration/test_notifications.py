"""Notifications (#29) reach real local servers: an SMTP server (aiosmtpd) and an HTTP receiver
that plays Slack's incoming webhook and PagerDuty's Events API v2 endpoint.

A real Dagster run fails after its step retries in a temporary instance, a real quota ledger is
spent, a stage goes into crisis mode after real failed runs; the real ``notifications_sensor``
is evaluated twice and each alert arrives once per channel. The settings go through the API
(FastAPI's test client with real per-project keys): errors name the field, secrets never come
back, another project's key is refused. Receivers on loopback are allowed the documented way,
``OMNIVA_NOTIFY_ALLOW_LOOPBACK=1``.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from omniva.records import stable_id
from omniva.settings import Layout
from omniva_app.api.app import create_app
from omniva_app.api.keys import KeyStore
from omniva_assets.insights.notifications import notifications_sensor
from omniva_resources import creators, projects
from omniva_resources.resources import OmnivaStore, YouTubeResource
from omniva_resources.warehouse import Warehouse
from omniva_resources.youtube.quota import QuotaLedger
from tests.conftest import free_port

ROUTING_KEY = "R0uting0Key0Of0Alpha0123456789ab"
HOOK_PATH = "/services/T0ALPHA/B0HOOK/s3cretWebhookToken"
PASSWORD = "smtp-pa55word-alpha"
UI = "http://dagster.example:3000"
SEVERITIES = {"critical", "error", "warning", "info"}


# ------------------------------------------------------------------ the receivers
class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for rcpt, m in self.messages if address in rcpt]


@pytest.fixture
def smtp():
    box = _Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield box, controller.port
    finally:
        controller.stop()


class _Receiver(ThreadingHTTPServer):
    posts: list[tuple[str, dict]]


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.loads(raw)
        self.server.posts.append((self.path, body))
        if self.path.startswith("/echo-400"):  # a receiver that quotes what it got in its error
            self._answer(400, raw, "application/json")
        elif self.path.startswith("/pagerduty"):
            answer = {"status": "success", "message": "Event processed", "dedup_key": body.get("dedup_key")}
            self._answer(202, json.dumps(answer).encode(), "application/json")
        else:
            self._answer(200, b"ok", "text/plain")

    def _answer(self, status: int, data: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = _Receiver(("127.0.0.1", free_port()), _Hook)
    server.posts = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------ the farm and the API
@pytest.fixture
def farm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Projects alpha and beta, a creator each, their own channels; loopback receivers allowed."""
    for name in list(os.environ):
        if name.startswith(("OMNIVA_YOUTUBE_", "OMNIVA_NOTIFY", "OMNIVA_DAGSTER_UI")):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("OMNIVA_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.setenv("OMNIVA_NOTIFY_ALLOW_LOOPBACK", "1")
    monkeypatch.setenv("OMNIVA_DAGSTER_UI", UI)
    (tmp_path / "dagster").mkdir()
    lay = Layout(home)
    for name in ("alpha", "beta"):
        creators.add(lay, name, f"https://example.org/{name}.xml")
        projects.add_project(name, f"{name}-channel", lay=lay)
        projects.add_creator(name, name, lay)
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as inst:
        yield {"home": home, "lay": lay, "instance": inst}


@pytest.fixture
def client(farm):
    keys = KeyStore(farm["home"] / "api" / "keys.json")
    tokens = {name: keys.create(f"proj_{name}", name)[0] for name in ("alpha", "beta")}
    with TestClient(create_app()) as c:
        c.headers["Authorization"] = f"Bearer {tokens['alpha']}"
        yield c, {"Authorization": f"Bearer {tokens['beta']}"}


def _data(resp) -> dict:
    body = resp.json()
    assert resp.status_code == 200 and body["status"] == "success", body
    return body["data"]


def _error(resp, status: int, code: str) -> dict:
    body = resp.json()
    assert resp.status_code == status and body["error"]["code"] == code, body
    return body["error"]


def _settings(smtp_port: int, base: str, to: str = "ops@example.org") -> dict:
    return {
        "email": {"host": "127.0.0.1", "port": smtp_port, "from": "omniva@example.org", "to": [to],
                  "starttls": False},
        "slack": {"webhook_url": f"{base}/slack{HOOK_PATH}"},
        "pagerduty": {"routing_key": ROUTING_KEY, "endpoint": f"{base}/pagerduty/v2/enqueue"},
    }  # fmt: skip


def _tick(farm) -> None:
    """One evaluation of the real sensor with the code location's resources."""
    resources = {"store": OmnivaStore(home=str(farm["home"])), "youtube_api": YouTubeResource()}
    with dg.build_sensor_context(instance=farm["instance"], resources=resources) as ctx:
        result = notifications_sensor(ctx)
    assert isinstance(result, dg.SkipReason) and "failed" not in (result.skip_message or ""), result


# ------------------------------------------------------------------ the formats
def _check_slack(body: dict) -> None:
    """Slack's incoming webhook message: ``text`` and Block Kit ``blocks``."""
    assert isinstance(body["text"], str) and body["text"]
    kinds = [b["type"] for b in body["blocks"]]
    assert kinds[0] == "header" and body["blocks"][0]["text"]["type"] == "plain_text"
    assert len(body["blocks"][0]["text"]["text"]) <= 150
    assert set(kinds) <= {"header", "section", "context", "divider", "actions"}
    for block in body["blocks"]:
        if block["type"] == "section":
            assert "text" in block or "fields" in block
            for f in block.get("fields", []):
                assert f["type"] in ("mrkdwn", "plain_text") and len(f["text"]) <= 2000
            assert len(block.get("fields", [])) <= 10
        if block["type"] == "context":
            assert all(e["type"] in ("mrkdwn", "plain_text", "image") for e in block["elements"])


def _check_pagerduty(body: dict) -> None:
    """An Events API v2 trigger event."""
    assert body["routing_key"] == ROUTING_KEY
    assert body["event_action"] == "trigger"
    assert 0 < len(body["dedup_key"]) <= 255
    p = body["payload"]
    assert p["summary"] and len(p["summary"]) <= 1024
    assert p["source"] and p["severity"] in SEVERITIES
    datetime.fromisoformat(p["timestamp"].replace("Z", "+00:00"))
    assert isinstance(p["custom_details"], dict)
    assert all(set(link) == {"href", "text"} for link in body["links"])


def _posts(server, prefix: str) -> list[dict]:
    return [b for path, b in server.posts if path.startswith(prefix)]


# ------------------------------------------------------------------ a failure and a quota
def _failed_run(instance: dg.DagsterInstance) -> str:
    """A real run that fails after its step's retry (the source keeps answering 500)."""

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=1))
    def flaky_source() -> None:
        raise RuntimeError("the creator's site answered HTTP 500")

    result = dg.materialize([flaky_source], instance=instance, tags={"omniva/creator": "alpha"},
                            raise_on_error=False)  # fmt: skip
    assert not result.success
    retried = instance.get_records_for_run(result.run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY)
    assert len(retried.records) == 1  # it was retried once before the run failed
    return result.run_id


def _spend_quota(home: Path) -> None:
    """YouTube refuses the day's uploads: the insert bucket is spent, the channel hits its limit."""
    ledger = QuotaLedger(home / "youtube-quota" / "gcp-1234.json", "gcp-1234", channel="alpha-channel")
    ledger.charge("videos.insert")
    ledger.exhaust("quotaExceeded", "videos.insert")
    ledger.exhaust("uploadLimitExceeded")


def test_a_failed_run_and_a_spent_quota_reach_every_channel_once(farm, client, smtp, receiver):
    c, _ = client
    box, smtp_port = smtp
    server, base = receiver
    _data(c.put("/v1/projects/proj_alpha/notifications", json=_settings(smtp_port, base)))
    beta = {"email": {"host": "127.0.0.1", "port": smtp_port, "from": "omniva@example.org",
                      "to": ["beta@example.org"], "starttls": False}}  # fmt: skip
    _, beta_auth = client
    _data(c.put("/v1/projects/proj_beta/notifications", json=beta, headers=beta_auth))

    run_id = _failed_run(farm["instance"])
    _spend_quota(farm["home"])
    _tick(farm)
    _tick(farm)  # the same farm seen again: nothing new to say

    # e-mail: one per alert, to alpha's address only (the run and the channel are alpha's)
    mails = box.to("ops@example.org")
    subjects = sorted(m["Subject"] for m in mails)
    assert len(mails) == 3, subjects
    assert any("run failed" in s for s in subjects)
    assert any("quota exhausted" in s for s in subjects)
    assert any("upload limit" in s for s in subjects)
    assert box.to("beta@example.org") == []
    failure = next(m for m in mails if "run failed" in m["Subject"])
    text = failure.get_payload(decode=True).decode()
    assert f"{UI}/runs/{run_id}" in text and "answered HTTP 500" in text and "after its retries" in text
    assert failure["From"] == "omniva@example.org"

    # Slack: three messages in Block Kit; the run's carries its link
    slack = _posts(server, "/slack")
    assert len(slack) == 3
    for body in slack:
        _check_slack(body)
    run_msg = next(b for b in slack if "run failed" in b["text"])
    assert any(
        f"<{UI}/runs/{run_id}|" in (blk.get("text") or {}).get("text", "") for blk in run_msg["blocks"]
    )

    # PagerDuty: three trigger events, one dedup key each, the run's linked
    events = _posts(server, "/pagerduty")
    assert len(events) == 3
    for body in events:
        _check_pagerduty(body)
    assert len({e["dedup_key"] for e in events}) == 3
    run_event = next(e for e in events if e["payload"]["class"] == "run_failed")
    assert run_event["payload"]["severity"] == "error"
    assert run_event["payload"]["custom_details"]["run_id"] == run_id
    assert run_event["links"] == [{"href": f"{UI}/runs/{run_id}", "text": "Open in Dagster"}]
    quota = next(e for e in events if e["payload"]["class"] == "quota_exhausted")
    assert quota["payload"]["custom_details"]["bucket"] == "videos.insert"
    limit = next(e for e in events if e["payload"]["class"] == "upload_limit")
    assert limit["payload"]["custom_details"]["channel"] == "alpha-channel"

    # what the farm remembers names no secret
    sent = (farm["home"] / "notifications" / "sent.json").read_text()
    assert ROUTING_KEY not in sent and HOOK_PATH not in sent and PASSWORD not in sent


def test_a_stage_entering_and_leaving_crisis_is_told_once_each_and_its_failures_wait_for_eclipse(
    farm, client, smtp, receiver
):
    """Six real failed runs of ``clip_job``: the stage is in crisis mode (Zenith's rule); the runs
    themselves wait for Eclipse's verdict (it may retry them), so only the crisis is told."""
    c, _ = client
    box, smtp_port = smtp
    server, base = receiver
    _data(c.put("/v1/projects/proj_alpha/notifications", json=_settings(smtp_port, base)))

    @dg.op
    def render_clip() -> None:
        raise RuntimeError("ffmpeg exited with status 1")

    @dg.job(name="clip_job")
    def clip_job():
        render_clip()

    for _ in range(6):
        assert not clip_job.execute_in_process(instance=farm["instance"], raise_on_error=False).success
    _tick(farm)
    _tick(farm)
    subjects = [m["Subject"] for m in box.to("ops@example.org")]
    assert subjects == ["[Omniva critical] proj_alpha: crisis entered"], subjects
    (event,) = _posts(server, "/pagerduty")
    _check_pagerduty(event)
    assert event["payload"]["severity"] == "critical" and "clip_job" in event["payload"]["summary"]
    (slack,) = _posts(server, "/slack")
    _check_slack(slack)

    @dg.op
    def render_clip_again() -> None:
        pass

    @dg.job(name="clip_job")
    def clip_job_mended():
        render_clip_again()

    for _ in range(6):  # 4 of the last 10 failed: under Zenith's threshold
        assert clip_job_mended.execute_in_process(instance=farm["instance"]).success
    _tick(farm)
    _tick(farm)
    subjects = [m["Subject"] for m in box.to("ops@example.org")]
    assert subjects[1:] == ["[Omniva info] proj_alpha: crisis left"], subjects
    assert [e["payload"]["class"] for e in _posts(server, "/pagerduty")] == ["crisis_entered", "crisis_left"]


# ------------------------------------------------------------------ the API
def test_settings_errors_name_the_field_and_secrets_never_come_back(
    farm, client, smtp, receiver, monkeypatch
):
    c, beta = client
    box, smtp_port = smtp
    server, base = receiver
    url = "/v1/projects/proj_alpha/notifications"

    def refused(body: dict, field: str) -> None:
        error = _error(c.put(url, json=body), 400, "VALIDATION_ERROR")
        assert [d["field"] for d in error["details"]][:1] == [field], error
        assert field in error["message"]

    good = _settings(smtp_port, base)
    refused({**good, "email": {**good["email"], "to": ["not-an-address"]}}, "email.to.0")
    refused({**good, "email": {**good["email"], "from": "omniva at example"}}, "email.from")
    refused({**good, "email": {**good["email"], "host": "smtp://relay"}}, "email.host")
    refused({**good, "email": {**good["email"], "port": 70000}}, "email.port")
    refused({**good, "email": {**good["email"], "username": "u", "password": "p", "host": "smtp.example.org",
                               "starttls": False}}, "email.starttls")  # fmt: skip
    refused({**good, "slack": {}}, "slack.webhook_url")
    refused({**good, "slack": {"webhook_url": "ftp://hooks.example.org/x"}}, "slack.webhook_url")
    refused({**good, "slack": {"webhook_url": "https://10.1.2.3/hook"}}, "slack.webhook_url")
    refused({**good, "pagerduty": {"endpoint": good["pagerduty"]["endpoint"]}}, "pagerduty.routing_key")
    refused({**good, "events": ["run_failed", "sunspots"]}, "events.1")
    refused({**good, "review_wait_hours": 0}, "review_wait_hours")
    # loopback receivers only with the documented allowance
    monkeypatch.delenv("OMNIVA_NOTIFY_ALLOW_LOOPBACK")
    error = _error(c.put(url, json=good), 400, "VALIDATION_ERROR")
    assert error["details"][0]["field"] == "slack.webhook_url"
    assert "OMNIVA_NOTIFY_ALLOW_LOOPBACK" in error["message"] and HOOK_PATH not in json.dumps(error)
    monkeypatch.setenv("OMNIVA_NOTIFY_ALLOW_LOOPBACK", "1")

    good["email"] |= {"username": "omniva", "password": PASSWORD}  # a loopback relay: no STARTTLS needed
    saved = _data(c.put(url, json=good))
    shown = c.get(url)
    for answer in (json.dumps(saved), shown.text):
        assert PASSWORD not in answer and ROUTING_KEY not in answer and HOOK_PATH not in answer
    got = _data(shown)
    assert got["email"]["password"] == "REDACTED" and got["email"]["password_set"] is True
    assert got["slack"]["webhook_url"] == f"{base}/REDACTED" and got["slack"]["webhook_url_set"] is True
    assert got["pagerduty"]["routing_key"] == "REDACTED" and got["pagerduty"]["routing_key_set"] is True
    assert got["email"]["to"] == ["ops@example.org"] and got["events"] == got["event_kinds"]
    path = farm["home"] / "secrets" / "notifications" / "alpha.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    # what GET showed, sent back with a change: the secrets stay
    back = {k: got[k] for k in ("email", "slack", "pagerduty", "events")} | {"review_wait_hours": 6}
    for channel, extra in (("email", ("password_set",)), ("slack", ("webhook_url_set",)),
                           ("pagerduty", ("routing_key_set",))):  # fmt: skip
        for name in extra:
            back[channel].pop(name)
    assert _data(c.put(url, json=back))["review_wait_hours"] == 6
    stored = json.loads(path.read_text())["settings"]
    assert (
        stored["slack"]["webhook_url"].endswith(HOOK_PATH)
        and stored["pagerduty"]["routing_key"] == ROUTING_KEY
    )
    assert stored["email"]["password"] == PASSWORD
    # an empty secret clears it (the test relay takes no login)
    back["email"] |= {"username": None, "password": ""}
    assert _data(c.put(url, json=back))["email"]["password_set"] is False

    # the test alert reaches all three
    result = _data(c.post(f"{url}/test"))
    assert [(d["channel"], d["delivered"]) for d in result["deliveries"]] == [
        ("email", True), ("slack", True), ("pagerduty", True)
    ]  # fmt: skip
    (mail,) = box.to("ops@example.org")
    assert "Test notification" in mail.get_payload(decode=True).decode()
    _check_slack(_posts(server, "/slack")[0])
    _check_pagerduty(_posts(server, "/pagerduty")[0])

    # a receiver that quotes the request in its error: the routing key is masked in the answer
    echo = {**back, "pagerduty": {**back["pagerduty"], "endpoint": f"{base}/echo-400"}}
    _data(c.put(url, json=echo))
    (delivery,) = _data(c.post(f"{url}/test", json={"channels": ["pagerduty"]}))["deliveries"]
    assert delivery["delivered"] is False and "HTTP 400" in delivery["error"]
    assert ROUTING_KEY not in delivery["error"] and "REDACTED" in delivery["error"]

    # another project's key: refused, and nothing of alpha's shown
    for method, path_, body in (("get", url, None), ("put", url, good), ("post", f"{url}/test", None)):
        resp = getattr(c, method)(path_, headers=beta, **({"json": body} if body else {}))
        _error(resp, 403, "FORBIDDEN")
        assert "ops@example.org" not in resp.text
    # the audit trail holds the changes, and no secret
    logs = Warehouse(farm["home"] / "warehouse", farm["home"] / "omniva.duckdb").query(
        "SELECT message, CAST(metadata AS VARCHAR) AS m FROM logs WHERE source = 'api'"
    )
    said = json.dumps(logs, default=str)
    assert "notifications of proj_alpha set" in said
    assert PASSWORD not in said and ROUTING_KEY not in said and HOOK_PATH not in said


def test_a_project_without_channels_has_nothing_to_test(client):
    c, _ = client
    got = _data(c.get("/v1/projects/proj_alpha/notifications"))
    assert got["email"] is None and got["slack"] is None and got["pagerduty"] is None
    _error(c.post("/v1/projects/proj_alpha/notifications/test"), 409, "NO_CHANNELS")
    _error(c.get("/v1/projects/proj_nobody/notifications"), 403, "FORBIDDEN")


# ------------------------------------------------------------------ review and tokens
def _seed_rendered_clip(home: Path, video: str, creator: str, rank: int, rendered_at: str) -> str:
    wh = Warehouse(home / "warehouse", home / "omniva.duckdb")
    uid, clip_id = stable_id("video", video), stable_id("clip", video, rank)
    wh.write_partition("videos", video, [{
        "video_id": uid, "post_id": uid, "video_key": video, "creator": creator, "source_url": "u",
        "file_path": "f", "duration_seconds": 300.0, "checksum": "c", "created_at": rendered_at,
    }])  # fmt: skip
    key = f"{rank}|{video}"
    wh.write_partition("clips", key, [{
        "clip_id": clip_id, "video_id": uid, "video_key": video, "rank": rank,
        "candidate_id": stable_id("candidate", video, rank), "start_time": 10.0, "end_time": 30.0,
        "lattice_priority": 0.9,
    }])  # fmt: skip
    wh.write_partition("renders", key, [{
        "clip_id": clip_id, "file_path": "r.mp4", "checksum": "x", "size_bytes": 1, "duration_seconds": 20.0,
        "resolution": "1080x1920", "video_codec": "h264", "audio_codec": "aac", "encoder": "libx264",
        "created_at": rendered_at,
    }])  # fmt: skip
    return clip_id


def test_a_clip_waiting_for_review_and_an_expiring_token_are_told_once(farm, client, smtp):
    c, _ = client
    box, smtp_port = smtp
    email = {"host": "127.0.0.1", "port": smtp_port, "from": "omniva@example.org", "to": ["ops@example.org"],
             "starttls": False}  # fmt: skip
    body = {
        "email": email,
        "events": ["review_waiting", "token_expiring", "token_revoked"],
        "review_wait_hours": 12,
    }
    _data(c.put("/v1/projects/proj_alpha/notifications", json=body))
    projects.set_review("alpha", "required", farm["lay"])
    now = datetime.now(UTC)
    old = stable_iso(now - timedelta(hours=30))
    waiting = _seed_rendered_clip(farm["home"], "alpha-video-0001", "alpha", 1, old)
    _seed_rendered_clip(farm["home"], "alpha-video-0002", "alpha", 1, stable_iso(now - timedelta(hours=2)))
    reviewed = _seed_rendered_clip(farm["home"], "alpha-video-0003", "alpha", 1, old)
    OmnivaStore(home=str(farm["home"])).record_review(reviewed, "1|alpha-video-0003", "approve", None, "k")
    # the channel's token: its refresh token ends in two days (an app in Google's testing mode)
    tokens = farm["home"] / "secrets" / "youtube"
    tokens.mkdir(parents=True)
    (tokens / "alpha-channel.json").write_text(json.dumps({
        "type": "authorized_user", "token": "at", "refresh_token": "rt", "client_id": "1-x", "client_secret": "s",
        "expiry": stable_iso(now + timedelta(minutes=50)),
        "omniva": {"channel": "alpha-channel", "refresh_expires_at": stable_iso(now + timedelta(days=2))},
    }))  # fmt: skip
    _tick(farm)
    _tick(farm)
    mails = box.to("ops@example.org")
    assert sorted(m["Subject"] for m in mails) == [
        "[Omniva warning] proj_alpha: review waiting",
        "[Omniva warning] proj_alpha: token expiring",
    ]
    review = next(m for m in mails if "review" in m["Subject"]).get_payload(decode=True).decode()
    assert waiting in review and "1|alpha-video-0001" in review and "12 h" in review
    token = next(m for m in mails if "token" in m["Subject"]).get_payload(decode=True).decode()
    assert "alpha-channel" in token and "expires in" in token and '"rt"' not in token

    # revoked: a new alert (the expiring one is not sent again)
    data = json.loads((tokens / "alpha-channel.json").read_text())
    data["omniva"]["revoked_at"] = stable_iso(now)
    (tokens / "alpha-channel.json").write_text(json.dumps(data))
    _tick(farm)
    assert [m["Subject"] for m in box.to("ops@example.org")][2:] == [
        "[Omniva critical] proj_alpha: token revoked"
    ]


def stable_iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
