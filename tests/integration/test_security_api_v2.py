"""Issue #26 parts 4-5: automation per project, and the API's hygiene.

Through a real `omniva api` over a small working folder of its own (projects alpha and beta,
a folder creator in each, no demo): beta's start and stop leave alpha's automation as it was
and name no other project; parallel first requests with a fresh valid key all pass; no
``Location`` is built from ``Host``; error bodies stay small; refused requests leave audit
rows, a bounded number under a flood. Without the server: a sensor tick and the launch policy
skip a stopped project's creator, saying why, and the API's job files are owner-only.
"""

import json
import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import httpx
import pytest

from omniva.settings import Layout
from omniva_app.api.dagster_ops import Actions, ApiJob, PlannedRun
from omniva_app.api.keys import KeyStore
from omniva_assets.partitions import creators_partitions
from omniva_assets.policy import LaunchPolicy
from omniva_assets.scraper.sensors import creator_sensor, daily_posts_schedule, folder_sensor
from omniva_resources import creators, projects
from omniva_resources.resources import OmnivaStore, ScrapeSettings, resources_from_env
from omniva_resources.warehouse import Warehouse
from tests.conftest import ApiServer, cli_ok, free_port

RATE_LIMIT = 300  # requests a minute per key: the tests below stay under it
SENSORS = {"creator_sensor", "video_sensor", "clip_sensor", "publish_plan_sensor", "upload_sensor"}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    home = tmp_path_factory.mktemp("security_v2") / "home"
    port = free_port()
    env = {
        **os.environ,
        "OMNIVA_HOME": str(home),
        "OMNIVA_YOUTUBE_API_ROOT": f"http://127.0.0.1:{free_port()}/",
        "OMNIVA_API_RATE_LIMIT": str(RATE_LIMIT),
    }
    env.pop("DAGSTER_HOME", None)
    for name in ("alpha", "beta"):
        cli_ok(env, "projects", "add", name, "--channel", f"{name}-channel")
        feed = home / f"{name}-feed"
        feed.mkdir()
        cli_ok(env, "creators", "add", f"{name}-feed", str(feed), "--project", name)
    store = KeyStore(home / "api" / "keys.json")
    tokens = {"admin": store.create("*", "admin")[0]}
    for name in ("alpha", "beta", "locked"):
        tokens[name] = store.create("proj_beta" if name == "beta" else "proj_alpha", name)[0]
    server = ApiServer.start(home, env, port, timeout=300)
    clients = {
        name: httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {t}"}, timeout=120)
        for name, t in tokens.items()
    }
    try:
        yield {"home": home, "base": server.base, "tokens": tokens, "keys": store, **clients}
    finally:
        server.stop()


def _ok(resp: httpx.Response) -> dict:
    body = resp.json()
    assert resp.status_code == 200 and body["status"] == "success", body
    return body["data"]


def _err(resp: httpx.Response, status: int, code: str) -> dict:
    body = resp.json()
    assert resp.status_code == status and body["status"] == "error", body
    assert body["error"]["code"] == code, body
    return body["error"]


def _key_id(token: str) -> str:
    return token.split("_")[1]


def _refusals(home: Path) -> list[dict]:
    rows = Warehouse(home / "warehouse", home / "omniva.duckdb").query(
        "SELECT message, metadata FROM logs WHERE source = 'api' AND level = 'WARNING'"
    )
    return [{"message": r["message"], **json.loads(r["metadata"])} for r in rows]


# ------------------------------------------------------------------ automation per project
@pytest.mark.slow
def test_betas_start_and_stop_leave_alphas_automation_as_it_was(api):
    lay = Layout(api["home"])
    # alpha was never started: beta's start switches the sensors on, but not for alpha's creator
    started = _ok(api["beta"].post("/v1/projects/proj_beta/start", json={"reason": "beta goes"}))
    assert started["status"] == "RUNNING" and set(started["automation"].values()) == {"RUNNING"}
    assert "alpha" not in json.dumps(started)
    assert _ok(api["alpha"].get("/v1/projects/proj_alpha"))["status"] == "PAUSED"
    assert projects.stopped_creators(lay) == {"alpha-feed": "alpha"}
    stopped = _ok(api["beta"].post("/v1/projects/proj_beta/stop"))
    assert stopped["status"] == "PAUSED" and "alpha" not in json.dumps(stopped)
    assert set(stopped["automation"].values()) == {"STOPPED"}  # no project is left running

    # alpha runs: beta's start and stop leave it running, and the sensors with it
    _ok(api["alpha"].post("/v1/projects/proj_alpha/start"))
    for action in ("start", "stop"):
        answer = _ok(api["beta"].post(f"/v1/projects/proj_beta/{action}"))
        assert "alpha" not in json.dumps(answer), answer
        assert _ok(api["alpha"].get("/v1/projects/proj_alpha"))["status"] == "RUNNING"
        assert set(answer["automation"].values()) == {"RUNNING"}, answer
    assert projects.get_project("alpha", lay).automation == "on"
    assert projects.get_project("beta", lay).automation == "off"
    assert projects.stopped_creators(lay) == {"beta-feed": "beta"}
    listed = _ok(api["beta"].get("/v1/projects"))["items"]
    assert [p["project_id"] for p in listed] == ["proj_beta"]
    # an admin sees both
    states = {p["project_id"]: p["status"] for p in _ok(api["admin"].get("/v1/projects"))["items"]}
    assert states == {"proj_alpha": "RUNNING", "proj_beta": "PAUSED"}
    last = _ok(api["alpha"].post("/v1/projects/proj_alpha/stop"))
    assert set(last["automation"].values()) == {"STOPPED"}


