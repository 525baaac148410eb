"""The REST API under a hostile caller: audit lines that append, key checks that cannot stall
the server, limits (429, 413), clean request ids and 500s that say nothing internal.

A real `omniva api` in a subprocess over a small working folder of its own (two projects,
one creator, no demo): none of the routes hit here needs the demo's data.
"""

import json
import os
import threading
import time
from pathlib import Path

import httpx
import pytest

from omniva_app.api.keys import KeyStore
from omniva_resources.warehouse import Warehouse
from tests.conftest import ApiServer, cli_ok, free_port

ROOT = Path(__file__).resolve().parents[2]
RATE_LIMIT = 60  # requests a minute per key on this server: the tests below stay well under it
GUESSED = [f"guessed{i}" for i in range(4)]  # key ids an attacker knows (10 wrong secrets each)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    home = tmp_path_factory.mktemp("security") / "home"
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
    feed = home / "alpha-feed"
    feed.mkdir()
    cli_ok(env, "creators", "add", "alpha-feed", str(feed), "--project", "alpha")
    store = KeyStore(home / "api" / "keys.json")
    tokens = {"admin": store.create("*", "admin")[0]}
    for name in ("alpha", "beta", "locked", "budget", *GUESSED):
        tokens[name] = store.create("proj_beta" if name == "beta" else "proj_alpha", name)[0]
    server = ApiServer.start(home, env, port, timeout=300)
    base = server.base
    clients = {
        name: httpx.Client(base_url=base, headers={"Authorization": f"Bearer {t}"}, timeout=120)
        for name, t in tokens.items()
    }
    try:
        yield {"home": home, "base": base, "tokens": tokens, "log": home / "api.log", **clients}
    finally:
        server.stop()


def _ok(resp: httpx.Response) -> dict:
    body = resp.json()
    assert resp.status_code == 200 and body["status"] == "success", body
    return body["data"]


def _err(resp: httpx.Response, status: int, code: str) -> dict:
    body = resp.json()
    assert resp.status_code == status and body["error"]["code"] == code, body
    assert resp.headers["x-request-id"] == body["meta"]["request_id"]
    return body["error"]


def _wrong(token: str) -> str:
    return token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")


def test_the_same_action_by_two_keys_leaves_two_audit_lines(api):
    """Project alpha's key and the admin both start and stop alpha (alpha twice); beta its own."""
    for client, project in (("alpha", "alpha"), ("alpha", "alpha"), ("admin", "alpha"), ("beta", "beta")):
        for action in ("start", "stop"):
            _ok(api[client].post(f"/v1/projects/proj_{project}/{action}"))
    rows = Warehouse(api["home"] / "warehouse", api["home"] / "omniva.duckdb").query(
        "SELECT message, metadata FROM logs WHERE source = 'api' AND level = 'INFO'"  # not refusals
    )
    seen = sorted((r["message"].split(" (")[0], json.loads(r["metadata"])["key_id"]) for r in rows)
    key = {name: api["tokens"][name].split("_")[1] for name in ("alpha", "admin", "beta")}
    assert seen == sorted(
        [
            (f"project proj_alpha {verb}", key[who])
            for who in ("alpha", "alpha", "admin")
            for verb in ("scheduled to start", "stopping")
        ]
        + [(f"project proj_beta {verb}", key["beta"]) for verb in ("scheduled to start", "stopping")]
    )


def test_wrong_secrets_in_parallel_do_not_stall_other_requests(api):
    """40 wrong-secret requests at once (each a scrypt hash) do not hold up an unrelated request:
    it keeps being answered while the guesses are checked."""
    probe = httpx.Client(base_url=api["base"], timeout=60)
    assert probe.get("/v1/openapi.json").status_code == 200  # warm up
    guesses = [{"Authorization": f"Bearer {_wrong(api['tokens'][name])}"} for name in GUESSED] * 10
    clients = [httpx.Client(base_url=api["base"], timeout=120) for _ in guesses]
    codes: list[int] = []
    answered: list[str] = []  # "guess" / "probe", in the order the answers came back
    start = threading.Barrier(len(guesses) + 1)

    def guess(client: httpx.Client, headers: dict) -> None:
        start.wait()
        codes.append(client.get("/v1/projects", headers=headers).status_code)
        answered.append("guess")

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, guesses, strict=True)]
    for t in threads:
        t.start()
    start.wait()
    # an unrelated request, again and again while the guesses are checked
    while any(t.is_alive() for t in threads) or "probe" not in answered:
        assert probe.get("/v1/openapi.json").status_code == 200
        answered.append("probe")
    for t in threads:
        t.join(120)
    assert codes == [401] * len(guesses), codes
    # Before: the checks ran on the event loop, one after another, so a probe waited behind the
    # queue of hashes: one at most came back between the first and the last guess's answer. Off
    # the loop, probes keep being answered meanwhile (over a hundred here, on 2 busy cores): an
    # order of events, not a wall-clock bound.
    first, last = answered.index("guess"), len(answered) - 1 - answered[::-1].index("guess")
    assert answered[first:last].count("probe") >= 3, " ".join(answered)


