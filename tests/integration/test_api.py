"""REST API v1 over the demo's instance and warehouse, through a real server on loopback.

The API runs as `omniva api` in a subprocess on a copy of the demo's working folder (so
the other tests keep an untouched demo), uploading to a fresh loopback emulator whose
Google Cloud project has a daily budget of 2,000 units: one upload fits, the next one
is deferred. Every action is checked against Dagster's own run storage.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import httpx
import pytest
from dagster._core.instance.ref import InstanceRef

from omniva.errors import OmnivaError
from omniva_app.api.keys import KeyStore
from omniva_devkit.sample_site import SampleSite
from omniva_resources.warehouse import Warehouse
from tests.conftest import ApiServer, free_port

slow = pytest.mark.slow  # the tests on the demo's data (they share its session fixture)

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATHS = {
    ("get", "/v1/projects"),
    ("post", "/v1/projects"),
    ("get", "/v1/projects/{project_id}"),
    ("post", "/v1/projects/{project_id}/start"),
    ("post", "/v1/projects/{project_id}/stop"),
    ("post", "/v1/projects/{project_id}/creators"),
    ("get", "/v1/projects/{project_id}/creators"),
    ("post", "/v1/projects/{project_id}/scrape"),
    ("get", "/v1/projects/{project_id}/scrape/status"),
    ("get", "/v1/projects/{project_id}/analysis"),
    ("get", "/v1/projects/{project_id}/clips"),
    ("get", "/v1/clips/{clip_id}"),
    ("post", "/v1/clips/{clip_id}/edit"),
    ("post", "/v1/clips/{clip_id}/upload"),
    ("get", "/v1/projects/{project_id}/uploads"),
    ("post", "/v1/projects/{project_id}/schedule"),
    ("get", "/v1/projects/{project_id}/schedule"),
    ("get", "/v1/projects/{project_id}/logs"),
    ("get", "/v1/clips/{clip_id}/insights"),
    ("get", "/v1/clips/{clip_id}/lineage"),
    ("get", "/v1/system/status"),
}


def _cli(env, *args) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [sys.executable, "-m", "omniva_app.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out


@pytest.fixture(scope="module")
def api(demo, tmp_path_factory):
    home = tmp_path_factory.mktemp("api") / "home"
    shutil.copytree(demo["home"], home, symlinks=True)
    # A fresh loopback emulator: with the demo's channel copied, the marker lookup would find
    # the demo's videos and adopt them, and the quota tests would spend nothing.
    shutil.rmtree(home / "youtube-emulator", ignore_errors=True)
    port, yt_port = free_port(), free_port()
    env = {
        **os.environ,
        "OMNIVA_HOME": str(home),
        "OMNIVA_YOUTUBE_API_ROOT": f"http://127.0.0.1:{yt_port}/",
        # The legacy model (videos.insert 1,600 units of one pool): the second upload is deferred.
        "OMNIVA_YOUTUBE_QUOTA_MODEL": "legacy",
        "OMNIVA_YOUTUBE_DAILY_QUOTA_UNITS": "2000",
    }
    env.pop("DAGSTER_HOME", None)
    _cli(env, "projects", "add", "demo", "--channel", "omniva-demo")
    _cli(env, "projects", "add-creator", "demo", "sample")
    keys = {
        "admin": _cli(env, "api", "keys", "create", "--admin").stdout.strip(),
        "demo": _cli(env, "api", "keys", "create", "--project", "demo").stdout.strip(),
    }
    server = ApiServer.start(home, env, port, timeout=180)
    base = server.base
    clients = {
        name: httpx.Client(base_url=base, headers={"Authorization": f"Bearer {k}"}, timeout=300)
        for name, k in keys.items()
    }
    clients["anonymous"] = httpx.Client(base_url=base, timeout=60)
    try:
        yield {"home": home, "env": env, "keys": keys, "demo": demo, **clients}
    finally:
        server.stop()


def _instance(home: Path) -> dg.DagsterInstance:
    """The same instance, opened independently of the server."""
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home / "dagster")))


def _ok(resp: httpx.Response, status: int = 200) -> dict:
    body = resp.json()
    assert resp.status_code == status, body
    assert body["status"] == "success" and body["error"] is None
    assert body["meta"]["request_id"] and body["meta"]["generated_at"]
    return body["data"]


def _err(resp: httpx.Response, status: int, code: str) -> dict:
    body = resp.json()
    assert resp.status_code == status, body
    assert body["status"] == "error" and body["data"] is None and body["meta"]["request_id"]
    assert body["error"]["code"] == code and body["error"]["message"], body
    return body["error"]


def _db(api):
    return duckdb.connect(str(api["home"] / "omniva.duckdb"), read_only=True)


def _clips(api) -> list[dict]:
    return _ok(api["demo"].get("/v1/projects/proj_demo/clips", params={"limit": 500}))["items"]


def _state(api) -> dict:
    """Everything an action could touch: files under the working folder, Dagster's runs. The audit
    trail (warehouse/logs: every refused request leaves a row, #26) is not a side effect."""
    home = api["home"]
    files = {
        str(p.relative_to(home)): p.stat().st_mtime_ns
        for p in home.rglob("*")
        if p.is_file()
        and "dagster" not in p.parts
        and p.name != "api.log"
        and not str(p.relative_to(home)).startswith("warehouse/logs/")
    }
    return {"files": files, "runs": _instance(home).get_runs_count()}


# ------------------------------------------------------------------ quick: keys and the app's gate
def test_key_store_keeps_only_a_salted_hash_and_checks_it(tmp_path):
    store = KeyStore(tmp_path / "api" / "keys.json")
    token, key = store.create("proj_demo", "ci")
    other, _ = store.create("proj_demo")
    stored = (tmp_path / "api" / "keys.json").read_text()
    assert token.split("_", 2)[2] not in stored and other.split("_", 2)[2] not in stored
    hashes = [e["scrypt"] for e in json.loads(stored).values()]
    assert len(set(hashes)) == 2 and all(len(h) == 64 for h in hashes)
    assert store.verify(token).key_id == key.key_id and store.verify(token).allows("proj_demo")
    assert not store.verify(token).allows("proj_other")
    wrong_secret = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (wrong_secret, "", "omv_", token.replace("omv_", "xyz_"), f"omv_{'0' * 12}_{'a' * 43}"):
        assert store.verify(bad) is None, bad
    store.revoke(key.key_id)
    assert store.verify(token) is None and store.verify(other) is not None
    with pytest.raises(OmnivaError):
        store.revoke("nope")


def test_the_app_refuses_before_it_reads_anything(tmp_path):
    """401 before the body is read, 400/403/404 in the spec's wrapper; no Dagster involved."""
    from fastapi.testclient import TestClient

    from omniva.settings import Layout
    from omniva_app.api.app import ApiContext, create_app

    ctx = ApiContext(Layout(tmp_path))
    admin, _ = ctx.keys.create("*")
    scoped, _ = ctx.keys.create("proj_demo")
    client = TestClient(create_app(ctx))
    bearer = lambda token: {"Authorization": f"Bearer {token}"}  # noqa: E731
    assert client.get("/v1/openapi.json").status_code == 200
    _err(client.post("/v1/projects", content=b"{not json"), 401, "UNAUTHORIZED")
    _err(client.get("/v1/projects", headers=bearer(admin + "x")), 401, "UNAUTHORIZED")
    _err(client.post("/v1/projects", content=b"{not json", headers=bearer(admin)), 400, "INVALID_JSON")
    _err(client.post("/v1/projects", json={}, headers=bearer(admin)), 400, "VALIDATION_ERROR")
    _err(client.get("/v1/projects?offset=-1", headers=bearer(admin)), 400, "INVALID_PAGINATION")
    _err(client.post("/v1/projects", json={"name": "x"}, headers=bearer(scoped)), 403, "FORBIDDEN")
    _err(client.get("/v1/projects/proj_other", headers=bearer(scoped)), 403, "FORBIDDEN")
    _err(client.get("/v1/projects/proj_demo", headers=bearer(admin)), 404, "PROJECT_NOT_FOUND")
    # Nothing was read or written but the refusals' audit rows (warehouse/logs, #26).
    assert not (tmp_path / "projects.json").exists()
    assert {p.name for p in (tmp_path / "warehouse").iterdir()} <= {"logs"}
    created = _ok(client.post("/v1/projects", json={"name": "Creator Lab"}, headers=bearer(admin)), 201)
    assert created["project_id"] == "proj_creator-lab" and created["status"] == "PAUSED"
    listed = _ok(client.get("/v1/projects", headers=bearer(admin)))
    assert [p["project_id"] for p in listed["items"]] == ["proj_creator-lab"]
    assert listed["pagination"] == {"limit": 50, "offset": 0, "total": 1}
    assert _ok(client.get("/v1/projects", headers=bearer(scoped)))["items"] == []


def test_bodies_are_versioned_like_the_contracts_and_the_openapi_names_them(tmp_path):
    """A body at an unknown major schema_version gets 400 naming it; a minor bump is read; the
    OpenAPI document's answers reference the contract models (omniva/contracts.py)."""
    from fastapi.testclient import TestClient

    from omniva.settings import Layout
    from omniva_app.api.app import ApiContext, create_app

    ctx = ApiContext(Layout(tmp_path))
    admin, _ = ctx.keys.create("*")
    client = TestClient(create_app(ctx))
    auth = {"Authorization": f"Bearer {admin}"}
    err = _err(
        client.post("/v1/projects", json={"name": "x", "schema_version": "2.0.0"}, headers=auth),
        400,
        "UNSUPPORTED_SCHEMA_VERSION",
    )
    assert "2.0.0" in err["message"] and "1.x.y" in err["message"]
    assert not (tmp_path / "projects.json").exists()
    _err(
        client.post("/v1/projects", json={"name": "x", "schema_version": "one"}, headers=auth),
        400,
        "VALIDATION_ERROR",
    )
    created = _ok(
        client.post("/v1/projects", json={"name": "Lab", "schema_version": "1.2.0"}, headers=auth), 201
    )
    shown = _ok(client.get(f"/v1/projects/{created['project_id']}", headers=auth))
    assert "schema_version" not in json.dumps(shown["settings"])
    doc = client.get("/v1/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert schemas["ScrapeRequest"]["properties"]["schema_version"]["default"] == "1.0.0"
    assert schemas["ScrapeAnswer"]["properties"]["scraper_jobs"]["items"]["$ref"].endswith("/ScraperJob")
    assert schemas["ClipItem"]["properties"]["clip_candidate"]["$ref"].endswith("/ClipCandidate")
    clips = doc["paths"]["/v1/projects/{project_id}/clips"]["get"]["responses"]["200"]
    assert clips["content"]["application/json"]["schema"]["$ref"].endswith("/ClipsEnvelope")


# ------------------------------------------------------------------ description, auth, validation
@slow
def test_openapi_document_lists_every_spec_endpoint(api):
    doc = api["anonymous"].get("/v1/openapi.json").json()
    served = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert served >= SPEC_PATHS, SPEC_PATHS - served
    assert "HTTPBearer" in doc["components"]["securitySchemes"]
    scrape = doc["paths"]["/v1/projects/{project_id}/scrape"]["post"]
    assert scrape["responses"]["202"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ScrapeEnvelope"
    )
    assert scrape["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorEnvelope"
    )
    assert doc["components"]["schemas"]["ScrapeRequest"]["additionalProperties"] is False


@slow
def test_requests_without_a_valid_key_get_401_and_touch_nothing(api):
    clip = _clips(api)[0]["clip_id"]
    before = _state(api)
    wrong = api["keys"]["demo"][:-4] + "AAAA"
    attempts = [
        ("get", "/v1/projects", None),
        ("post", "/v1/projects", {"name": "intruder"}),
        (
            "post",
            "/v1/projects/proj_demo/creators",
            {"platform": "rss", "handle": "x", "profile_url": "http://a/b"},
        ),
        (
            "post",
            "/v1/projects/proj_demo/scrape",
            {"since": "2025-06-01", "until": "2025-06-02", "force": True},
        ),
        ("post", "/v1/projects/proj_demo/start", {"reason": "x"}),
        ("post", f"/v1/clips/{clip}/edit", {}),
        ("post", f"/v1/clips/{clip}/upload", {}),
        ("post", "/v1/projects/proj_demo/schedule", {}),
        ("get", "/v1/system/status", None),
    ]
    for headers in (
        {},
        {"Authorization": f"Bearer {wrong}"},
        {"Authorization": "Bearer nonsense"},
        {"X-API-Key": ""},
    ):
        for method, path, body in attempts:
            resp = api["anonymous"].request(method, path, json=body, headers=headers)
            _err(resp, 401, "UNAUTHORIZED")
            assert resp.headers["www-authenticate"] == "Bearer"
    # A revoked key stops working at once.
    token = _cli(api["env"], "api", "keys", "create", "--project", "demo").stdout.strip()
    key_id = token.split("_")[1]
    assert _ok(api["anonymous"].get("/v1/projects", headers={"Authorization": f"Bearer {token}"}))
    _cli(api["env"], "api", "keys", "revoke", key_id)
    _err(
        api["anonymous"].get("/v1/projects", headers={"Authorization": f"Bearer {token}"}),
        401,
        "UNAUTHORIZED",
    )
    after = _state(api)
    assert after["runs"] == before["runs"]
    changed = {k for k in after["files"] if before["files"].get(k) != after["files"][k]}
    # Only the key made and revoked above, and the refused requests' audit rows (#26).
    changed = {k for k in changed if not k.startswith("warehouse/logs/")}
    assert changed <= {"api/keys.json"}, changed


@slow
def test_keys_are_stored_hashed_and_scoped(api):
    stored = (api["home"] / "api" / "keys.json").read_text()
    for token in api["keys"].values():
        assert token.startswith("omv_") and token.split("_", 2)[2] not in stored
    assert oct((api["home"] / "api" / "keys.json").stat().st_mode & 0o777) == "0o600"
    # A project key sees its project only and cannot create projects.
    _err(api["demo"].post("/v1/projects", json={"name": "other"}), 403, "FORBIDDEN")
    other = _ok(api["admin"].post("/v1/projects", json={"name": "Other Channel"}), 201)
    assert other["project_id"] == "proj_other-channel" and other["status"] == "PAUSED"
    _err(api["admin"].post("/v1/projects", json={"name": "other channel"}), 409, "PROJECT_EXISTS")
    _err(api["demo"].get("/v1/projects/proj_other-channel"), 403, "FORBIDDEN")
    assert [p["project_id"] for p in _ok(api["demo"].get("/v1/projects"))["items"]] == ["proj_demo"]
    assert {p["project_id"] for p in _ok(api["admin"].get("/v1/projects"))["items"]} == {
        "proj_demo",
        "proj_other-channel",
    }
    token = _cli(api["env"], "api", "keys", "create", "--project", "proj_other-channel").stdout.strip()
    other_client = httpx.Client(
        base_url=str(api["demo"].base_url), headers={"Authorization": f"Bearer {token}"}
    )
    clip = _clips(api)[0]["clip_id"]
    _err(other_client.get(f"/v1/clips/{clip}"), 404, "CLIP_NOT_FOUND")
    _err(other_client.get(f"/v1/clips/{clip}/insights"), 404, "CLIP_NOT_FOUND")


@slow
def test_bad_payloads_are_refused_without_side_effects(api):
    c = api["demo"]
    clip = _clips(api)[0]["clip_id"]
    before = _state(api)
    raw = {"headers": {"content-type": "application/json"}}
    _err(c.post("/v1/projects/proj_demo/scrape", content=b'{"since": ', **raw), 400, "INVALID_JSON")
    err = _err(api["admin"].post("/v1/projects", json={"description": "no name"}), 400, "VALIDATION_ERROR")
    assert err["details"][0]["field"] == "name"
    _err(api["admin"].post("/v1/projects", json={"name": "x", "colour": "red"}), 400, "VALIDATION_ERROR")
    _err(
        api["admin"].post("/v1/projects", json={"name": "x", "scrape_window_days": 0}),
        400,
        "VALIDATION_ERROR",
    )
    _err(
        c.post("/v1/projects/proj_demo/scrape", json={"since": "2025-06-05", "until": "2025-06-01"}),
        400,
        "INVALID_DATE_RANGE",
    )
    _err(c.post("/v1/projects/proj_demo/scrape", json={"since": "not a date"}), 400, "VALIDATION_ERROR")
    _err(c.post("/v1/projects/proj_demo/scrape", json={"creator_ids": ["nobody"]}), 422, "UNKNOWN_CREATOR")
    _err(
        c.post("/v1/projects/proj_demo/creators", json={"platform": "rss", "handle": "@!!"}),
        422,
        "INVALID_HANDLE",
    )
    _err(
        c.post("/v1/projects/proj_demo/creators", json={"platform": "myspace", "handle": "a"}),
        400,
        "VALIDATION_ERROR",
    )
    _err(c.post(f"/v1/clips/{clip}/edit", json={"operations": ["explode"]}), 400, "VALIDATION_ERROR")
    _err(c.post(f"/v1/clips/{clip}/upload", json={"title": "a <b>"}), 400, "VALIDATION_ERROR")
    _err(c.post(f"/v1/clips/{clip}/upload", json={"keywords": ["k"] * 16}), 400, "VALIDATION_ERROR")
    _err(c.post(f"/v1/clips/{clip}/upload", json={"title": "fine"}), 422, "OVERRIDES_NOT_SUPPORTED")
    _err(
        c.post("/v1/projects/proj_demo/schedule", json={"target_day": "2025-13-01"}), 400, "VALIDATION_ERROR"
    )
    _err(c.get("/v1/projects", params={"limit": 0}), 400, "INVALID_PAGINATION")
    _err(c.get("/v1/projects/proj_demo/clips", params={"offset": -1}), 400, "INVALID_PAGINATION")
    _err(c.get("/v1/clips/00000000-0000-0000-0000-000000000000"), 404, "CLIP_NOT_FOUND")
    _err(c.post("/v1/clips/00000000-0000-0000-0000-000000000000/edit", json={}), 404, "CLIP_NOT_FOUND")
    _err(api["admin"].get("/v1/projects/proj_nope"), 404, "PROJECT_NOT_FOUND")
    _err(c.get("/v1/nowhere"), 404, "NOT_FOUND")
    after = _state(api)
    assert after == before


# ------------------------------------------------------------------ reads from the warehouse
@slow
def test_reads_match_the_warehouse(api):
    con = _db(api)
    n_clips = con.execute("SELECT count(*) FROM clips").fetchone()[0]
    n_videos = con.execute("SELECT count(*) FROM videos").fetchone()[0]
    n_uploads = con.execute("SELECT count(*) FROM upload_jobs").fetchone()[0]
    n_analysis = con.execute("SELECT count(*) FROM analysis").fetchone()[0]
    con.close()
    c = api["demo"]
    project = _ok(c.get("/v1/projects/proj_demo"))
    assert project["stats"]["videos_scraped"] == n_videos and project["stats"]["creators"] >= 1
    assert project["stats"]["clips_ready"] == n_clips
    first = _ok(c.get("/v1/projects/proj_demo/clips", params={"limit": 2}))
    assert len(first["items"]) == 2 and first["pagination"] == {"limit": 2, "offset": 0, "total": n_clips}
    rest = _ok(c.get("/v1/projects/proj_demo/clips", params={"limit": 500, "offset": 2}))
    ids = [x["clip_id"] for x in first["items"] + rest["items"]]
    assert len(set(ids)) == n_clips
    clip = first["items"][0]
    assert set(clip["pantheon_votes"]) >= {"strategist", "editor", "guardian", "audience"}
    detail = _ok(c.get(f"/v1/clips/{clip['clip_id']}"))
    assert detail["project_id"] == "proj_demo" and detail["edit_job"]["render_path"].endswith(".mp4")
    assert detail["upload_job"]["yt_video_id"] and detail["metadata"]["text"]
    uploads = _ok(c.get("/v1/projects/proj_demo/uploads"))
    assert uploads["pagination"]["total"] == n_uploads
    assert all(len(u["yt_video_id"]) == 11 for u in uploads["items"])
    schedule = _ok(c.get("/v1/projects/proj_demo/schedule"))["items"]
    assert schedule and all(s["status"] == "CONFIRMED" and s["reason"] for s in schedule)
    analysis = _ok(c.get("/v1/projects/proj_demo/analysis", params={"clip_status": "selected"}))
    assert analysis["pagination"]["total"] == n_analysis
    selected = [cand for a in analysis["items"] for cand in a["clip_candidates"]]
    assert {cand["clip_id"] for cand in selected} == set(ids)
    assert all(cand["selected_rank"] for cand in selected)
    creators = _ok(c.get("/v1/projects/proj_demo/creators"))["items"]
    assert creators[0]["handle"] == "sample" and creators[0]["videos_downloaded"] == n_videos
    assert creators[0]["last_scraped_at"]


@slow
def test_logs_read_the_run_events(api):
    data = _ok(
        api["demo"].get(
            "/v1/projects/proj_demo/logs",
            params={"level": "ERROR", "worker_type": "analyzer_worker", "limit": 500},
        )
    )
    messages = [i["message"] for i in data["items"]]
    assert any("the link is dead" in m for m in messages), messages
    assert any("not a readable media file" in m for m in messages)
    assert all(i["level"] == "ERROR" and i["metadata"]["job_name"] == "video_job" for i in data["items"])
    instance = _instance(api["home"])
    run_id = data["items"][0]["metadata"]["run_id"]
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
    page = _ok(api["demo"].get("/v1/projects/proj_demo/logs", params={"limit": 3, "offset": 1}))
    assert len(page["items"]) == 3 and page["pagination"]["total"] > 3


@slow
def test_insights_match_omniva_explain(api):
    clip = _clips(api)[1]["clip_id"]
    data = _ok(api["demo"].get(f"/v1/clips/{clip}/insights"))
    explained = _cli(api["env"], "explain", clip, "--markdown").stdout
    assert data["explanation"].strip() == explained.strip()
    as_json = json.loads(_cli(api["env"], "explain", clip, "--json").stdout)
    assert [(v["agent"], v["vote"], v["comment"]) for v in data["insights"]["pantheon"]] == [
        (v["agent"], v["vote"], v["reason"]) for v in as_json["votes"]
    ]
    assert data["insights"]["horizon"]["reason"] == as_json["schedule"]["reason"]
    assert data["insights"]["paradox"]["conflicts"] == []
    assert {c["check_name"] for c in data["insights"]["paradox"]["checks"]} >= {"shorts_spec"}
    assert data["trace_id"] and data["raw_payload"]["clip"]["clip_id"] == clip


@slow
def test_lineage_comes_from_dagster_and_matches_omniva_lineage(api):
    clip = _clips(api)[0]["clip_id"]
    data = _ok(api["demo"].get(f"/v1/clips/{clip}/lineage"))
    steps = [r["step"] for r in data["steps"]]
    assert steps[0] == "upload" and steps[-1] == "creator" and "video" in steps
    cli = json.loads(_cli(api["env"], "lineage", clip, "--json").stdout)
    assert [(r["step"], r["run_id"], r["checksum"]) for r in data["steps"]] == [
        (r["step"], r["run_id"], r["checksum"]) for r in cli
    ]
    instance = _instance(api["home"])
    for r in data["steps"]:  # each step is a materialization in Dagster's event log
        assert instance.get_run_by_id(r["run_id"]) is not None, r
    packets = [p["asset_key"] for p in data["packets"]]
    assert packets[0] == "uploads" and "videos" in packets and "creators" in packets


@slow
def test_a_clip_pantheon_did_not_select_is_refused(api):
    clip = _clips(api)[0]
    instance = _instance(api["home"])
    video = clip["video_key"]
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("clip_selections"), asset_partitions=[video]), limit=1
    ).records
    ranks = records[0].asset_materialization.metadata["ranks"].value
    from cognitive_sensors.zenith import decide_partitions

    (d,) = decide_partitions([f"9|{video}"], selected={video: ranks})
    assert d.action == "refuse" and "not selected by Pantheon" in d.reason
    assert set(instance.get_dynamic_partitions("clips")) >= {f"{r}|{video}" for r in ranks}
    assert f"9|{video}" not in instance.get_dynamic_partitions("clips")


