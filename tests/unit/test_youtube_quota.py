"""YouTube's quota buckets (#27): the cost table, the per-project ledger, and how the publish
plan lets the cadence decide while the buckets and a channel's upload limit only bound it."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from cognitive_sensors import eclipse
from cognitive_sensors.horizon import PlanRules, ReadyClip, plan_publish
from omniva.errors import ConfigError
from omniva_assets.scheduler.assets import plan_rules
from omniva_resources.resources import PublishRules, YouTubeResource, resources_from_env
from omniva_resources.youtube import QUOTA_CHECKED, QUOTA_SOURCE, QUOTA_TABLE, QuotaExceededError
from omniva_resources.youtube.quota import QuotaLedger, QuotaModel, publication_units

NOW = dt.datetime(2030, 1, 1, 10, 0, tzinfo=dt.UTC)  # 02:00 Pacific
TEN_SLOTS = ",".join(f"{h:02d}:00" for h in range(12, 22))  # 04:00-13:00 Pacific: one quota day


def _clips(n: int = 30, channel: str = "main") -> list[ReadyClip]:
    return [ReadyClip(f"c{i}", f"{i + 1}|video", channel, 1.0 - i / 100) for i in range(n)]


def _days(plan) -> dict[str, int]:
    return dict(sorted(Counter(s.publish_at[:10] for s in plan.slots).items()))


# ------------------------------------------------------------------ the table
def test_one_cost_table_with_its_source_and_date():
    assert QUOTA_SOURCE == "https://developers.google.com/youtube/v3/determine_quota_cost"
    assert QUOTA_CHECKED == "2026-12"
    assert QUOTA_TABLE["videos.insert"] == ("videos.insert", 1)
    assert QUOTA_TABLE["search.list"] == ("search.list", 1)
    assert QUOTA_TABLE["captions.insert"] == ("shared", 400)
    assert QUOTA_TABLE["thumbnails.set"] == QUOTA_TABLE["playlistItems.insert"] == ("shared", 50)
    assert QUOTA_TABLE["videos.list"] == QUOTA_TABLE["channels.list"] == ("shared", 1)
    buckets = QuotaModel.of()
    assert dict(buckets.limits) == {"videos.insert": 100, "search.list": 100, "shared": 10_000}
    legacy = QuotaModel.of("legacy")
    assert legacy.cost("videos.insert") == ("shared", 1600) and dict(legacy.limits) == {"shared": 10_000}
    with pytest.raises(ConfigError, match="buckets, legacy"):
        QuotaModel.of("fast")


def test_how_many_publications_a_day_each_model_holds():
    need = publication_units(None, QuotaModel.of(), thumbnail=True, lookup=True)
    assert need == {"videos.insert": 1, "shared": 59}
    assert QuotaModel.of().publications_per_day(need) == (100, "videos.insert")
    legacy = QuotaModel.of("legacy")
    assert legacy.publications_per_day(publication_units(None, legacy, thumbnail=True, lookup=True)) == (
        6,
        "shared",
    )
    # A quota extension raises the bucket; captions on every upload make the pool the limit.
    ext = QuotaModel.of(insert_calls=1000)
    need = publication_units(None, ext, thumbnail=True, captions=True, lookup=True)
    assert ext.publications_per_day(need) == (10_000 // 459, "shared")


def test_settings_select_the_model_and_limits():
    api = resources_from_env(
        {
            "OMNIVA_YOUTUBE_QUOTA_MODEL": "legacy",
            "OMNIVA_YOUTUBE_DAILY_QUOTA_UNITS": "20000",
            "OMNIVA_YOUTUBE_INSERT_CALLS": "300",
            "OMNIVA_YOUTUBE_CHANNEL_DAILY_UPLOADS": "15",
        }
    )["youtube_api"]
    assert api.quota_model == "legacy" and api.quota_model_in_effect() == QuotaModel.legacy(20_000)
    assert api.channel_daily_uploads == 15
    ext = YouTubeResource(insert_calls_per_day=300, search_calls_per_day=5).quota_model_in_effect()
    assert dict(ext.limits) == {"videos.insert": 300, "search.list": 5, "shared": 10_000}


# ------------------------------------------------------------------ the ledger
def test_ledger_counts_each_bucket_and_exhausts_only_the_one_answered(tmp_path):
    clock = [NOW]
    ledger = QuotaLedger(
        tmp_path / "p.json", "p", clock=lambda: clock[0], model=QuotaModel.of(insert_calls=2)
    )
    ledger.charge("videos.insert")
    ledger.charge("thumbnails.set")
    ledger.charge("videos.insert")
    with pytest.raises(QuotaExceededError, match="videos.insert bucket") as info:
        ledger.ensure({"videos.insert": 1, "shared": 50}, "publishing x")
    assert info.value.reason == "dailyBudget"
    ledger.charge("videos.list")  # the shared pool is another bucket
    st = ledger.status()
    buckets = {b["bucket"]: b for b in st["buckets"]}
    assert buckets["videos.insert"]["used"] == 2 and buckets["videos.insert"]["remaining"] == 0
    assert buckets["shared"]["used"] == 51 and st["used"] == 51 and st["model"] == "buckets"
    assert buckets["shared"]["resets_at"] == "2030-01-02T08:00:00Z"  # midnight Pacific
    # YouTube says the pool is spent (during a thumbnail): inserts are still allowed.
    other = QuotaLedger(tmp_path / "q.json", "q", clock=lambda: clock[0])
    other.exhaust("quotaExceeded", "thumbnails.set")
    other.ensure({"videos.insert": 1}, "insert only")
    with pytest.raises(QuotaExceededError, match="answered quotaExceeded earlier today for the shared pool"):
        other.ensure({"shared": 1}, "a read")
    # A new Pacific day: everything back.
    clock[0] = NOW + dt.timedelta(days=1)
    ledger.ensure({"videos.insert": 1, "shared": 50}, "publishing x")
    # The file says which model it was written under (the CLI reads it back).
    assert QuotaLedger.from_file(tmp_path / "p.json").model == ledger.model


def test_upload_limit_pauses_one_channel_until_its_next_day(tmp_path):
    clock = [NOW]
    a = QuotaLedger(tmp_path / "p.json", "p", clock=lambda: clock[0], channel="alpha")
    b = QuotaLedger(tmp_path / "p.json", "p", clock=lambda: clock[0], channel="beta")
    a.charge("videos.insert")
    a.exhaust("uploadLimitExceeded", "videos.insert")
    with pytest.raises(
        QuotaExceededError, match="channel alpha reached YouTube's daily upload limit"
    ) as info:
        a.ensure({"videos.insert": 1}, "publishing")
    assert info.value.reason == "uploadLimitExceeded"
    assert info.value.resets_at == dt.datetime(2030, 1, 2, 8, 0, tzinfo=dt.UTC)
    a.charge("videos.list")  # reads and extras on videos already up are not uploads
    b.ensure({"videos.insert": 1}, "publishing")  # the other channel keeps publishing
    b.charge("videos.insert")
    st = b.status()
    assert st["channels"]["alpha"]["paused"] == "uploadLimitExceeded"
    assert st["channels"]["beta"] == {"uploads": 1, "paused": None, "resets_at": "2030-01-02T08:00:00Z"}
    assert st["exhausted"] is None
    clock[0] = NOW + dt.timedelta(days=1)
    a.ensure({"videos.insert": 1}, "publishing")


def test_eclipse_defers_an_upload_limit_and_never_quarantines():
    message = "YouTube uploadLimitExceeded during videos.insert: The user has exceeded the number..."
    assert eclipse.classify("QuotaExceededError", message) == eclipse.QUOTA
    for failures in (1, 5, 50):
        verdict = eclipse.decide(eclipse.QUOTA, failures, NOW, message=message)
        assert verdict.action == "defer" and verdict.defer_until == "2030-01-02T08:00:00Z"
        assert "channel is paused until its next day" in verdict.reason
    assert "quota exhausted" in eclipse.decide(eclipse.QUOTA, 1, NOW, message="quotaExceeded").reason


# ------------------------------------------------------------------ the plan
def test_cadence_of_ten_fills_three_days_under_the_buckets():
    rules = plan_rules(PublishRules(daily_quota=10, slot_times_utc=TEN_SLOTS, plan_days=3), YouTubeResource())
    assert rules.project_daily_uploads == 100 and "videos.insert bucket" in rules.project_limit
    plan = plan_publish(_clips(30), [], NOW, rules)
    assert _days(plan) == {"2030-01-01": 10, "2030-01-02": 10, "2030-01-03": 10}
    assert plan.deferred == ()
    assert not any("moved past" in s.reason for s in plan.slots)  # the cadence decided


def test_legacy_model_holds_six_a_day_and_says_why_the_rest_wait():
    api = YouTubeResource(quota_model="legacy")
    rules = plan_rules(PublishRules(daily_quota=10, slot_times_utc=TEN_SLOTS, plan_days=3), api)
    assert rules.project_daily_uploads == 6
    plan = plan_publish(_clips(30), [], NOW, rules)
    assert _days(plan) == {"2030-01-01": 6, "2030-01-02": 6, "2030-01-03": 6}
    assert len(plan.deferred) == 12
    for _, why in plan.deferred:
        assert "no free slot within 3 days" in why
        assert "legacy model, videos.insert 1,600" in why and "6 publication(s) a day" in why
    # The best-ranked clips go first; a clip pushed off a full day says which limit moved it.
    assert {s.clip_key for s in plan.slots} == {f"{i}|video" for i in range(1, 19)}
    assert any("moved past quota the project's 10,000-unit pool" in s.reason for s in plan.slots)
    # With a longer window the rest are planned on later days instead.
    longer = plan_publish(_clips(30), [], NOW, PlanRules(**{**_fields(rules), "horizon_days": 60}))
    assert longer.deferred == () and set(_days(longer).values()) == {6}


def test_a_channel_limit_bounds_that_channel_only():
    rules = plan_rules(
        PublishRules(daily_quota=10, slot_times_utc=TEN_SLOTS, plan_days=2),
        YouTubeResource(channel_daily_uploads=4),
    )
    plan = plan_publish(_clips(10, "alpha") + _clips(10, "beta"), [], NOW, rules)
    per = Counter((s.channel, s.publish_at[:10]) for s in plan.slots)
    assert set(per.values()) == {4} and len(per) == 4  # 4 a day on each channel, two days
    assert len(plan.deferred) == 4
    assert all(
        "channel alpha's daily upload limit (4)" in why or "channel beta's" in why for _, why in plan.deferred
    )


def _fields(rules: PlanRules) -> dict:
    return {f: getattr(rules, f) for f in PlanRules.__dataclass_fields__}


def test_slot_times_are_read_in_the_projects_time_zone():
    rules = plan_rules(
        PublishRules(daily_quota=2, slot_times_utc="09:00,18:00", plan_days=2, time_zone="Europe/Berlin"),
        YouTubeResource(),
    )
    plan = plan_publish(_clips(4), [], dt.datetime(2030, 1, 1, 0, 0, tzinfo=dt.UTC), rules)
    # 09:00 and 18:00 in Berlin (UTC+1 in January), two a day.
    assert [s.publish_at for s in plan.slots] == [
        "2030-01-01T08:00:00Z",
        "2030-01-01T17:00:00Z",
        "2030-01-02T08:00:00Z",
        "2030-01-02T17:00:00Z",
    ]
    from cognitive_sensors.horizon import double_booked

    assert double_booked(plan, rules.time_zone) == []
    with pytest.raises(ConfigError, match="OMNIVA_SLOT_TIME_ZONE 'Mars/Base'"):
        plan_rules(PublishRules(time_zone="Mars/Base"), YouTubeResource())
