"""The operator's dashboard (#28) in headless Chromium against a real ``omniva api``.

The API runs on a copy of the demo's working folder (the session's ``demo`` fixture), with two
projects: ``demo`` (the sample creator, every clip of the demo) and ``other`` (no creators).
Playwright drives Debian's ``/usr/bin/chromium`` (no browser download) through the built app
under ``/app/`` (``make setup`` builds ``dashboard/dist``; the fixture builds it when missing).
Each test takes screenshots of its pages: into a temporary folder, or into the docs with
``OMNIVA_SCREENSHOTS=docs/img`` (how ``docs/img/dashboard-<page>.png`` are made), so a test run
leaves the work tree as it was.
"""

import json
import re
import shutil

import pytest

from tests.browser import dashboard, home_env
from tests.browser import data as _data
from tests.conftest import cli_ok

pytestmark = pytest.mark.slow  # on the demo's data (the session's demo fixture)

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def ui(demo, tmp_path_factory):
    home = tmp_path_factory.mktemp("dashboard") / "home"
    shutil.copytree(demo["home"], home, symlinks=True)
    env = home_env(home)
    cli_ok(env, "projects", "add", "other", "--channel", "omniva-other")
    keys = {
        "admin": cli_ok(env, "api", "keys", "create", "--admin"),
        "demo": cli_ok(env, "api", "keys", "create", "--project", "demo"),
        "other": cli_ok(env, "api", "keys", "create", "--project", "other"),
    }
    with dashboard(home, env, keys) as ui:
        yield ui


def _clips(ui, who: str = "demo") -> list[dict]:
    return _data(ui[who].get("/v1/projects/proj_demo/clips", params={"limit": 500}))["items"]


def test_sign_in_projects_and_funnel(ui, app):
    app.goto()
    app.page.wait_for_selector("#api-key")  # signed out: the sign-in page
    app.sign_in("demo", shot="signin")
    card = app.page.locator(".project-card[data-project=proj_demo]")
    assert card.locator(".badge").inner_text().strip().startswith(("RUNNING", "PAUSED", "ERROR"))
    assert card.locator("svg.sparkline").count() == 1
    assert app.page.locator(".project-card").count() == 1  # a project key sees its own project only
    app.shot("projects")
    card.locator("a.title").click()
    app.page.wait_for_selector("svg.funnel .funnel-row")
    stages = app.page.locator("svg.funnel .funnel-row").evaluate_all("rs => rs.map(r => r.dataset.stage)")
    assert stages == [
        "posts",
        "videos",
        "candidates",
        "selected",
        "rendered",
        "approved",
        "uploaded",
        "published",
    ]
    funnel = {s["name"]: s["count"] for s in _data(ui["demo"].get("/v1/projects/proj_demo/funnel"))["stages"]}
    shown = app.page.locator("svg.funnel .funnel-count").evaluate_all("ts => ts.map(t => t.textContent)")
    assert [int(t) for t in shown] == [funnel[s] for s in stages]
    app.shot("overview")


def test_clip_page_plays_the_video(ui, app):
    app.sign_in()
    app.goto("#/projects/proj_demo/clips")
    app.page.wait_for_selector(".clips-table tbody tr")
    assert app.page.locator(".clips-table tbody tr").count() == min(50, len(_clips(ui)))
    app.shot("clips")
    app.page.locator(".clips-table tbody tr a").first.click()
    video = app.page.locator("video.player")
    video.wait_for()
    app.page.wait_for_function(
        "() => { const v = document.querySelector('video.player'); return v && v.duration > 0; }"
    )
    duration = video.evaluate("v => v.duration")
    assert duration > 1
    video.evaluate("v => { v.muted = true; return v.play(); }")
    app.page.wait_for_function(
        "() => document.querySelector('video.player').currentTime > 0.5", timeout=30000
    )
    video.evaluate("v => v.pause()")
    # the HaloLux tree: the six modules as accordions, the raw JSON behind a toggle
    modules = app.page.locator(".halolux details.module").evaluate_all("ds => ds.map(d => d.dataset.module)")
    assert modules == ["Paradox", "Eclipse", "Pantheon", "Lattice", "Horizon", "Zenith"]
    app.page.click("[data-testid=raw-toggle]")
    assert app.page.locator("pre.raw-json").inner_text().lstrip().startswith("{")
    app.page.locator(".halolux details.module[data-module=Pantheon] > summary").click()
    app.page.wait_for_selector(".lineage li")
    app.shot("clip")