@slow
def test_system_status_reports_instance_daemons_queue_quota_and_quarantine(api):
    data = _ok(api["demo"].get("/v1/system/status"))
    # A project key does not learn the server's paths (issue #16); an admin key does.
    assert "dagster_home" not in data["instance"] and str(api["home"]) not in json.dumps(data)
    assert _ok(api["admin"].get("/v1/system/status"))["instance"]["dagster_home"] == str(
        api["home"] / "dagster"
    )
    assert data["instance"]["run_coordinator"] == "QueuedRunCoordinator"
    assert "SENSOR" in data["daemons"] and data["daemons"]["SENSOR"]["healthy"] is False  # no daemon here
    assert data["queues"]["dagster_queued_runs"] == 0
    assert set(data["workers"]) >= {"scraper_worker", "editor_worker", "uploader_worker"}
    quota = {q["channel"]: q for q in data["quota"]}
    assert quota["omniva-demo"]["budget"] == 2000 and quota["omniva-demo"]["remaining"] <= 2000
    quarantined = {q["partition"][:28] for q in data["quarantined"]}
    assert {"sample-omniva-sample-corrupt", "sample-omniva-sample-deleted"} <= quarantined


# ------------------------------------------------------------------ actions are Dagster runs
@slow
def test_start_and_stop_switch_the_automation(api):
    c = api["demo"]
    names = {"creator_sensor", "video_sensor", "clip_sensor", "publish_plan_sensor", "upload_sensor"}

    def instigators():
        return {
            s.name: s.status.value
            for s in _instance(api["home"]).all_instigator_state()
            if s.name in names | {"daily_posts_schedule"}
        }

    started = _ok(c.post("/v1/projects/proj_demo/start", json={"reason": "scheduled_start"}))
    assert started["status"] == "RUNNING" and set(started["automation"].values()) == {"RUNNING"}
    assert instigators() == dict.fromkeys(names | {"daily_posts_schedule"}, "RUNNING")
    _err(c.post("/v1/projects/proj_demo/start", json={}), 409, "ALREADY_RUNNING")
    stopped = _ok(c.post("/v1/projects/proj_demo/stop", json={"reason": "manual_pause"}))
    assert stopped["status"] == "PAUSED" and "stopping" in stopped["message"]
    assert set(instigators().values()) == {"STOPPED"}
    _err(c.post("/v1/projects/proj_demo/stop"), 409, "ALREADY_STOPPED")


