"""A project's settings (#29): read with the value in force and its source, changed through the
API (every bad field named, all or nothing), audited with before and after, and followed by the
next run: the publish plan places the project's clips at its own cadence, slots and time zone
while another project keeps the deployment's; the daily schedule lists the project's scraping
window; a key of another project is refused.

Real assets on a real Dagster instance over the seeded working folder of
``test_review_workflow`` (projects alpha with four rendered clips and beta with one).
"""

from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from fastapi.testclient import TestClient

from omniva_app.api.app import create_app
from omniva_app.api.keys import KeyStore
from omniva_assets.partitions import creators_partitions, post_key
from omniva_assets.policy import LaunchPolicy
from omniva_assets.scraper.sensors import daily_posts_schedule
from omniva_resources import projects
from omniva_resources.resources import OmnivaStore, resources_from_env
from omniva_resources.warehouse import Warehouse
from tests.integration.test_review_workflow import ALPHA, BETA, _plan, farm  # noqa: F401 - the fixture

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def api(farm):  # noqa: F811 - the imported fixture
    projects.set_review("alpha", "auto", farm["lay"])
    keys = KeyStore(farm["home"] / "api" / "keys.json")
    tokens = {name: keys.create(f"proj_{name}", name)[0] for name in ("alpha", "beta")}
    with TestClient(create_app()) as c:
        c.headers["Authorization"] = f"Bearer {tokens['alpha']}"
        yield c, {"Authorization": f"Bearer {tokens['beta']}"}, tokens["alpha"].split("_")[1]


def _data(resp) -> dict:
    body = resp.json()
    assert resp.status_code == 200 and body["status"] == "success", body
    return body["data"]


def _by_name(view: dict) -> dict:
    return {s["name"]: s for s in view["settings"]}