def test_approve_one_reject_another(ui, app):
    first, second = _clips(ui)[:2]
    app.sign_in()
    app.open_clip(first["clip_id"])
    app.page.fill("#review-reason", "good hook")
    app.page.click("button.approve")
    app.page.wait_for_selector(".toast-info")
    app.open_clip(second["clip_id"])
    app.page.fill("#review-reason", "off topic")
    app.page.click("button.reject")
    app.page.wait_for_selector(".toast-info")
    app.page.wait_for_selector(".badge.review-rejected")
    app.shot("review", full=False)
    a = _data(ui["demo"].get(f"/v1/clips/{first['clip_id']}"))
    b = _data(ui["demo"].get(f"/v1/clips/{second['clip_id']}"))
    review = {c["clip_id"]: c.get("review") for c in (a, b)}
    text = str(review).lower()
    assert "approve" in text and "reject" in text, review


def test_edit_title_shows_on_the_clip_page(ui, app):
    clip = _clips(ui)[2]
    title = "A person's better title #Shorts"
    app.sign_in()
    app.open_clip(clip["clip_id"])
    app.page.fill("#copy-title", title)
    app.page.click(".copy-form button.primary")
    app.page.wait_for_selector(".toast-info")
    app.page.reload()
    app.page.wait_for_selector("[data-testid=clip-title]")
    assert app.page.locator("[data-testid=clip-title]").inner_text() == title
    assert _data(ui["demo"].get(f"/v1/clips/{clip['clip_id']}"))["title"] == title
    # a title over YouTube's 100 characters: refused, the field named on the form
    app.page.fill("#copy-title", "x" * 101)
    app.page.click(".copy-form button.primary")
    app.page.wait_for_selector(".copy-form .form-error")
    assert "title" in app.page.locator(".copy-form").inner_text().lower()
    app.shot("copy", full=False)


def test_markup_is_shown_as_text(ui, app):
    """Markup in a title or a log message is text: no <img> element, no alert."""
    clip = _clips(ui)[3]
    # YouTube refuses '<' and '>' in a title: so does PUT copy, naming the field
    resp = ui["demo"].put(
        f"/v1/clips/{clip['clip_id']}/copy", json={"title": XSS, "description": "", "tags": []}
    )
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "INVALID_COPY", resp.text
    assert "title" in resp.json()["error"]["message"]
    app.sign_in()
    app.open_clip(clip["clip_id"])
    app.page.fill("#copy-title", XSS)
    app.page.click(".copy-form button.primary")
    app.page.wait_for_selector(".copy-form .form-error")
    assert "INVALID_COPY" in app.page.locator(".copy-form").inner_text()
    # the same text reaches the logs table: a refused request's audit line names its path
    assert ui["demo"].get(f"/v1/{XSS}").status_code == 404
    app.goto("#/projects/proj_demo/logs")
    app.page.wait_for_selector(".logs-table tbody tr")
    messages = app.page.locator(".logs-table .log-message").all_inner_texts()
    assert any(XSS in m for m in messages), messages[:5]
    app.page.wait_for_timeout(500)
    assert app.page.locator("img").count() == 0
    assert app.dialogs == []
    app.shot("markup-as-text", full=False)


