"""Review before publish, in the browser (#28): ``omniva demo --review required`` makes every
Short and holds every upload; a person approves one clip on its page, edits its title, moves it
to another slot on the calendar and uploads it; rejects another; and only the approved clip
reaches (the loopback) YouTube, with the person's title and the slot they chose.

A real demo run (its own working folder), a real ``omniva api``, Debian's Chromium through
playwright; uploads are real Dagster runs to the YouTube emulator the API starts.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.browser import dashboard, data, home_env
from tests.conftest import cli_ok, free_port, run_demo

pytestmark = pytest.mark.slow  # a whole demo run of its own

TITLE = "Why the pendulum keeps time (a person's title) #Shorts"


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    home = tmp_path_factory.mktemp("review-demo") / "home"
    made = run_demo(home, free_port(), free_port(), "--review", "required")
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    assert "wait for review" in made.stdout, made.stdout[-3000:]
    env = home_env(home)
    keys = {"demo": cli_ok(env, "api", "keys", "create", "--project", "demo")}
    with dashboard(home, env, keys) as ui:
        yield ui


def _sent(home: Path) -> list[dict]:
    """The videos the YouTube emulator holds (its state files)."""
    return [json.loads(p.read_text()) for p in sorted((home / "youtube-emulator" / "videos").glob("*.json"))]


def _calendar(ui) -> dict:
    today = datetime.now(UTC).date()
    return data(
        ui["demo"].get(
            "/v1/projects/proj_demo/calendar",
            params={"from": str(today), "to": str(today + timedelta(days=27))},
        )
    )


def _drag(app, source, target) -> dict:
    """Drag ``source`` onto ``target`` (the drag's own events on exactly these two elements)."""
    with app.page.expect_response(lambda r: r.url.endswith("/calendar/move")) as moved:
        transfer = app.page.evaluate_handle("() => new DataTransfer()")
        source.dispatch_event("dragstart", {"dataTransfer": transfer})
        target.dispatch_event("dragover", {"dataTransfer": transfer})
        target.dispatch_event("drop", {"dataTransfer": transfer})
    assert moved.value.status == 200, moved.value.text()
    return moved.value.request.post_data_json


def test_review_required_uploads_only_the_approved_clip_with_its_title_and_slot(ui, app):
    clips = data(ui["demo"].get("/v1/projects/proj_demo/clips", params={"limit": 500}))["items"]
    assert len(clips) >= 3 and {c["review"] for c in clips} == {"pending"}
    assert _sent(ui["home"]) == []  # the demo uploaded nothing: every clip waits for review
    slots = {s["clip_id"]: s for s in _calendar(ui)["slots"]}
    held = [c["clip_id"] for c in clips if c["clip_id"] in slots]
    assert len(held) >= 3 and {slots[c]["status"] for c in held} == {"held"}
    good, bad, waiting = held[:3]

    app.sign_in()
    app.goto("#/projects/proj_demo/overview")
    app.page.wait_for_selector("svg.funnel .funnel-row")
    app.shot("review-overview")

    # approve one clip and give it a person's title
    app.open_clip(good)
    app.page.fill("#review-reason", "clear explanation, good hook")
    app.page.click("button.approve")
    app.page.wait_for_selector(".badge.review-approved")
    app.page.fill("#copy-title", TITLE)
    app.page.click(".copy-form button.primary")
    app.page.wait_for_function(
        "t => document.querySelector('[data-testid=clip-title]')?.textContent === t", arg=TITLE
    )

    # reject another: its upload button is disabled, the API refuses it with the reason
    app.open_clip(bad)
    app.page.fill("#review-reason", "cuts off mid-sentence")
    app.page.click("button.reject")
    app.page.wait_for_selector(".badge.review-rejected")
    assert app.page.locator("button.upload-now").is_disabled()
    app.shot("review-rejected", full=False)

    # one not reviewed yet: "Upload now" answers that it waits for review
    app.open_clip(waiting)
    app.page.click("button.upload-now")
    app.page.wait_for_selector(".toast-info:has-text('waiting for review')")

    # move the approved clip to a free slot on the calendar
    app.goto("#/projects/proj_demo/schedule")
    app.page.wait_for_selector(".calendar")
    app.page.check("input[value=week]")
    source = app.page.locator(f".slot[data-clip='{good}']")
    for _ in range(4):  # its week may be a later one
        if source.count():
            break
        app.page.click("button:text-is('›')")
        app.page.wait_for_selector(".calendar-week")
    assert source.count() == 1, "the approved clip's slot is not on the calendar"
    target = app.page.locator(".slot.free").last
    target_at = target.get_attribute("data-at")
    assert _drag(app, source, target) == {"clip_id": good, "publish_at": target_at}
    app.page.wait_for_selector(f".slot[data-clip='{good}'][data-at='{target_at}']")
    app.shot("review-schedule")
    assert {s["clip_id"]: s["publish_at"] for s in _calendar(ui)["slots"]}[good] == target_at

    # upload the approved clip from its page: a real upload run to the emulator
    app.open_clip(good)
    with app.page.expect_response(lambda r: r.url.endswith(f"/clips/{good}/upload")) as up:
        app.page.click("button.upload-now")
    assert up.value.status in (200, 202), up.value.text()
    app.page.wait_for_selector(".toast-info:has-text('upload')")
    for _ in range(60):
        if data(ui["demo"].get(f"/v1/clips/{good}"))["status"] in ("SCHEDULED", "UPLOADED", "LIVE"):
            break
        app.page.wait_for_timeout(1000)
    app.page.reload()
    app.page.wait_for_selector("[data-testid=clip-title]")
    assert app.page.locator("button.upload-now").count() == 0  # uploaded: no second upload
    app.shot("review-uploaded", full=False)

    # every other clip asked for: the rejected one refused, the rest still wait for review
    for clip in clips:
        if clip["clip_id"] == good:
            continue
        resp = ui["demo"].post(f"/v1/clips/{clip['clip_id']}/upload")
        body = resp.json()
        if clip["clip_id"] == bad:
            assert resp.status_code == 409 and body["error"]["code"] == "REJECTED", body
            assert "cuts off mid-sentence" in body["error"]["message"]
        else:
            assert body["data"]["status"] == "DEFERRED", body
            assert "waiting for review" in body["data"]["reason"]

    [video] = _sent(ui["home"])  # only the approved clip reached YouTube
    assert video["snippet"]["title"] == TITLE
    published = datetime.fromisoformat(video["status"]["publishAt"].replace("Z", "+00:00"))
    assert published == datetime.fromisoformat(target_at.replace("Z", "+00:00"))
    assert app.dialogs == []


def test_a_title_template_previews_and_the_next_upload_carries_it(ui, app):
    clips = data(ui["demo"].get("/v1/projects/proj_demo/clips", params={"limit": 500}))["items"]
    pending = [c for c in clips if c["review"] == "pending"]
    assert pending, clips
    clip = pending[-1]
    chorus = data(ui["demo"].get(f"/v1/clips/{clip['clip_id']}"))["title"]

    app.sign_in()
    app.goto("#/projects/proj_demo/settings")
    app.page.wait_for_selector("#set-title_template")
    # an unknown variable: the preview says which
    app.page.fill("#set-title_template", "{{title}} by {{author}}")
    app.page.wait_for_selector(".template-preview .preview-error")
    assert "{{author}}" in app.page.locator(".template-preview").inner_text()
    # a template too long for YouTube on the project's clips: refused on save, the field named
    app.page.fill("#set-title_template", "{{title}} {{title}} {{title}}")
    app.page.wait_for_selector(".template-preview .preview-problem")
    app.page.click(".settings-form button.primary")
    app.page.wait_for_selector("[data-setting=title_template] .field-error")
    assert "100" in app.page.locator("[data-setting=title_template] .field-error").inner_text()
    # a good one: the preview shows its output on a real clip, and it is saved
    app.page.fill("#set-title_template", "{{creator}} · {{source_title}}")
    app.page.wait_for_function(
        "() => (document.querySelector('[data-testid=preview-title]')?.textContent || '').startsWith('sample · ')"
    )
    app.page.click(".settings-form button.primary")
    app.page.wait_for_selector(".settings-history tr[data-setting=title_template]")
    app.shot("templates")
    expected = data(
        ui["demo"].post("/v1/projects/proj_demo/templates/preview", json={"clip_id": clip["clip_id"]})
    )["copy"]["title"]
    assert expected.startswith("sample · ") and expected != chorus

    # approved and uploaded: the upload carries the template's output (no person's edit here)
    assert data(ui["demo"].post(f"/v1/clips/{clip['clip_id']}/review", json={"decision": "approve"}))
    resp = ui["demo"].post(f"/v1/clips/{clip['clip_id']}/upload", params={"wait": 60})
    assert resp.status_code in (200, 202), resp.text
    for _ in range(60):
        if data(ui["demo"].get(f"/v1/clips/{clip['clip_id']}"))["status"] in (
            "SCHEDULED",
            "UPLOADED",
            "LIVE",
        ):
            break
        app.page.wait_for_timeout(1000)
    titles = [v["snippet"]["title"] for v in _sent(ui["home"])]
    assert expected in titles, titles