@slow
def test_scrape_launches_posts_runs_that_complete(api, tmp_path):
    c = api["demo"]
    with SampleSite(tmp_path / "site", port=free_port()) as site:
        # A loopback feed is refused through the API (issue #16): the operator registers it
        # from the CLI, and an admin key attaches it to the project.
        _err(
            c.post(
                "/v1/projects/proj_demo/creators",
                json={"platform": "rss", "handle": "@Sample2", "profile_url": site.feed_url},
            ),
            422,
            "UNSAFE_SOURCE",
        )
        _cli(api["env"], "creators", "add", "sample2", site.feed_url)
        creator = _ok(
            api["admin"].post(
                "/v1/projects/proj_demo/creators", json={"platform": "rss", "handle": "@Sample2"}
            ),
            201,
        )
        assert creator["handle"] == "sample2" and creator["status"] == "ACTIVE"
        _err(
            c.post("/v1/projects/proj_demo/creators", json={"platform": "rss", "handle": "sample2"}),
            409,
            "CREATOR_EXISTS",
        )
        data = _ok(
            c.post(
                "/v1/projects/proj_demo/scrape",
                params={"wait": 240},
                json={
                    "creator_ids": [creator["creator_id"]],
                    "since": "2025-06-02T00:00:00Z",
                    "until": "2025-06-03",
                },
            ),
            202,
        )
    assert data["status"] == "DONE" and data["queued_creators"] == 1
    posts = [r for r in data["runs"] if r["job_name"] == "posts_job"]
    assert [r["partition"] for r in posts] == ["sample2|2025-06-02", "sample2|2025-06-03"]
    instance = _instance(api["home"])
    for run in data["runs"]:
        assert instance.get_run_by_id(run["run_id"]).status == dg.DagsterRunStatus.SUCCESS
        assert run["dagster_ui"].endswith(run["run_id"])
    assert {"sample2|2025-06-02", "sample2|2025-06-03"} <= instance.get_materialized_partitions(
        dg.AssetKey("posts")
    )
    job = _ok(c.get(f"/v1/jobs/{data['job_id']}"))
    assert job["status"] == "DONE" and job["run_ids"] == data["run_ids"]
    status = _ok(c.get("/v1/projects/proj_demo/scrape/status"))["jobs"]
    mine = [j for j in status if j["job_id"] == data["job_id"]]
    assert len(mine) == 2 and all(j["status"] == "DONE" and j["videos_found"] for j in mine)
    # Asking again skips what is done (Zenith), unless forced.
    again = _ok(
        c.post(
            "/v1/projects/proj_demo/scrape",
            json={"creator_ids": ["sample2"], "since": "2025-06-02", "until": "2025-06-03"},
        )
    )
    assert again["status"] == "NOTHING_TO_DO" and {d["reason"] for d in again["decisions"]} == {
        "already materialized"
    }


