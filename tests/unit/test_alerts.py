"""The pure side of notifications (#29): which facts raise an alert, its key, and the payloads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omniva import alerts
from omniva.alerts import TokenFacts

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
UI = "http://dagster.example:3000/"


def test_a_failed_run_is_keyed_by_its_run_and_links_its_page():
    a = alerts.run_failed(
        "r-1", "clip_job", "1|alice-0001", "ffmpeg failed at https://u:pw@x.org/a?token=t", NOW, UI
    )
    assert a.dedup_key == "run-failed:r-1" and a.severity == "error"
    assert a.link == "http://dagster.example:3000/runs/r-1"
    assert "pw" not in a.summary and "token=t" not in a.summary  # credentials in messages are redacted


def test_crisis_changes_name_entering_and_leaving_only():
    before = {"clip_job": None, "upload_job": "crisis mode: 70%"}
    now = {"clip_job": "crisis mode: 60%", "upload_job": None, "video_job": None}
    assert alerts.crisis_changes(before, now) == [
        ("clip_job", True, "crisis mode: 60%"),
        ("upload_job", False, "crisis mode: 70%"),
    ]
    assert alerts.crisis_changes(now, now) == []
    entered = alerts.crisis_changed("clip_job", True, "crisis mode: 60%", 2, NOW, UI)
    left = alerts.crisis_changed("clip_job", False, "crisis mode: 60%", 2, NOW, UI)
    assert entered.dedup_key != left.dedup_key and entered.severity == "critical" and left.severity == "info"
    assert entered.dedup_key != alerts.crisis_changed("clip_job", True, "x", 3, NOW, UI).dedup_key


def _status(**today) -> dict:
    buckets = [
        {
            "bucket": "videos.insert",
            "unit": "calls",
            "used": 3,
            "limit": 100,
            "remaining": 97,
            "exhausted": None,
        },
        {
            "bucket": "shared",
            "unit": "units",
            "used": 10_000,
            "limit": 10_000,
            "remaining": 0,
            "exhausted": None,
        },
    ]
    base = {"project": "gcp-1", "day": "2026-12-07", "resets_at": "2026-12-08T08:00:00Z", "buckets": buckets}
    return base | today


def test_quota_alerts_come_from_a_spent_bucket_and_a_paused_channel_once_a_day():
    found = alerts.quota_alerts(_status(channels={"main": {"uploads": 7, "paused": "uploadLimitExceeded"}}))
    assert [(a.kind, a.dedup_key) for a in found] == [
        ("quota_exhausted", "quota:gcp-1:2026-12-07:shared"),
        ("upload_limit", "upload-limit:main:2026-12-07"),
    ]
    whole = alerts.quota_alerts(_status(exhausted="quotaExceeded"))
    assert [a.dedup_key.rsplit(":", 1)[1] for a in whole] == ["videos.insert", "shared"]


@pytest.mark.parametrize(
    ("facts", "kind"),
    [
        (TokenFacts("c", refresh_expires_at="2026-12-09T12:00:00Z"), "token_expiring"),
        (TokenFacts("c", refresh_expires_at="2026-12-20T12:00:00Z"), None),
        (TokenFacts("c", expiry="2026-12-07T13:00:00Z"), None),  # an access token refreshes itself
        (TokenFacts("c", expiry="2026-12-07T13:00:00Z", has_refresh_token=False), "token_expiring"),
        (TokenFacts("c", refresh_expires_at="2026-12-01T00:00:00Z"), "token_expiring"),  # already expired
        (TokenFacts("c", revoked_at="2026-12-07T11:00:00Z"), "token_revoked"),
    ],
)
def test_a_token_is_worth_an_alert_when_revoked_or_ending_within_three_days(facts, kind):
    a = alerts.token_alert(facts, NOW)
    assert (a.kind if a else None) == kind


def test_a_clip_waits_for_review_past_the_projects_limit_only():
    assert alerts.review_waiting("id", "1|v", "alice", NOW - timedelta(hours=5), NOW, 6, UI) is None
    a = alerts.review_waiting("id", "1|v", "alice", NOW - timedelta(hours=7), NOW, 6, UI)
    assert a is not None and a.partition == "1|v" and "%7C" in (a.link or "")


def test_payloads_keep_to_their_documented_limits():
    a = alerts.run_failed("r", "j", None, "x" * 5000, NOW, UI).for_project("proj_alpha")
    a = alerts.Alert(a.kind, "k" * 400, "s" * 5000, a.occurred_at, a.source, a.details, a.link, run_id="r")
    pd = alerts.pagerduty_payload(a, "KEY")
    assert pd["event_action"] == "trigger" and len(pd["dedup_key"]) <= 255
    assert len(pd["payload"]["summary"]) <= 1024 and pd["payload"]["severity"] == "error"
    assert pd["links"] == [{"href": "http://dagster.example:3000/runs/r", "text": "Open in Dagster"}]
    slack = alerts.slack_payload(a)
    assert len(slack["text"]) <= 3000 and slack["blocks"][0]["type"] == "header"
    assert all(len(f["text"]) <= 2000 for b in slack["blocks"] for f in b.get("fields", []))
    subject, body = alerts.email_text(a)
    assert "run failed" in subject and "http://dagster.example:3000/runs/r" in body


def test_mask_hides_the_secrets_it_is_given():
    assert (
        alerts.mask("HTTP 400: {'routing_key': 'R0UT1NGKEY'}", ["R0UT1NGKEY"])
        == "HTTP 400: {'routing_key': 'REDACTED'}"
    )


@pytest.mark.parametrize("bad", ["", "a", "a@b", "a b@c.org", "a@b..org", "@c.org"])
def test_bad_addresses_are_refused(bad):
    with pytest.raises(ValueError, match="not an e-mail address"):
        alerts.check_email(bad)
