"""Issue #28: the dashboard's API platform, through a real `omniva api` over a small working
folder of its own (projects alpha and beta, a folder creator each, warehouse rows written
here: posts, videos, candidates, clips, one render file with its thumbnail, log rows).

Sign-in with a key sets an HttpOnly SameSite=Strict cookie; with it a state change needs the
CSRF token (403 CSRF_REQUIRED, audited, without it); bearer keys work as before; /app has the
strict CSP; a clip's video answers byte ranges; beta's key gets 404 for alpha's video, clip,
log entries and funnel; the log entries filter; the live feed delivers a new entry after an
action; the funnel counts each stage.
"""

import asyncio
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from omniva_app.api.keys import KeyStore
from omniva_resources.resources import OmnivaStore
from omniva_resources.warehouse import Warehouse
from tests.conftest import ApiServer, cli_ok, free_port

pytestmark = pytest.mark.slow

VIDEO = bytes(range(256)) * 400  # 102,400 bytes standing in for an MP4
APP_INDEX = '<!doctype html><title>Omniva</title><script type="module" src="/app/assets/app.js"></script>'
UUIDS = {
    name: f"00000000-0000-4000-8000-{i:012d}"
    for i, name in enumerate(
        ["postA1", "postA2", "postB", "vidA", "vidB", "candA1", "candA2", "candB", "clipA", "clipB", "cr"], 1
    )
}


def _seed(home: Path) -> None:
    """The warehouse rows of a small pipeline: alpha 2 posts, 1 video, 2 candidates, 1 clip,
    1 render; beta 1 post, 1 video, 1 candidate, 1 clip, no render."""
    wh = Warehouse(home / "warehouse", home / "omniva.duckdb")
    now = datetime.now(UTC).isoformat()
    u = UUIDS
    for name, creator, video in (("postA1", "alpha-feed", "vidA"), ("postA2", "alpha-feed", "vidA2")) + (
        ("postB", "beta-feed", "vidB"),
    ):
        wh.write_partition(
            "posts",
            name,
            [
                {
                    "post_id": u[name],
                    "creator_id": u["cr"],
                    "creator": creator,
                    "platform_post_id": name,
                    "url": f"https://example.com/{name}",
                    "listed_on": "2026-12-01",
                    "video_key": video,
                }
            ],
        )
    for vid, creator, post in (("vidA", "alpha-feed", "postA1"), ("vidB", "beta-feed", "postB")):
        wh.write_partition(
            "videos",
            vid,
            [
                {
                    "video_id": u[vid],
                    "post_id": u[post],
                    "video_key": vid,
                    "creator": creator,
                    "source_url": f"https://example.com/{vid}",
                    "file_path": f"/nowhere/{vid}.mp4",
                    "checksum": "x",
                    "created_at": now,
                }
            ],
        )
    for cand, vid in (("candA1", "vidA"), ("candA2", "vidA"), ("candB", "vidB")):
        wh.write_partition(
            "clip_candidates",
            cand,
            [
                {
                    "candidate_id": u[cand],
                    "video_id": u[vid],
                    "video_key": vid,
                    "start_time": 1.0,
                    "end_time": 20.0,
                    "score": 0.5,
                }
            ],
        )
    for clip, vid, cand in (("clipA", "vidA", "candA1"), ("clipB", "vidB", "candB")):
        wh.write_partition(
            "clips",
            f"1|{vid}",
            [
                {
                    "clip_id": u[clip],
                    "video_id": u[vid],
                    "video_key": vid,
                    "rank": 1,
                    "candidate_id": u[cand],
                    "start_time": 1.0,
                    "end_time": 20.0,
                }
            ],
        )
    renders = home / "renders"
    renders.mkdir()
    (renders / "a.mp4").write_bytes(VIDEO)
    (renders / "a.jpg").write_bytes(b"\xff\xd8\xff\xe0jpeg")
    wh.write_partition(
        "renders",
        "1|vidA",
        [
            {
                "clip_id": u["clipA"],
                "file_path": str(renders / "a.mp4"),
                "checksum": "c",
                "size_bytes": len(VIDEO),
                "duration_seconds": 19.0,
                "resolution": "1080x1920",
                "video_codec": "h264",
                "audio_codec": "aac",
                "encoder": "libx264",
                "thumbnail_path": str(renders / "a.jpg"),
                "created_at": now,
            }
        ],
    )
    # beta's clip waits for its upload (and upload_jobs has a file: project_stats compares its
    # ids with the clips' ones, which a table typed only by the DDL would refuse)
    wh.write_partition(
        "upload_jobs",
        "1|vidB",
        [{"upload_job_id": u["cr"], "clip_id": u["clipB"], "status": "PENDING", "created_at": now}],
    )
    for partition in ("1|vidA", "1|vidB"):
        wh.write_partition(
            "quarantine",
            f"renders/{partition}",
            [
                {
                    "asset_key": "renders",
                    "partition_key": partition,
                    "failure_class": "bad_input",
                    "reason": "the render failed three times",
                    "failures": 3,
                    "quarantined_at": now,
                }
            ],
        )
    store = OmnivaStore(home=str(home))
    store.log(
        "posts", "INFO", "alpha-feed listed 2 posts", partition="alpha-feed|2026-12-01", run_id="run-a1"
    )
    store.log("renders", "ERROR", "render of 1|vidA failed once", partition="1|vidA", run_id="run-a2")
    store.log("posts", "INFO", "beta-feed listed 1 post", partition="beta-feed|2026-12-01", run_id="run-b1")


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    root = tmp_path_factory.mktemp("dashboard")
    home = root / "home"
    dist = root / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(APP_INDEX)
    (dist / "assets" / "app.js").write_text("console.log('omniva')")
    env = {
        **os.environ,
        "OMNIVA_HOME": str(home),
        "OMNIVA_YOUTUBE_API_ROOT": f"http://127.0.0.1:{free_port()}/",
        "OMNIVA_DASHBOARD_DIST": str(dist),
        "OMNIVA_DAGSTER_UI": "http://dagster.test:3000",
    }
    env.pop("DAGSTER_HOME", None)
    for name in ("alpha", "beta"):
        cli_ok(env, "projects", "add", name, "--channel", f"{name}-channel")
        feed = home / f"{name}-feed"
        feed.mkdir()
        cli_ok(env, "creators", "add", f"{name}-feed", str(feed), "--project", name)
    _seed(home)
    store = KeyStore(home / "api" / "keys.json")
    tokens = {"admin": store.create("*", "admin")[0]}
    for name in ("alpha", "beta"):
        tokens[name] = store.create(f"proj_{name}", name)[0]
    server = ApiServer.start(home, env, free_port(), timeout=300)
    try:
        yield {"home": home, "base": server.base, "tokens": tokens}
    finally:
        server.stop()