@slow
def test_edit_re_materializes_the_clip_render(api):
    c = api["demo"]
    clip = _clips(api)[0]
    instance = _instance(api["home"])
    key = _ok(c.get(f"/v1/clips/{clip['clip_id']}"))["partition"]
    before = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("renders"), asset_partitions=[key]), limit=1
    ).records[0]
    data = _ok(
        c.post(
            f"/v1/clips/{clip['clip_id']}/edit",
            params={"wait": 400},
            json={"operations": ["autocut", "reframe", "captions"], "priority": "high"},
        ),
        202,
    )
    assert data["status"] == "DONE" and data["partition"] == key and data["edit_job_id"]
    run = instance.get_run_by_id(data["run_id"])
    assert run.status == dg.DagsterRunStatus.SUCCESS and run.job_name == "clip_job"
    assert run.tags["dagster/partition"] == key and run.tags["omniva/launched_by"] == "omniva-api"
    after = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("renders"), asset_partitions=[key]), limit=1
    ).records[0]
    assert after.storage_id > before.storage_id and after.run_id == data["run_id"]
    # Only the render was re-made: the edit decision list is the one the demo made.
    assert not [
        r
        for r in instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("clips"), asset_partitions=[key]), limit=5
        ).records
        if r.run_id == data["run_id"]
    ]


