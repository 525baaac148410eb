"""Issue #16 (ownership, bounded input): three projects on a copy of the demo's instance, each
with its own key, tried by one another as an attacker with a valid key would.

alpha owns the demo's creator ``sample`` (its clips, uploads, schedule, logs); beta and gamma
own nothing. Through the real ``omniva api`` server: beta and gamma can neither take nor
rewrite ``sample``, read or act on anything of alpha's, nor see alpha in the system status; a
channel name that is a path, unsafe source URLs and out-of-range pagination are refused with
nothing written; and a small fuzz of the GET routes' path and query parameters never gets a
500 nor a byte of another project's data.
"""

import json
import os
import random
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

import dagster as dg
import httpx
import pytest
from dagster._core.instance.ref import InstanceRef

from omniva.settings import Layout
from omniva_resources import projects
from tests.conftest import ApiServer, free_port

pytestmark = pytest.mark.slow  # on the demo's data (its session fixture)

ROOT = Path(__file__).resolve().parents[2]
CHANNELS = {"alpha": "alpha-shorts", "beta": "beta-shorts", "gamma": "gamma-shorts"}


def cli(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [sys.executable, "-m", "omniva_app.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0 or not check, out.stdout + out.stderr
    return out


def ok(resp: httpx.Response, status: int = 200) -> dict:
    body = resp.json()
    assert resp.status_code == status, body
    return body["data"]


def err(resp: httpx.Response, status: int, code: str) -> dict:
    body = resp.json()
    assert resp.status_code == status, body
    assert body["status"] == "error" and body["data"] is None and body["error"]["code"] == code, body
    assert resp.headers.get("x-request-id"), resp.headers
    return body["error"]


def instance(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home / "dagster")))