def test_settings_are_checked_audited_and_the_next_plan_follows_them(farm, api):  # noqa: F811
    c, beta, key_id = api
    before = _by_name(_data(c.get("/v1/projects/proj_alpha/settings")))
    assert before["daily_clips"]["value"] == 5 and before["daily_clips"]["source"] == "goals"
    assert before["time_zone"] == {**before["time_zone"], "value": "UTC", "source": "default"}
    assert before["review"]["value"] == "auto"

    # every bad field is named; nothing is kept
    resp = c.put(
        "/v1/projects/proj_alpha/settings",
        json={"daily_clips": 11, "time_zone": "Mars/Olympus", "slot_times": ["25:00"], "colour": "red"},
    )
    body = resp.json()
    assert resp.status_code == 400 and body["error"]["code"] == "VALIDATION_ERROR", body
    named = {d["field"] for d in body["error"]["details"]}
    assert named == {"daily_clips", "time_zone", "slot_times", "colour"}, body
    assert "from 1 to 10" in body["error"]["message"] and "Mars/Olympus" in body["error"]["message"]
    resp = c.put("/v1/projects/proj_alpha/settings", json={"clip_min_s": 50, "clip_max_s": 20})
    assert resp.status_code == 400 and resp.json()["error"]["details"][0]["field"] == "clip_min_s"
    assert projects.own_settings("alpha", farm["lay"]) == {"review": "auto"}

    # a good change: in force at once, from the project
    changed = _data(
        c.put(
            "/v1/projects/proj_alpha/settings",
            json={"daily_clips": 2, "slot_times": ["12:00", "09:00"], "time_zone": "Europe/Berlin"},
        )
    )
    assert changed["changed"] == {
        "daily_clips": {"before": 5, "after": 2},
        "slot_times": {"before": ["14:00", "16:00", "18:00", "20:00", "22:00"], "after": ["09:00", "12:00"]},
        "time_zone": {"before": "UTC", "after": "Europe/Berlin"},
    }
    now = _by_name(changed)
    assert now["daily_clips"]["source"] == "project" and now["slot_times"]["value"] == ["09:00", "12:00"]

    # the audit log: who, when, before and after
    [entry] = _data(c.get("/v1/projects/proj_alpha/settings/history"))["items"]
    assert entry["key_id"] == key_id and entry["at"]
    assert entry["changes"]["daily_clips"] == {"before": 5, "after": 2}

    # the next plan: alpha's clips at two a Berlin day, at 09:00 and 12:00 Berlin time; beta
    # (no settings of its own) keeps the deployment's slots in UTC
    plan = _plan(farm["home"])
    berlin = ZoneInfo("Europe/Berlin")
    alpha = [s for s in plan.slots if s.clip_key.endswith(ALPHA)]
    assert len(alpha) == 4
    local = [datetime.fromisoformat(s.publish_at.replace("Z", "+00:00")).astimezone(berlin) for s in alpha]
    assert {t.strftime("%H:%M") for t in local} <= {"09:00", "12:00"}
    assert max(Counter(t.date() for t in local).values()) <= 2
    [b] = [s for s in plan.slots if s.clip_key.endswith(BETA)]
    assert datetime.fromisoformat(b.publish_at.replace("Z", "+00:00")).astimezone(UTC).strftime("%H:%M") in (
        "14:00",
        "16:00",
        "18:00",
        "20:00",
        "22:00",
    )
    # ... and its Stardust packet records the settings in force for each channel
    wh = Warehouse(farm["home"] / "warehouse", farm["home"] / "omniva.duckdb")
    [packet] = wh.query(
        "SELECT lineage, decision_chain FROM stardust_metadata WHERE asset_key = 'publish_plan'"
    )
    assert '"alpha-channel"' in str(packet) and "Europe/Berlin" in str(packet), packet

    # the calendar offers the project's own slots, and a move to one of them is taken
    cal = _data(c.get("/v1/projects/proj_alpha/calendar"))
    assert cal["free_slots"]
    free_local = {
        datetime.fromisoformat(f.replace("Z", "+00:00")).astimezone(berlin).strftime("%H:%M")
        for f in cal["free_slots"]
    }
    assert free_local <= {"09:00", "12:00"}, cal["free_slots"]
    clip = next(s["clip_id"] for s in cal["slots"] if s["partition"].endswith(ALPHA))
    moved = _data(
        c.post(
            "/v1/projects/proj_alpha/calendar/move",
            json={"clip_id": clip, "publish_at": cal["free_slots"][-1]},
        )
    )
    assert moved["publish_at"] == cal["free_slots"][-1]

    # null gives a setting back to the deployment
    back = _by_name(_data(c.put("/v1/projects/proj_alpha/settings", json={"daily_clips": None})))
    assert back["daily_clips"]["value"] == 5 and back["daily_clips"]["source"] == "goals"

    # review mode is a setting too; another project's key can neither read nor change them
    assert _by_name(_data(c.put("/v1/projects/proj_alpha/settings", json={"review": "required"})))["review"][
        "value"
    ] == ("required")
    assert projects.get_project("alpha", farm["lay"]).review == "required"
    for resp in (
        c.get("/v1/projects/proj_alpha/settings", headers=beta),
        c.put("/v1/projects/proj_alpha/settings", json={"daily_clips": 9}, headers=beta),
        c.get("/v1/projects/proj_alpha/settings/history", headers=beta),
    ):
        assert resp.status_code == 403 and resp.json()["error"]["code"] == "FORBIDDEN"
    assert _by_name(_data(c.get("/v1/projects/proj_alpha/settings")))["daily_clips"]["value"] == 5


def test_the_daily_schedule_lists_the_project_scraping_window(farm):  # noqa: F811
    store = OmnivaStore(home=str(farm["home"]))
    inst = farm["instance"]
    inst.add_dynamic_partitions(creators_partitions.name, ["alpha", "beta"])
    inst.report_runless_asset_event(
        dg.AssetMaterialization("posts", partition=str(post_key("alpha", "2025-06-01")))
    )
    projects.set_settings("alpha", {"scrape_window_days": 4}, farm["lay"])
    for name in ("alpha", "beta"):
        projects.set_automation(name, True, "test", farm["lay"])
    with dg.build_schedule_context(
        instance=inst,
        scheduled_execution_time=datetime(2025, 6, 3, 6, 0, tzinfo=UTC),
        resources={"store": store},
    ) as ctx:
        keys = sorted(str(r.partition_key) for r in daily_posts_schedule(ctx))
    # alpha: yesterday and the window's days never listed (06-01 was); beta: yesterday only
    assert keys == ["alpha|2025-05-30", "alpha|2025-05-31", "alpha|2025-06-02", "beta|2025-06-02"]