def _homes(tmp_path: Path) -> tuple[Layout, OmnivaStore]:
    lay = Layout(tmp_path)
    for name in ("alpha", "beta"):
        projects.add_project(name, f"{name}-channel", lay=lay)
        folder = tmp_path / f"{name}-files"
        folder.mkdir()
        (folder / "2025-06-02 clip.mp4").write_bytes(b"not really a video")
        creators.add(lay, f"{name}-c", str(folder), project=name)
    creators.add(lay, "free-c", "https://example.org/feed.xml")  # no project: always served
    projects.set_automation("beta", True, lay=lay)
    projects.set_automation("alpha", False, reason="paused by alpha", lay=lay)
    return lay, OmnivaStore(home=str(tmp_path))


def test_a_sensor_tick_skips_the_stopped_projects_creator_saying_why(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNIVA_HOME", str(tmp_path))
    _, store = _homes(tmp_path)
    with dg.instance_for_test() as instance:
        result = creator_sensor(dg.build_sensor_context(instance=instance), store=store)
        assert sorted(r.partition_key for r in result.run_requests) == ["beta-c", "free-c"]
        instance.add_dynamic_partitions(creators_partitions.name, ["alpha-c", "beta-c", "free-c"])
        again = creator_sensor(dg.build_sensor_context(instance=instance), store=store)
        assert isinstance(again, dg.SkipReason)
        with dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime(2025, 6, 3, 6, 0, tzinfo=UTC),
            resources={"store": store},
        ) as ctx:
            requests = daily_posts_schedule(ctx)
        assert sorted(str(r.partition_key) for r in requests) == ["beta-c|2025-06-02", "free-c|2025-06-02"]
        folders = folder_sensor(
            dg.build_sensor_context(instance=instance),
            store=store,
            scrape=ScrapeSettings(folder_settle_s=0),
        )
        assert {r.tags["omniva/creator"] for r in folders.run_requests} == {"beta-c"}
        # alpha's files are listed once alpha starts again (its cursor kept nothing of them)
        projects.set_automation("alpha", True, lay=Layout(tmp_path))
        later = folder_sensor(
            dg.build_sensor_context(instance=instance, cursor=folders.cursor),
            store=store,
            scrape=ScrapeSettings(folder_settle_s=0),
        )
        assert {r.tags["omniva/creator"] for r in later.run_requests} == {"alpha-c"}

        # the launch policy every other sensor calls: skipped with the reason; the operator's
        # explicit `omniva run` (source omniva-cli) runs it
        projects.set_automation("alpha", False, lay=Layout(tmp_path))
        policy = LaunchPolicy.of(instance, {**resources_from_env(), "store": store})
        owners = {"v1": "alpha-c", "v2": "beta-c", "v3": "free-c"}
        monkeypatch.setattr(policy, "_priorities", lambda stage, keys, listed: (None, owners))
        plan = policy.plan("video", ["v1", "v2", "v3"], "video_sensor")
        assert [la.partition_key for la in plan.launches] == ["v2", "v3"]
        assert ("v1", "skip", "project proj_alpha is stopped") in [
            (d.partition_key, d.action, d.reason) for d in plan.decisions
        ]
        explicit = policy.plan("video", ["v1"], "omniva-cli")
        assert [la.partition_key for la in explicit.launches] == ["v1"]
        assert policy.stopped_note("alpha-c") and policy.stopped_note("beta-c") is None