def state(home: Path) -> dict:
    """What a refused request must not change: files of the working folder (the warehouse
    included, but for the audit rows refusals leave in its ``logs`` table, #26), Dagster's runs."""
    audit = home / "warehouse" / "logs"
    files = {
        str(p.relative_to(home)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in home.rglob("*")
        if p.is_file()
        and "dagster" not in p.parts
        and p.suffix not in (".log", ".lock")
        and audit not in p.parents
    }
    return {"files": files, "runs": instance(home).get_runs_count()}


def assert_unchanged(before: dict, after: dict) -> None:
    assert after["runs"] == before["runs"]
    names = before["files"].keys() | after["files"].keys()
    changed = {k for k in names if before["files"].get(k) != after["files"].get(k)}
    assert not changed, changed


@pytest.fixture(scope="module")
def sec(demo, tmp_path_factory):
    home = tmp_path_factory.mktemp("security") / "home"
    shutil.copytree(demo["home"], home, symlinks=True)
    port, yt_port = free_port(), free_port()
    env = {
        **os.environ,
        "OMNIVA_HOME": str(home),
        "OMNIVA_YOUTUBE_API_ROOT": f"http://127.0.0.1:{yt_port}/",
    }
    env.pop("DAGSTER_HOME", None)
    for name, channel in CHANNELS.items():
        cli(env, "projects", "add", name, "--channel", channel)
    cli(env, "projects", "remove-creator", "demo", "sample")  # the demo's project had it
    cli(env, "projects", "add-creator", "alpha", "sample")
    keys = {"admin": cli(env, "api", "keys", "create", "--admin").stdout.strip()}
    for name in CHANNELS:
        keys[name] = cli(env, "api", "keys", "create", "--project", name).stdout.strip()
    server = ApiServer.start(home, env, port, timeout=180)
    base = server.base
    clients = {
        name: httpx.Client(base_url=base, headers={"Authorization": f"Bearer {k}"}, timeout=300)
        for name, k in keys.items()
    }
    alpha_clips = ok(clients["alpha"].get("/v1/projects/proj_alpha/clips", params={"limit": 500}))["items"]
    assert alpha_clips, "the demo made clips for sample"
    try:
        yield {"home": home, "env": env, "clips": alpha_clips, **clients}
    finally:
        server.stop()


def alphas_marks(sec) -> set[str]:
    """Strings that only alpha's data contains: its clip ids and video keys."""
    return {c["clip_id"] for c in sec["clips"]} | {c["video_key"] for c in sec["clips"]}


def assert_nothing_of_alpha(sec, resp: httpx.Response) -> None:
    text = resp.text
    asked = urllib.parse.unquote(str(resp.request.url))  # the caller's own input may be echoed
    leaked = [m for m in alphas_marks(sec) if m in text and m not in asked]
    assert not leaked, (resp.request.url, leaked[:3], text[:500])
    assert str(sec["home"]) not in text, (resp.request.url, text[:500])


# ------------------------------------------------------------------ 1. ownership of creators
def test_another_project_can_neither_take_nor_rewrite_alphas_creator(sec):
    home = sec["home"]
    creators_file = (home / "creators.json").read_bytes()
    before = state(home)
    for who in ("beta", "gamma"):
        for body in (
            {"platform": "rss", "handle": "sample"},
            {"platform": "rss", "handle": "@Sample"},
            {"platform": "rss", "handle": "sample", "profile_url": "http://attacker.invalid/feed.xml"},
        ):
            e = err(sec[who].post(f"/v1/projects/proj_{who}/creators", json=body), 409, "CREATOR_OWNED")
            assert "alpha" not in e["message"], e  # the owner is named to admins only
    # A project key cannot claim a creator of the admin scope (registered from the CLI) either.
    cli(sec["env"], "creators", "add", "loner", "https://example.org/loner.xml")
    before = state(home)
    err(
        sec["beta"].post("/v1/projects/proj_beta/creators", json={"platform": "rss", "handle": "loner"}),
        409,
        "CREATOR_OWNED",
    )
    # An admin is told who owns it, and still cannot put it in a second project.
    e = err(
        sec["admin"].post("/v1/projects/proj_gamma/creators", json={"platform": "rss", "handle": "sample"}),
        409,
        "CREATOR_OWNED",
    )
    assert "proj_alpha" in e["message"]
    assert_unchanged(before, state(home))
    assert json.loads((home / "creators.json").read_bytes())["sample"] == json.loads(creators_file)["sample"]
    # The channel follows the owner: no third project moved alpha's clips to its channel.
    lay = Layout(home)
    assert projects.project_of("sample", lay).name == "alpha"
    assert projects.channels_by_creator(lay, "default")["sample"] == "alpha-shorts"
    # What alpha sees is unchanged.
    listed = ok(sec["alpha"].get("/v1/projects/proj_alpha/creators"))["items"]
    assert [c["handle"] for c in listed] == ["sample"]
    assert ok(sec["beta"].get("/v1/projects/proj_beta/creators"))["items"] == []


# ------------------------------------------------------------------ 2. no path into alpha's data
def test_another_projects_key_reads_nothing_of_alphas_and_acts_on_nothing(sec):
    home = sec["home"]
    clip = sec["clips"][0]["clip_id"]
    assert ok(sec["alpha"].get(f"/v1/clips/{clip}"))["project_id"] == "proj_alpha"
    assert ok(sec["admin"].get(f"/v1/clips/{clip}"))["project_id"] == "proj_alpha"
    before = state(home)
    for who in ("beta", "gamma"):
        c = sec[who]
        for resp in (
            c.get(f"/v1/clips/{clip}"),
            c.get(f"/v1/clips/{clip}/insights"),
            c.post(f"/v1/clips/{clip}/edit", json={}),
            c.post(f"/v1/clips/{clip}/upload"),
        ):
            err(resp, 404, "CLIP_NOT_FOUND")
            assert_nothing_of_alpha(sec, resp)
        for path in (
            "",
            "/clips",
            "/uploads",
            "/schedule",
            "/analysis",
            "/logs",
            "/creators",
            "/scrape/status",
        ):
            resp = c.get(f"/v1/projects/proj_alpha{path}")
            err(resp, 403, "FORBIDDEN")
            assert_nothing_of_alpha(sec, resp)
        for path, body in (
            ("/schedule", {}),
            ("/scrape", {"since": "2025-06-01", "until": "2025-06-01"}),
            ("/start", {}),
            ("/stop", {}),
            (
                "/creators",
                {"platform": "rss", "handle": "new-one", "profile_url": "https://example.org/f.xml"},
            ),
        ):
            err(c.post(f"/v1/projects/proj_alpha{path}", json=body), 403, "FORBIDDEN")
        # Its own project lists nothing of alpha's.
        for path in ("/clips", "/uploads", "/schedule", "/analysis", "/logs", "/scrape/status"):
            resp = c.get(f"/v1/projects/proj_{who}{path}")
            assert resp.status_code == 200, resp.text
            assert_nothing_of_alpha(sec, resp)
        e = err(
            c.post(
                f"/v1/projects/proj_{who}/scrape", json={"creator_ids": ["sample"], "since": "2025-06-01"}
            ),
            422,
            "UNKNOWN_CREATOR",
        )
        assert "sample" in e["message"]  # its own input, echoed
    assert_unchanged(before, state(home))
    # alpha's job (a re-plan) is alpha's: another key cannot read it; the answer counts alpha's clips.
    data = ok(sec["alpha"].post("/v1/projects/proj_alpha/schedule", params={"wait": 240}, json={}), 202)
    assert data["status"] == "DONE" and data["jobs_considered"] == len(sec["clips"])
    assert ok(sec["alpha"].get(f"/v1/jobs/{data['job_id']}"))["project_id"] == "proj_alpha"
    for who in ("beta", "gamma"):
        err(sec[who].get(f"/v1/jobs/{data['job_id']}"), 404, "JOB_NOT_FOUND")
    beta_plan = ok(sec["beta"].post("/v1/projects/proj_beta/schedule", params={"wait": 240}, json={}), 202)
    assert beta_plan["jobs_considered"] == 0 and beta_plan["updated"] == 0
    err(sec["alpha"].get(f"/v1/jobs/{beta_plan['job_id']}"), 404, "JOB_NOT_FOUND")


def test_system_status_shows_a_project_only_its_own(sec):
    home = str(sec["home"])
    beta = sec["beta"].get("/v1/system/status")
    data = ok(beta)
    assert data["quarantined"] == [] and [q["channel"] for q in data["quota"]] == ["beta-shorts"]
    assert "dagster_home" not in data["instance"] and set(data["database"]) == {"status"}
    assert home not in beta.text and "sample" not in beta.text
    alpha = sec["alpha"].get("/v1/system/status")
    mine = {q["partition"][:28] for q in ok(alpha)["quarantined"]}
    assert {"sample-omniva-sample-corrupt", "sample-omniva-sample-deleted"} <= mine
    assert home not in alpha.text and [q["channel"] for q in ok(alpha)["quota"]] == ["alpha-shorts"]
    admin = ok(sec["admin"].get("/v1/system/status"))
    assert admin["instance"]["dagster_home"] == str(sec["home"] / "dagster")
    assert {q["partition"][:28] for q in admin["quarantined"]} >= mine
    assert {"alpha-shorts", "beta-shorts", "gamma-shorts"} <= {q["channel"] for q in admin["quota"]}


# ------------------------------------------------------------------ 3. input that names files
def test_a_channel_name_that_is_a_path_is_refused(sec):
    before = state(sec["home"])
    for channel in ("../../etc/passwd", "a/b", ".."):
        e = err(
            sec["admin"].post("/v1/projects", json={"name": "Evil", "channel": channel}),
            422,
            "INVALID_PROJECT",
        )
        assert "channel name" in e["message"]
    out = cli(sec["env"], "projects", "add", "evil", "--channel", "../../etc/passwd", check=False)
    assert out.returncode != 0 and "channel name" in out.stdout + out.stderr
    assert_unchanged(before, state(sec["home"]))


def test_source_urls_that_reach_the_server_are_refused(sec):
    before = state(sec["home"])
    answers = {}
    for url in (
        "file:///etc/passwd",
        "folder:///etc",
        "/root",
        "/no/such/folder",
        "~",
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:1/feed.xml",
        "http://[::1]/feed.xml",
        "http://10.1.2.3/feed.xml",
        "ftp://example.org/feed.xml",
    ):
        e = err(
            sec["beta"].post(
                "/v1/projects/proj_beta/creators",
                json={"platform": "rss", "handle": "probe", "profile_url": url},
            ),
            422,
            "UNSAFE_SOURCE",
        )
        answers[url] = e["message"].replace(url, "URL")
    assert answers["/root"] == answers["/no/such/folder"]  # nothing says which folders exist
    assert_unchanged(before, state(sec["home"]))


def test_pagination_is_bounded(sec):
    paths = [
        "/v1/projects",
        "/v1/projects/proj_alpha/clips",
        "/v1/projects/proj_alpha/uploads",
        "/v1/projects/proj_alpha/schedule",
        "/v1/projects/proj_alpha/analysis",
        "/v1/projects/proj_alpha/logs",
        "/v1/projects/proj_alpha/scrape/status",
    ]
    for path in paths:
        for params in (
            {"offset": 2**63},
            {"offset": 2**64},
            {"offset": "1e20"},
            {"offset": 1_000_001},
            {"limit": 2**63},
            {"limit": 2**64, "offset": 2**64},
        ):
            err(sec["alpha"].get(path, params=params), 400, "INVALID_PAGINATION")
        page = ok(sec["alpha"].get(path, params={"offset": 1_000_000}))
        assert page.get("items", page.get("jobs")) == []


# ------------------------------------------------------------------ 4. fuzz
def test_fuzzed_path_and_query_parameters_never_500_nor_leak(sec):
    rng = random.Random(16)
    clip = sec["clips"][0]["clip_id"]
    odd = [
        "0",
        "-1",
        str(2**63),
        str(2**64),
        "1e20",
        "NaN",
        "inf",
        "%00",
        "..%2F..%2Fetc%2Fpasswd",
        "proj_",
        "proj_alpha%00",
        "proj_ALPHA",
        "ünïcødé",
        "😀" * 20,
        "'; DROP TABLE clips; --",
        "x" * 3000,
        clip,
        clip.upper(),
        clip + "/",
        " " + clip,
        "00000000-0000-0000-0000-000000000000",
    ]
    odd += ["".join(rng.choice("abc019-_|%.~ü😀'\"") for _ in range(rng.randint(1, 40))) for _ in range(15)]
    templates = [
        "/v1/projects/{}",
        "/v1/projects/{}/clips",
        "/v1/projects/{}/uploads",
        "/v1/projects/{}/schedule",
        "/v1/projects/{}/analysis",
        "/v1/projects/{}/logs",
        "/v1/projects/{}/creators",
        "/v1/projects/{}/scrape/status",
        "/v1/clips/{}",
        "/v1/clips/{}/insights",
        "/v1/jobs/{}",
    ]
    queries = [
        "limit",
        "offset",
        "min_score",
        "clip_status",
        "candidates_limit",
        "level",
        "from",
        "to",
        "source",
        "worker_type",
        "status",
        "wait",
    ]
    for who in ("alpha", "beta", "gamma", "admin"):
        c = sec[who]
        for template in templates:
            for value in rng.sample(odd, 8) + [clip, "proj_alpha", f"proj_{who}"]:
                path = template.format(value)
                params = {q: rng.choice(odd) for q in rng.sample(queries, 3)}
                resp = c.get(path, params=params)
                assert resp.status_code < 500, (who, path, params, resp.text[:500])
                if resp.is_redirect:  # a trailing slash: to the same path without it, no body
                    assert resp.headers["location"] and not resp.content
                else:
                    assert resp.json()["status"] in ("success", "error"), resp.text[:300]
                if who in ("beta", "gamma"):
                    assert_nothing_of_alpha(sec, resp)
        resp = c.get("/v1/system/status", params={"project": "proj_alpha", "offset": str(2**64)})
        assert resp.status_code == 200
        if who in ("beta", "gamma"):
            assert_nothing_of_alpha(sec, resp)