def _client(api, who: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {api['tokens'][who]}"} if who else {}
    return httpx.Client(base_url=api["base"], headers=headers, timeout=120)


def _ok(resp: httpx.Response, status: int = 200) -> dict:
    body = resp.json()
    assert resp.status_code == status and body["status"] == "success", body
    return body["data"]


def _err(resp: httpx.Response, status: int, code: str) -> dict:
    body = resp.json()
    assert resp.status_code == status and body["status"] == "error", body
    assert body["error"]["code"] == code, body
    return body["error"]


def _sign_in(api, who: str) -> tuple[httpx.Client, str]:
    c = _client(api)
    resp = c.post("/v1/session", json={"api_key": api["tokens"][who]})
    data = _ok(resp)
    return c, data["csrf_token"]


# ------------------------------------------------------------------ session, CSRF, headers
def test_sign_in_sets_a_strict_cookie_and_state_changes_need_the_csrf_token(api):
    c = _client(api)
    _err(c.post("/v1/session", json={"api_key": api["tokens"]["alpha"] + "x"}), 401, "UNAUTHORIZED")
    resp = c.post("/v1/session", json={"api_key": api["tokens"]["alpha"]})
    data = _ok(resp)
    assert data["project_id"] == "proj_alpha" and data["admin"] is False and data["csrf_token"]
    assert data["key_id"] == api["tokens"]["alpha"].split("_")[1]
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith("omniva_session=")
    flags = {f.strip().lower() for f in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= flags and "secure" not in flags
    assert _ok(c.get("/v1/session")) == data
    assert _ok(c.get("/v1/projects/proj_alpha"))["project_id"] == "proj_alpha"  # the cookie reads

    # a state change with the cookie: refused without the token (and audited), done with it
    _err(c.post("/v1/projects/proj_alpha/restart"), 403, "CSRF_REQUIRED")
    _err(c.post("/v1/projects/proj_alpha/restart", headers={"X-CSRF-Token": "wrong"}), 403, "CSRF_REQUIRED")
    wh = Warehouse(api["home"] / "warehouse", api["home"] / "omniva.duckdb")
    audited = wh.query("SELECT metadata FROM logs WHERE source = 'api' AND level = 'WARNING'")
    assert any(json.loads(r["metadata"]).get("code") == "CSRF_REQUIRED" for r in audited)
    done = _ok(c.post("/v1/projects/proj_alpha/restart", headers={"X-CSRF-Token": data["csrf_token"]}))
    assert done["status"] == "RUNNING"

    # a bearer key needs no CSRF token (no cookie: nothing a browser sends by itself)
    assert _ok(_client(api, "alpha").get("/v1/projects/proj_alpha/funnel"))["project_id"] == "proj_alpha"

    _ok(c.delete("/v1/session", headers={"X-CSRF-Token": data["csrf_token"]}))
    _err(c.get("/v1/session"), 401, "UNAUTHORIZED")


def test_app_is_served_with_a_strict_csp(api):
    c = _client(api)
    root = c.get("/", follow_redirects=False)
    assert root.status_code in (302, 307) and root.headers["location"] == "/app/"
    for path in ("/app", "/app/", "/app/clips/123"):
        resp = c.get(path)
        assert resp.status_code == 200 and resp.text == APP_INDEX
        csp = resp.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["referrer-policy"] == "no-referrer"
        assert resp.headers["cache-control"] == "no-cache"
    asset = c.get("/app/assets/app.js")
    assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
    api_answer = c.get("/v1/projects")
    assert (
        api_answer.status_code == 401
        and "frame-ancestors 'none'" in api_answer.headers["content-security-policy"]
    )


# ------------------------------------------------------------------ video, scope
def test_video_answers_byte_ranges_and_other_projects_get_404(api):
    alpha, beta, clip = _client(api, "alpha"), _client(api, "beta"), UUIDS["clipA"]
    full = alpha.get(f"/v1/clips/{clip}/video")
    assert full.status_code == 200 and full.content == VIDEO and full.headers["content-type"] == "video/mp4"
    assert full.headers["accept-ranges"] == "bytes"
    part = alpha.get(f"/v1/clips/{clip}/video", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == VIDEO[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(VIDEO)}"
    tail = alpha.get(f"/v1/clips/{clip}/video", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == VIDEO[-10:]
    assert alpha.get(f"/v1/clips/{clip}/video", headers={"Range": f"bytes={len(VIDEO)}-"}).status_code == 416
    thumb = alpha.get(f"/v1/clips/{clip}/thumbnail")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    _err(beta.get(f"/v1/clips/{UUIDS['clipB']}/video"), 404, "RENDER_NOT_FOUND")  # beta's: no render yet

    _err(beta.get(f"/v1/clips/{clip}/video"), 404, "CLIP_NOT_FOUND")
    _err(beta.get(f"/v1/clips/{clip}/thumbnail"), 404, "CLIP_NOT_FOUND")
    _err(beta.get(f"/v1/clips/{clip}"), 404, "CLIP_NOT_FOUND")
    _err(beta.get("/v1/projects/proj_alpha/log-entries"), 404, "PROJECT_NOT_FOUND")
    _err(beta.get("/v1/projects/proj_alpha/funnel"), 404, "PROJECT_NOT_FOUND")
    _err(beta.get("/v1/projects/proj_alpha/commands"), 404, "PROJECT_NOT_FOUND")


# ------------------------------------------------------------------ log entries
def test_log_entries_are_the_projects_and_filter(api):
    alpha = _client(api, "alpha")
    data = _ok(alpha.get("/v1/projects/proj_alpha/log-entries", params={"limit": 500}))
    messages = [i["message"] for i in data["items"]]
    assert "alpha-feed listed 2 posts" in messages and "render of 1|vidA failed once" in messages
    assert not any("beta-feed" in m for m in messages)
    assert data["pagination"]["total"] == len(data["items"])
    stamps = [i["created_at"] for i in data["items"]]
    assert stamps == sorted(stamps, reverse=True)

    errors = _ok(alpha.get("/v1/projects/proj_alpha/log-entries", params={"level": "ERROR"}))["items"]
    assert [e["message"] for e in errors] == ["render of 1|vidA failed once"]
    (e,) = errors
    assert e["clip_id"] == UUIDS["clipA"] and e["run_id"] == "run-a2"
    assert (
        e["dagster_ui"] == "http://dagster.test:3000/runs/run-a2" and e["metadata"]["partition"] == "1|vidA"
    )

    posts = _ok(alpha.get("/v1/projects/proj_alpha/log-entries", params={"source": "posts"}))["items"]
    assert [p["message"] for p in posts] == ["alpha-feed listed 2 posts"]
    paged = _ok(alpha.get("/v1/projects/proj_alpha/log-entries", params={"limit": 1, "offset": 1}))
    assert len(paged["items"]) == 1 and paged["pagination"]["total"] >= 2
    future = _ok(alpha.get("/v1/projects/proj_alpha/log-entries", params={"since": "2999-01-01T00:00:00Z"}))
    assert future["items"] == [] and future["pagination"]["total"] == 0
    first, last = stamps[-1][:10], stamps[0][:10]  # whole days: since the first's start, until the last's end
    days = _ok(alpha.get("/v1/projects/proj_alpha/log-entries", params={"since": first, "until": last}))
    assert days["pagination"]["total"] == data["pagination"]["total"]
    _err(
        alpha.get("/v1/projects/proj_alpha/log-entries", params={"since": "yesterday"}),
        400,
        "VALIDATION_ERROR",
    )


def test_live_log_entries_deliver_a_new_entry_after_an_action(api):
    import websockets

    c, csrf = _sign_in(api, "alpha")
    cookie = f"omniva_session={c.cookies['omniva_session']}"
    url = api["base"].replace("http://", "ws://") + "/v1/projects/proj_alpha/log-entries/live"

    async def scenario() -> dict:
        async with websockets.connect(url, additional_headers={"Cookie": cookie}) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 60))
            assert first["type"] == "snapshot" and first["items"]
            # an action: a quarantine release of a partition that is not quarantined is a
            # refusal, not an action; restart is audited
            await asyncio.to_thread(
                lambda: _ok(c.post("/v1/projects/proj_alpha/restart", headers={"X-CSRF-Token": csrf}))
            )
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if msg["type"] == "entry" and "restarted" in msg["item"]["message"]:
                    return msg["item"]

    item = asyncio.run(scenario())
    assert item["source"] == "api" and item["metadata"]["project_id"] == "proj_alpha"

    async def refused(headers: dict) -> None:
        async with websockets.connect(url, additional_headers=headers) as ws:
            await ws.recv()

    # no cookie, or the cookie from another site's page: the handshake is refused (403)
    for headers in ({}, {"Cookie": cookie, "Origin": "https://evil.example"}):
        with pytest.raises(websockets.exceptions.InvalidStatus) as refusal:
            asyncio.run(refused(headers))
        assert refusal.value.response.status_code == 403
    commands = _ok(_client(api, "alpha").get("/v1/projects/proj_alpha/commands"))["items"]
    assert commands and all(i["source"] == "api" for i in commands)
    assert any("restarted" in i["message"] for i in commands)


# ------------------------------------------------------------------ funnel, projects, workers
def test_funnel_counts_each_stage(api):
    funnel = _ok(_client(api, "alpha").get("/v1/projects/proj_alpha/funnel"))
    counts = {s["name"]: s["count"] for s in funnel["stages"]}
    assert list(counts) == [
        "posts",
        "videos",
        "candidates",
        "selected",
        "rendered",
        "approved",
        "uploaded",
        "published",
    ]
    # review mode auto: every render counts as approved
    assert counts == {
        "posts": 2,
        "videos": 1,
        "candidates": 2,
        "selected": 1,
        "rendered": 1,
        "approved": 1,
        "uploaded": 0,
        "published": 0,
    }
    beta = {
        s["name"]: s["count"]
        for s in _ok(_client(api, "beta").get("/v1/projects/proj_beta/funnel"))["stages"]
    }
    assert beta["posts"] == 1 and beta["selected"] == 1 and beta["rendered"] == 0 and beta["uploaded"] == 0

    items = _ok(_client(api, "admin").get("/v1/projects"))["items"]
    alpha = next(i for i in items if i["project_id"] == "proj_alpha")
    assert alpha["videos"] == 1 and alpha["clips"] == 1 and alpha["upload_queue"] == 0
    assert len(alpha["throughput"]) == 14 and alpha["throughput"][-1] == 1 and alpha["last_activity"]
    assert alpha["status"] in ("RUNNING", "PAUSED", "ERROR")


def test_workers_report_heartbeats_pools_and_load(api):
    data = _ok(_client(api, "alpha").get("/v1/system/workers"))
    assert set(data["heartbeats"]) >= {"daemons", "code_server", "asr_worker", "celery_workers"}
    assert "editor_worker" in data["pools"] and "queue_depth" in data["pools"]["editor_worker"]
    assert data["cpu"]["cores"] >= 1 and data["cpu"]["load_1m"] is not None
    assert data["gpu"] is None or isinstance(data["gpu"], list)
    assert any(w["name"] == "asr_worker" for w in data["workers"]) and "editor_worker" in data["queue_depth"]


# ------------------------------------------------------------------ bot control
def test_quarantine_release_and_reset_failed_stay_in_the_project(api):
    alpha, beta = _client(api, "alpha"), _client(api, "beta")
    path = "/v1/projects/proj_alpha/quarantine/release"
    _err(beta.post(path, json={"partition": "1|vidA"}), 404, "PROJECT_NOT_FOUND")
    _err(alpha.post(path, json={"partition": "1|vidB"}), 404, "NOT_QUARANTINED")  # beta's
    released = _ok(alpha.post(path, json={"partition": "1|vidA"}))
    assert released == {"partition": "1|vidA", "released": ["renders"]}
    _err(alpha.post(path, json={"partition": "1|vidA"}), 404, "NOT_QUARANTINED")  # released already
    wh = Warehouse(api["home"] / "warehouse", api["home"] / "omniva.duckdb")
    still = wh.query_file("open_quarantine_of_partition", ["1|vidB"])
    assert len(still) == 1  # beta's partition stays quarantined

    nothing = _ok(alpha.post("/v1/projects/proj_alpha/reset-failed"))
    assert nothing["job_id"] is None and nothing["partitions"] == []
    commands = _ok(alpha.get("/v1/projects/proj_alpha/commands"))["items"]
    assert any("released 1|vidA" in c["message"] for c in commands)


def test_reset_failed_re_requests_the_projects_failed_partitions(api):
    import uuid

    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(api["home"] / "dagster")))
    for partition in ("1|vidA", "1|vidB"):  # alpha's clip and beta's: only alpha's is alpha's
        instance.add_run(
            dg.DagsterRun(
                job_name="clip_job",
                run_id=str(uuid.uuid4()),
                status=dg.DagsterRunStatus.FAILURE,
                tags={"dagster/partition": partition},
            )
        )
    job = _ok(_client(api, "alpha").post("/v1/projects/proj_alpha/reset-failed"), 202)
    assert job["partitions"] == ["clip_job:1|vidA"] and job["kind"] == "reset" and len(job["run_ids"]) == 1
    assert job["project_id"] == "proj_alpha" and job["runs"][0]["partition"] == "1|vidA"
    commands = _ok(_client(api, "alpha").get("/v1/projects/proj_alpha/commands"))["items"]
    assert any(c["message"].startswith(f"reset {job['job_id']}") for c in commands)