def test_drag_a_clip_to_another_slot(ui, app):
    app.sign_in()
    app.goto("#/projects/proj_demo/schedule")
    app.page.wait_for_selector(".calendar")
    app.page.check("input[value=month]")
    app.page.wait_for_selector(".calendar-month .cal-day")
    app.shot("schedule-month")
    app.page.check("input[value=week]")  # this week holds the demo's slots and free ones
    app.page.wait_for_selector(".calendar-week .slot.free")
    # a clip not uploaded yet moves; the demo's run has uploaded its clips, whose slots stay
    scheduled = app.page.locator(".slot[draggable=true]:not(.st-uploaded):not(.st-published)")
    movable = scheduled if scheduled.count() else app.page.locator(".slot[draggable=true]")
    assert movable.count() > 0, "no slot in the calendar"
    source = movable.first
    clip_id = source.get_attribute("data-clip")
    uploaded = "st-uploaded" in (source.get_attribute("class") or "")
    target = app.page.locator(".slot.free").first
    target_at = target.get_attribute("data-at")
    # The drag's own events on exactly these two elements (a mouse drag picks whatever element is
    # under the pointer, which in a crowded week view need not be the slot chosen above).
    with app.page.expect_response(lambda r: r.url.endswith("/calendar/move")) as moved:
        transfer = app.page.evaluate_handle("() => new DataTransfer()")
        source.dispatch_event("dragstart", {"dataTransfer": transfer})
        target.dispatch_event("dragover", {"dataTransfer": transfer})
        target.dispatch_event("drop", {"dataTransfer": transfer})
    body = moved.value.request.post_data_json
    assert body == {"clip_id": clip_id, "publish_at": target_at}
    assert moved.value.request.headers.get("x-csrf-token")
    day = target_at[:10]
    cal = _data(ui["demo"].get("/v1/projects/proj_demo/calendar", params={"from": day, "to": day}))
    if uploaded:  # on YouTube, private until its time: moved there too (videos.update)
        assert moved.value.status == 200, moved.value.text()
        app.page.wait_for_selector(f".slot[data-clip='{clip_id}'][data-at='{target_at}']")
        assert any(s["clip_id"] == clip_id and s["publish_at"] == target_at for s in cal["slots"]), cal
        job = _data(ui["demo"].get(f"/v1/clips/{clip_id}"))["upload_job"]
        stored = json.loads(
            (ui["home"] / "youtube-emulator" / "videos" / f"{job['yt_video_id']}.json").read_text()
        )
        assert stored["status"]["publishAt"] == target_at and stored["status"]["privacyStatus"] == "private"
        assert str(job["scheduled_time"]).replace("+00:00", "Z").replace(" ", "T").startswith(target_at[:16])
    else:
        assert moved.value.status == 200, moved.value.text()
        app.page.wait_for_selector(f".slot[data-clip='{clip_id}'][data-at='{target_at}']")
        assert any(s["clip_id"] == clip_id and s["publish_at"] == target_at for s in cal["slots"]), cal
    app.shot("schedule")
    # the keyboard way: the slot's "move to" list sends the same request
    with app.page.expect_request(lambda r: r.url.endswith("/calendar/move")) as again:
        app.page.locator(f".slot[data-clip='{clip_id}'] select.move-to").select_option(index=1)
    assert again.value.post_data_json["clip_id"] == clip_id


def test_a_new_log_line_appears_live(ui, app):
    app.sign_in()
    app.goto("#/projects/proj_demo/logs")
    app.page.wait_for_selector(".logs-table tbody tr")
    app.page.check(".live-toggle input")
    app.page.wait_for_selector(".live-mode[data-mode=websocket]")
    before = app.page.locator(".logs-table .log-message").all_inner_texts()
    # an action from elsewhere (the admin's key over the API): the page shows its audit line
    resp = ui["admin"].post("/v1/projects/proj_demo/start")
    assert resp.status_code == 200, resp.text
    app.page.wait_for_function(
        "n => document.querySelectorAll('.logs-table .log-message').length > n",
        arg=len(before),
        timeout=30000,
    )
    app.page.locator(".logs-table tbody tr.log-row button.link").first.click()
    app.page.wait_for_selector(".log-json pre")
    app.shot("logs", full=False)