@slow
def test_upload_uploads_then_defers_over_quota_with_a_reason(api):
    c = api["demo"]
    clips = _clips(api)
    instance = _instance(api["home"])
    # The demo uploaded every clip to its own emulator; this server publishes to another
    # one, whose project may spend 2,000 units a day: one upload (1,650 units, plus 2 for the
    # marker lookup on the channel before the session opens) fits.
    first = _ok(c.post(f"/v1/clips/{clips[0]['clip_id']}/upload", params={"wait": 240}), 202)
    assert first["status"] == "DONE" and first["deferred"] is False and len(first["yt_video_id"]) == 11
    assert instance.get_run_by_id(first["run_id"]).status == dg.DagsterRunStatus.SUCCESS
    _err(c.post(f"/v1/clips/{clips[0]['clip_id']}/upload"), 409, "UPLOAD_EXISTS")

    second = _ok(c.post(f"/v1/clips/{clips[1]['clip_id']}/upload", params={"wait": 240}), 202)
    assert second["status"] == "DEFERRED" and second["deferred"] is True
    assert "quota" in second["reason"]
    assert "has used 1652 of its 2000 today" in second["reason"], second["reason"]
    assert second["deferred_until"].endswith("Z")
    run = instance.get_run_by_id(second["run_id"])
    assert run.status == dg.DagsterRunStatus.SUCCESS and run.job_name == "upload_job"
    events = instance.get_records_for_run(run.run_id).records
    kinds = [(e.event_log_entry.dagster_event_type, e.event_log_entry.step_key) for e in events]
    assert (dg.DagsterEventType.ASSET_OBSERVATION, "uploads") in kinds
    assert (dg.DagsterEventType.ASSET_MATERIALIZATION, "uploads") not in kinds  # deferred, not uploaded
    detail = _ok(c.get(f"/v1/clips/{clips[1]['clip_id']}"))
    assert detail["upload_job"]["status"] == "DEFERRED"
    job = _ok(c.get(f"/v1/jobs/{second['job_id']}"))
    assert job["status"] == "DEFERRED" and job["result"]["deferred_until"] == second["deferred_until"]
    status = _ok(c.get("/v1/system/status"))
    quota = {q["channel"]: q for q in status["quota"]}["omniva-demo"]
    assert quota["used"] == 1652 and quota["remaining"] == 348