# ------------------------------------------------------------------ API hygiene
@pytest.mark.slow
def test_parallel_first_requests_with_a_fresh_valid_key_all_pass(api):
    token, _ = api["keys"].create("proj_beta", "fresh")
    answers: list[int] = []
    ready = threading.Barrier(16)

    def first() -> None:
        with httpx.Client(base_url=api["base"], timeout=120) as c:
            assert c.get("/v1/openapi.json").status_code == 200  # connected: all fire at once
            ready.wait()
            answers.append(c.get("/v1/projects", headers={"Authorization": f"Bearer {token}"}).status_code)

    threads = [threading.Thread(target=first) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [200] * 16, answers


@pytest.mark.slow
def test_a_trailing_slash_gets_no_location_from_the_host_header(api):
    for path in ("/v1/projects/", "/v1/projects/proj_beta/"):
        resp = api["beta"].get(path, headers={"Host": "evil.example"})
        assert "location" not in resp.headers, resp.headers
        assert "evil.example" not in resp.text
        _err(resp, 404, "NOT_FOUND")


@pytest.mark.slow
def test_error_bodies_stay_small(api):
    fields = ",".join(f'"field_{i:06d}":0' for i in range(60_000))
    body = "{" + fields + "}"
    assert 1_000_000 <= len(body) < 1024 * 1024
    resp = api["beta"].post(
        "/v1/projects/proj_beta/start", content=body, headers={"Content-Type": "application/json"}
    )
    error = _err(resp, 400, "VALIDATION_ERROR")
    assert len(resp.content) < 8000, len(resp.content)
    assert len(error["details"]) <= 21 and "more" in error["message"]

    long_id = "proj_" + "x" * 8000
    for client, status, code in (("admin", 404, "PROJECT_NOT_FOUND"), ("beta", 403, "FORBIDDEN")):
        resp = api[client].get(f"/v1/projects/{long_id}")
        _err(resp, status, code)
        assert len(resp.content) < 2000 and "x" * 100 not in resp.text, resp.text[:300]


@pytest.mark.slow
def test_refused_requests_leave_audit_rows_and_a_flood_leaves_a_bounded_number(api):
    home = api["home"]
    beta = _key_id(api["tokens"]["beta"])
    _err(api["beta"].get("/v1/projects/proj_alpha"), 403, "FORBIDDEN")
    _err(api["beta"].get("/v1/nothing-here"), 404, "NOT_FOUND")
    _err(api["beta"].get("/v1/clips/clip_nope"), 404, "CLIP_NOT_FOUND")
    locked = api["tokens"]["locked"]
    wrong = {"Authorization": f"Bearer {locked[:-4]}{'AAAA' if not locked.endswith('AAAA') else 'BBBB'}"}
    with httpx.Client(base_url=api["base"], timeout=120) as anon:
        for _ in range(10):
            _err(anon.get("/v1/projects", headers=wrong), 401, "UNAUTHORIZED")
        _err(anon.get("/v1/projects", headers=wrong), 429, "TOO_MANY_ATTEMPTS")
    rows = _refusals(home)
    seen = {(r["key_id"], r["path"], r["status"], r["code"]) for r in rows}
    assert {
        (beta, "/v1/projects/proj_alpha", 403, "FORBIDDEN"),
        (beta, "/v1/nothing-here", 404, "NOT_FOUND"),
        (beta, "/v1/clips/clip_nope", 404, "CLIP_NOT_FOUND"),
        (_key_id(locked), "/v1/projects", 401, "UNAUTHORIZED"),
        (_key_id(locked), "/v1/projects", 429, "TOO_MANY_ATTEMPTS"),
    } <= seen, seen
    assert all(r["reason"] for r in rows)

    before = len(rows)
    with httpx.Client(base_url=api["base"], timeout=120) as anon:
        for i in range(1000):
            assert anon.get(f"/v1/flood/{i}", headers={"Authorization": "Bearer nope"}).status_code == 401
    # 20 rows per key id (here: every invented one together) a minute; a minute's turn in
    # the middle of the flood at most doubles that
    flood = [r for r in _refusals(home) if r["path"].startswith("/v1/flood/")]
    assert 1 <= len(flood) <= 40, len(flood)
    assert len(_refusals(home)) - before <= 40
    # the flood did not silence another key's refusals
    _err(api["beta"].get("/v1/projects/proj_alpha/clips"), 403, "FORBIDDEN")
    assert any(r["path"] == "/v1/projects/proj_alpha/clips" for r in _refusals(home))


def test_api_job_files_are_owner_only(tmp_path):
    actions = Actions.__new__(Actions)  # only the job files: no Dagster needed
    actions.jobs_dir = tmp_path / "api" / "jobs"
    job = ApiJob(
        "scrape_0123456789ab", "scrape", "proj_beta", [PlannedRun("r1", "posts_job", None, "posts", {})]
    )
    actions._save(job)
    path = actions.jobs_dir / "scrape_0123456789ab.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(actions.jobs_dir.stat().st_mode) == 0o700
    assert json.loads(path.read_text())["job_id"] == "scrape_0123456789ab"
    assert [p.name for p in actions.jobs_dir.iterdir()] == ["scrape_0123456789ab.json"]