def test_repeated_wrong_secrets_for_one_key_id_get_429(api):
    home_before = (api["home"] / "api" / "keys.json").read_text()
    token = api["tokens"]["locked"]
    _ok(api["locked"].get("/v1/projects"))  # verified before the guessing starts
    wrong = {"Authorization": f"Bearer {_wrong(token)}"}
    anonymous = httpx.Client(base_url=api["base"], timeout=60)
    answers = [anonymous.get("/v1/projects", headers=wrong) for _ in range(12)]
    assert [r.status_code for r in answers[:10]] == [401] * 10
    refused = _err(answers[11], 429, "TOO_MANY_ATTEMPTS")
    assert "too many" in refused["message"]
    assert 1 <= int(answers[11].headers["retry-after"]) <= 60
    # The key's owner, already verified, goes on; other keys are not touched.
    _ok(api["locked"].get("/v1/projects"))
    _ok(api["alpha"].get("/v1/projects"))
    assert (api["home"] / "api" / "keys.json").read_text() == home_before


def test_a_key_over_its_request_budget_gets_429_with_retry_after(api):
    answers = [api["budget"].get("/v1/projects") for _ in range(RATE_LIMIT + 15)]
    codes = [r.status_code for r in answers]
    assert codes[: RATE_LIMIT // 2] == [200] * (RATE_LIMIT // 2) and 429 in codes, codes
    limited = next(r for r in answers if r.status_code == 429)
    _err(limited, 429, "RATE_LIMITED")
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    _ok(api["alpha"].get("/v1/projects"))  # a budget is per key


def test_a_huge_body_gets_413_and_changes_nothing(api):
    registries = {p: p.read_bytes() for p in api["home"].glob("*.json")}
    huge = b'{"platform": "rss", "handle": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    path = "/v1/projects/proj_alpha/creators"
    _err(
        api["alpha"].post(path, content=huge, headers={"Content-Type": "application/json"}),
        413,
        "PAYLOAD_TOO_LARGE",
    )

    def chunks():  # no Content-Length: the server counts what it reads
        yield huge[: len(huge) // 2]
        yield huge[len(huge) // 2 :]

    _err(
        api["alpha"].post(path, content=chunks(), headers={"Content-Type": "application/json"}),
        413,
        "PAYLOAD_TOO_LARGE",
    )
    assert {p: p.read_bytes() for p in api["home"].glob("*.json")} == registries


def test_a_bad_request_id_is_replaced_and_a_good_one_kept(api):
    hostile = "<script>alert(1)</script>" + "x" * 3000
    for client, path in (
        ("alpha", "/v1/projects"),
        ("alpha", "/v1/clips/nope"),
        ("anonymous", "/v1/projects"),
    ):
        c = api[client] if client != "anonymous" else httpx.Client(base_url=api["base"], timeout=60)
        resp = c.get(path, headers={"X-Request-ID": hostile})
        rid = resp.headers["x-request-id"]
        assert rid == resp.json()["meta"]["request_id"] and len(rid) <= 64 and "<" not in rid, rid
        kept = c.get(path, headers={"X-Request-ID": "trace-42.a_B"})
        assert kept.headers["x-request-id"] == "trace-42.a_B" == kept.json()["meta"]["request_id"]
    assert "<script>" not in api["log"].read_text()


def test_an_internal_error_says_nothing_internal(api):
    """A corrupted warehouse file: 500 with the request id; the details only in the server's log."""
    broken = api["home"] / "warehouse" / "clips" / "zz-broken.parquet"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_bytes(b"not parquet at all")
    try:
        resp = api["alpha"].get("/v1/projects/proj_alpha/clips", headers={"X-Request-ID": "crash-1"})
    finally:
        broken.unlink()
    error = _err(resp, 500, "INTERNAL_ERROR")
    assert resp.headers["x-request-id"] == "crash-1" and "crash-1" in error["message"]
    text = resp.text
    for internal in (str(api["home"]), "parquet", "zz-broken", "Error:", "Traceback", "duckdb"):
        assert internal.lower() not in text.lower(), text
    deadline = time.time() + 10
    while "zz-broken" not in api["log"].read_text() and time.time() < deadline:
        time.sleep(0.2)
    server_log = api["log"].read_text()
    assert "zz-broken" in server_log and "crash-1" in server_log