@slow
def test_schedule_reruns_the_publish_plan(api):
    data = _ok(
        api["demo"].post(
            "/v1/projects/proj_demo/schedule", params={"wait": 120}, json={"reason": "manual_rebalance"}
        ),
        202,
    )
    assert data["status"] == "DONE" and data["jobs_considered"] >= 1 and data["updated"] == 0
    run = _instance(api["home"]).get_run_by_id(data["run_id"])
    assert run.status == dg.DagsterRunStatus.SUCCESS and run.job_name == "publish_plan_job"
    # Every action the API took left an audit line in the warehouse logs (Stardust).
    wh = Warehouse(api["home"] / "warehouse", api["home"] / "omniva.duckdb")
    audit = [r["message"] for r in wh.query("SELECT message FROM logs WHERE source = 'api'")]
    assert any(m.startswith("schedule ") for m in audit) and any(m.startswith("upload ") for m in audit)


# ------------------------------------------------------------------ through the queue: webserver + daemon
def _wait_http(url: str, proc: subprocess.Popen, log: Path, seconds: float = 240) -> None:
    deadline = time.time() + seconds
    while True:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        assert proc.poll() is None and time.time() < deadline, log.read_text()[-3000:]
        time.sleep(1)


@pytest.fixture(scope="module")
def queued_api(api):
    """A Dagster webserver and daemon on the same instance, and a second API server that
    launches its runs through the webserver's GraphQL API (the instance queues them, the
    daemon runs them), as a deployment would."""
    home, web_port, port = api["home"], free_port(), free_port()
    env = {**api["env"], "DAGSTER_HOME": str(home / "dagster")}
    procs = []

    def start(name: str, cmd: list[str], extra: dict | None = None) -> tuple[subprocess.Popen, Path]:
        log = home / f"{name}.log"
        proc = subprocess.Popen(
            cmd,
            env={**env, **(extra or {})},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,  # its code servers go with it at teardown
        )
        procs.append(proc)
        return proc, log

    bin_dir = Path(sys.executable).parent
    try:
        web, web_log = start(
            "webserver",
            [
                str(bin_dir / "dagster-webserver"),
                "-w",
                "workspace.yaml",
                "-h",
                "127.0.0.1",
                "-p",
                str(web_port),
            ],
        )
        start("daemon", [str(bin_dir / "dagster-daemon"), "run", "-w", "workspace.yaml"])
        _wait_http(f"http://127.0.0.1:{web_port}/server_info", web, web_log)
        server, log = start(
            "api-queued",
            [sys.executable, "-m", "omniva_app.cli", "api", "--port", str(port)],
            {"OMNIVA_DAGSTER_GRAPHQL": f"http://127.0.0.1:{web_port}"},
        )
        _wait_http(f"http://127.0.0.1:{port}/v1/openapi.json", server, log)
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {api['keys']['demo']}"},
            timeout=300,
        )
        deadline = time.time() + 120
        while not all(d["healthy"] for d in _ok(client.get("/v1/system/status"))["daemons"].values()):
            assert time.time() < deadline, (home / "daemon.log").read_text()[-3000:]
            time.sleep(2)
        yield {**api, "queued": client}
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)