def test_the_live_tail_falls_back_to_polling(ui, app):
    """Where the WebSocket cannot open, the live tail polls the list instead."""
    app.page.route_web_socket(re.compile(r"/log-entries/live$"), lambda ws: ws.close())
    app.sign_in()
    app.goto("#/projects/proj_demo/logs")
    app.page.wait_for_selector(".logs-table tbody tr")
    app.page.check(".live-toggle input")
    app.page.wait_for_selector(".live-mode[data-mode=polling]")
    with app.page.expect_response(lambda r: "/log-entries?" in r.url and r.status == 200, timeout=15000):
        pass


def test_bot_control_asks_first(ui, app):
    app.sign_in()
    app.goto("#/projects/proj_demo/control")
    app.page.wait_for_selector("button[data-action=start]")
    app.page.click("button[data-action=stop]")
    dialog = app.page.locator("dialog.confirm[open]")
    dialog.wait_for()
    app.shot("control-confirm", full=False)
    dialog.locator("button.primary").click()
    app.page.wait_for_selector(".toast")
    app.page.wait_for_timeout(500)
    app.shot("control")
    status = _data(ui["demo"].get("/v1/projects/proj_demo"))["status"]
    assert status == "PAUSED"


def test_another_project_sees_nothing(ui, app):
    clip_id = _clips(ui)[0]["clip_id"]
    app.sign_in("other")
    assert app.page.locator(".project-card").count() == 1
    assert app.page.locator(".project-card[data-project=proj_demo]").count() == 0
    app.goto(f"#/clips/{clip_id}")
    app.page.wait_for_selector(".error-box")
    assert "CLIP_NOT_FOUND" in app.page.locator(".error-box").inner_text()
    app.goto("#/projects/proj_demo/clips")
    app.page.wait_for_selector(".error-box")
    app.goto("#/projects/proj_other/clips")
    app.page.wait_for_selector(".empty, .clips-table")
    assert app.page.locator(".clips-table tbody tr").count() == 0
    app.shot("other-project", full=False)
    other = ui["other"]
    # refused (403 FORBIDDEN or 404: a project key cannot tell the other project's data exists)
    for path in (
        "/v1/projects/proj_demo/clips",
        "/v1/projects/proj_demo/log-entries",
        "/v1/projects/proj_demo/calendar",
        "/v1/projects/proj_demo/funnel",
        f"/v1/clips/{clip_id}",
        f"/v1/clips/{clip_id}/video",
        f"/v1/clips/{clip_id}/insights",
    ):
        resp = other.get(path)
        assert resp.status_code in (403, 404), (path, resp.status_code)
        body = resp.json()  # the answer names what was asked for, and nothing of the project
        assert body["data"] is None and "sample" not in resp.text, (path, resp.text)
    assert _data(other.get("/v1/projects/proj_other/clips"))["items"] == []
    # the same through the session cookie, from the other key's page
    status = app.page.evaluate(
        "id => fetch('/v1/clips/' + id, {credentials: 'same-origin'}).then(r => r.status)", clip_id
    )
    assert status == 404


def test_a_state_change_without_the_csrf_token_is_refused(ui, app):
    app.sign_in()
    answer = app.page.evaluate(
        """() => fetch('/v1/projects/proj_demo/stop', {method: 'POST', credentials: 'same-origin'})
              .then(async r => ({status: r.status, body: await r.json()}))"""
    )
    assert answer["status"] == 403 and answer["body"]["error"]["code"] == "CSRF_REQUIRED", answer
    answer = app.page.evaluate(
        """() => fetch('/v1/session', {credentials: 'same-origin'}).then(r => r.json())
              .then(s => fetch('/v1/projects/proj_demo/stop', {method: 'POST', credentials: 'same-origin',
                                headers: {'X-CSRF-Token': s.data.csrf_token}}))
              .then(r => r.status)"""
    )
    assert answer in (200, 409)