def test_the_settings_page_changes_cadence_and_review_and_shows_the_audit(farm):  # noqa: F811
    """In Chromium: the Settings page sets the cadence, the slots, the zone and the review
    mode; the page shows them as the project's with the audit's before and after; the next
    plan follows, and Zenith holds the uploads for review."""
    from tests.browser import Page, dashboard, home_env

    keys = KeyStore(farm["home"] / "api" / "keys.json")
    token = keys.create("proj_alpha", "alpha")[0]
    projects.set_review("alpha", "auto", farm["lay"])
    with dashboard(farm["home"], home_env(farm["home"]), {"alpha": token}) as ui:
        app = Page(ui)
        app.sign_in("alpha")
        app.goto("#/projects/proj_alpha/settings")
        app.page.wait_for_selector(".settings-form")
        assert app.page.locator("[data-setting=daily_clips] .source").get_attribute("data-source") == "goals"
        app.page.fill("#set-daily_clips", "11")  # refused: the field is named beside it
        app.page.click(".settings-form button.primary")
        app.page.wait_for_selector("[data-setting=daily_clips] .field-error")
        assert "from 1 to 10" in app.page.locator("[data-setting=daily_clips] .field-error").inner_text()
        app.page.fill("#set-daily_clips", "2")
        app.page.fill("#set-slot_times", "09:00, 12:00")
        app.page.fill("#set-time_zone", "Europe/Berlin")
        app.page.select_option("#set-review", "required")
        app.page.click(".settings-form button.primary")
        app.page.wait_for_selector(".settings-history tr[data-setting=daily_clips]")
        row = app.page.locator(".settings-history tr[data-setting=daily_clips]")
        assert row.locator(".before").inner_text() == "5" and row.locator(".after").inner_text() == "2"
        for name in ("daily_clips", "slot_times", "time_zone", "review"):
            assert (
                app.page.locator(f"[data-setting={name}] .source").get_attribute("data-source") == "project"
            )
        app.shot("settings")
        app.close()
    plan = _plan(farm["home"])
    berlin = ZoneInfo("Europe/Berlin")
    local = [
        datetime.fromisoformat(s.publish_at.replace("Z", "+00:00")).astimezone(berlin)
        for s in plan.slots
        if s.clip_key.endswith(ALPHA)
    ]
    assert len(local) == 4 and {t.strftime("%H:%M") for t in local} <= {"09:00", "12:00"}
    assert max(Counter(t.date() for t in local).values()) <= 2
    decided = LaunchPolicy.of(farm["instance"], resources_from_env()).plan(
        "upload", [f"{r}|{ALPHA}" for r in range(1, 5)], "omniva-cli"
    )
    assert not decided.launches and {d.action for d in decided.decisions} == {"defer"}


def test_the_cli_shows_and_changes_settings_with_the_same_checks_and_audit(farm, capsys):  # noqa: F811
    from omniva_app.cli import main

    assert (
        main(["projects", "settings", "alpha", "--set", "daily_clips=3", "--set", "time_zone=Asia/Tokyo"])
        == 0
    )
    out = capsys.readouterr().out
    assert "daily_clips: 5 -> 3" in out and 'time_zone\t"Asia/Tokyo"\t(project: project settings)' in out
    assert main(["projects", "settings", "alpha", "--set", "daily_clips=30"]) != 0
    assert "daily_clips: must be from 1 to 10" in capsys.readouterr().err
    assert main(["projects", "settings", "alpha", "--unset", "time_zone"]) == 0
    assert 'time_zone\t"UTC"\t(default: built-in)' in capsys.readouterr().out
    wh = Warehouse(farm["home"] / "warehouse", farm["home"] / "omniva.duckdb")
    rows = wh.query_file("project_settings_history", ["proj_alpha", 10])
    assert [r["key_id"] for r in rows] == ["omniva-cli", "omniva-cli"]