def _finished(client: httpx.Client, job_id: str, seconds: float = 400) -> dict:
    deadline = time.time() + seconds
    while True:
        job = _ok(client.get(f"/v1/jobs/{job_id}"))
        if job["completed_at"]:
            return job
        assert time.time() < deadline, job
        time.sleep(2)


@slow
def test_queued_scrape_goes_through_the_daemon_and_completes(queued_api, tmp_path):
    c = queued_api["queued"]
    status = _ok(c.get("/v1/system/status"))
    assert status["instance"]["api_launches"] == "GraphQL"  # the webserver's address: admins only
    assert all(d["healthy"] and d["last_heartbeat"] for d in status["daemons"].values())
    with SampleSite(tmp_path / "site", port=free_port()) as site:
        # A loopback feed: registered from the CLI (the API refuses it, issue #16).
        _cli(queued_api["env"], "creators", "add", "sample3", site.feed_url, "--project", "demo")
        data = _ok(
            c.post(
                "/v1/projects/proj_demo/scrape",
                json={"creator_ids": ["sample3"], "since": "2025-06-03", "until": "2025-06-03"},
            ),
            202,
        )
        # Dagster gave the run ids at once; the runs wait in the instance's queue.
        assert len(data["run_ids"]) == 2 and data["status"] in ("QUEUED", "RUNNING")
        job = _finished(c, data["job_id"])
    assert job["status"] == "DONE", job
    instance = _instance(queued_api["home"])
    for run_id in data["run_ids"]:
        run = instance.get_run_by_id(run_id)
        assert run.status == dg.DagsterRunStatus.SUCCESS and run.tags["omniva/api_job"] == data["job_id"]
        kinds = {r.event_log_entry.dagster_event_type for r in instance.get_records_for_run(run_id).records}
        assert {dg.DagsterEventType.RUN_ENQUEUED, dg.DagsterEventType.RUN_STARTING} <= kinds  # queue, daemon
    assert "sample3|2025-06-03" in instance.get_materialized_partitions(dg.AssetKey("posts"))


@slow
def test_queued_upload_over_quota_is_deferred_with_a_reason(queued_api):
    c = queued_api["queued"]
    clip = _clips(queued_api)[2]["clip_id"]  # not uploaded to this target; the day's quota is spent
    data = _ok(c.post(f"/v1/clips/{clip}/upload", params={"wait": 0}), 202)
    assert data["run_id"] and data["status"] in ("QUEUED", "RUNNING")
    job = _finished(c, data["job_id"])
    assert job["status"] == "DEFERRED" and "has used 1652 of its 2000 today" in job["result"]["reason"]
    run = _instance(queued_api["home"]).get_run_by_id(data["run_id"])
    assert run.status == dg.DagsterRunStatus.SUCCESS and run.job_name == "upload_job"
