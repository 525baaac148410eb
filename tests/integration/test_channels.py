"""A project's YouTube channels through the API (#29): listed with their token status, scopes,
expiry and today's quota; chosen; connected from the browser through the emulator's OAuth
(the redirect followed with httpx, the token stored 0600 as `omniva youtube auth` does, the
state used once); revoked at the emulator with ``revoked_at`` left for the notifications; a
banner and a logo checked (each refusal naming its field) and the banner put on the emulator's
channel with the real ``channelBanners.insert`` and ``channels.update``; another project's key
refused.

The real app (FastAPI's TestClient, on a loopback address) with the real
google-api-python-client and google-auth-oauthlib against the loopback YouTube emulator,
strict: it accepts only the tokens it issued.
"""

import io
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from omniva.alerts import token_alert
from omniva.settings import layout
from omniva_app.api.app import create_app
from omniva_app.api.keys import KeyStore
from omniva_app.api.routes.channels import FLOW_COOKIE
from omniva_devkit.youtube_emulator import YouTubeEmulator
from omniva_resources import notify, projects
from omniva_resources.warehouse import Warehouse
from omniva_resources.youtube.auth import BrowserFlows, TokenStore, authorize

BASE = "http://127.0.0.1:8090"  # a Desktop OAuth client sends the browser back to loopback only


@pytest.fixture
def emulator(tmp_path: Path):
    with YouTubeEmulator(tmp_path / "em", strict_auth=True) as em:
        yield em


@pytest.fixture
def farm(tmp_path: Path, emulator: YouTubeEmulator, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("OMNIVA_HOME", str(home))
    monkeypatch.setenv("OMNIVA_YOUTUBE_API_ROOT", emulator.url)
    monkeypatch.delenv("OMNIVA_YOUTUBE_SECRETS_DIR", raising=False)
    monkeypatch.delenv("OMNIVA_YOUTUBE_TOKEN_FILE", raising=False)
    lay = layout()
    projects.add_project("alpha", "alpha-channel", lay=lay)
    projects.add_project("beta", "beta-channel", lay=lay)
    tokens = TokenStore(home / "secrets" / "youtube")
    tokens.save_client(emulator.client_secrets())  # as `omniva youtube auth` leaves it
    keys = KeyStore(home / "api" / "keys.json")
    secrets = {name: keys.create(f"proj_{name}", name)[0] for name in ("alpha", "beta")}
    app = create_app()
    with TestClient(app, base_url=BASE) as alpha, TestClient(app, base_url=BASE) as anonymous:
        alpha.headers["Authorization"] = f"Bearer {secrets['alpha']}"
        beta = {"Authorization": f"Bearer {secrets['beta']}"}
        yield {"app": app, "alpha": alpha, "beta": beta, "anonymous": anonymous, "home": home,
               "tokens": tokens, "secret": secrets["alpha"]}  # fmt: skip


def data(resp) -> dict:
    body = resp.json()
    assert resp.status_code == 200 and body["status"] == "success", body
    return body["data"]


def refused(resp, status: int, code: str) -> dict:
    body = resp.json()
    assert resp.status_code == status and body["error"]["code"] == code, body
    return body["error"]


def consent(authorization_url: str) -> str:
    """The user's browser at the authorization server: the address it is sent back to."""
    resp = httpx.get(authorization_url, follow_redirects=False, timeout=10)
    assert resp.status_code == 302, resp.text
    return resp.headers["location"]


def callback(client: TestClient, back_to: str, **kw):
    parts = urlsplit(back_to)
    assert f"{parts.scheme}://{parts.netloc}" == BASE and parts.path == "/v1/oauth/callback", back_to
    return client.get(f"{parts.path}?{parts.query}", follow_redirects=False, **kw)


def connect(farm, channel: str) -> dict:
    started = data(farm["alpha"].post("/v1/projects/proj_alpha/channels/connect", json={"channel": channel}))
    back = consent(started["authorization_url"])
    # the authorization server's redirect carries no API key
    resp = callback(farm["anonymous"], back)
    assert resp.status_code == 303, resp.text
    assert resp.headers["location"] == f"/app/#/projects/proj_alpha/channels/connected/{channel}"
    return {"started": started, "back": back}


def png(width: int, height: int, noise: bool = False) -> bytes:
    if noise:
        img = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        img = Image.new("RGB", (width, height), (30, 90, 160))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_connect_choose_brand_and_revoke_a_channel(farm, emulator):
    alpha, tokens = farm["alpha"], farm["tokens"]
    view = data(alpha.get("/v1/projects/proj_alpha/channels"))
    assert view["items"] == [] and view["channel"] == "alpha-channel" and not view["channel_connected"]
    assert view["emulator_dev_token"] == emulator.url  # emulator mode: its development token uploads
    assert view["connect_available"]

    # connect from the browser: PKCE, offline access, the state of this API
    flow = connect(farm, "alpha-channel")
    url = flow["started"]["authorization_url"]
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and query["access_type"] == ["offline"]
    assert query["redirect_uri"] == [f"{BASE}/v1/oauth/callback"]
    assert emulator.token_grants == ["authorization_code"]

    # stored exactly as `omniva youtube auth` stores it: 0600 in a 0700 folder
    path = tokens.path("alpha-channel")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(tokens.root.stat().st_mode) == 0o700
    stored = json.loads(path.read_text())
    assert stored["type"] == "authorized_user" and stored["refresh_token"] and stored["client_secret"]
    assert stored["omniva"]["channel_id"] == emulator.channel_id
    assert stored["omniva"]["projects"] == ["proj_alpha"]

    # the state was used: the same answer again, or a forged one, is refused
    refused(callback(farm["anonymous"], flow["back"]), 400, "OAUTH_STATE_INVALID")
    forged = flow["back"].replace("state=", "state=x")
    assert "used once" in refused(callback(farm["anonymous"], forged), 400, "OAUTH_STATE_INVALID")["message"]
    assert emulator.token_grants == ["authorization_code"]

    # listed with status, scopes, expiry and today's quota; no secret in the answer
    resp = alpha.get("/v1/projects/proj_alpha/channels")
    [item] = data(resp)["items"]
    assert item["channel"] == "alpha-channel" and item["selected"] and item["status"] == "valid"
    assert item["channel_title"] == emulator.channel_title and item["expiry"]
    assert {s.rsplit("/", 1)[-1] for s in item["scopes"]} == {
        "youtube.upload",
        "youtube.readonly",
        "youtube.force-ssl",
    }
    assert {b["bucket"] for b in item["quota"]["buckets"]} == {"videos.insert", "search.list", "shared"}
    for secret in (stored["token"], stored["refresh_token"], stored["client_secret"]):
        assert secret not in resp.text

    # a second channel; the project chooses it (audited), and only connected ones
    connect(farm, "alpha-second")
    chosen = data(alpha.put("/v1/projects/proj_alpha/channel", json={"channel": "alpha-second"}))
    assert chosen["channel"] == "alpha-second"
    assert {i["channel"]: i["selected"] for i in chosen["items"]} == {
        "alpha-channel": False,
        "alpha-second": True,
    }
    assert projects.get_project("alpha").channel == "alpha-second"
    refused(
        alpha.put("/v1/projects/proj_alpha/channel", json={"channel": "nobody"}), 404, "CHANNEL_NOT_FOUND"
    )
    err = refused(
        alpha.put("/v1/projects/proj_alpha/channel", json={"channel": "../x"}), 400, "VALIDATION_ERROR"
    )
    assert err["details"][0]["field"] == "channel"

    # branding: every refusal names its field; nothing is kept
    files = {
        "banner": ("b.png", b"GIF89a" + b"\0" * 64, "image/png"),
        "logo": ("l.png", png(300, 200), "image/png"),
    }
    err = refused(
        alpha.post("/v1/projects/proj_alpha/channels/alpha-second/branding", files=files),
        400,
        "VALIDATION_ERROR",
    )
    assert {d["field"] for d in err["details"]} == {"banner", "logo"}
    assert "not a PNG or JPEG" in err["message"] and "not square" in err["message"]
    small = {"banner": ("b.png", png(1280, 720), "image/png")}
    err = refused(
        alpha.post("/v1/projects/proj_alpha/channels/alpha-second/branding", files=small),
        400,
        "VALIDATION_ERROR",
    )
    assert err["details"] == [{"field": "banner", "problem": err["details"][0]["problem"]}]
    assert "smaller than 2048x1152" in err["message"]
    wide = {"banner": ("b.png", png(2560, 1200), "image/png")}
    assert (
        "not 16:9"
        in refused(
            alpha.post("/v1/projects/proj_alpha/channels/alpha-second/branding", files=wide),
            400,
            "VALIDATION_ERROR",
        )["message"]
    )
    heavy = {"banner": ("b.png", png(2560, 1440, noise=True), "image/png")}  # about 11 MB
    assert (
        "over YouTube's 6 MB"
        in refused(
            alpha.post("/v1/projects/proj_alpha/channels/alpha-second/branding", files=heavy),
            400,
            "VALIDATION_ERROR",
        )["message"]
    )
    assert not (farm["home"] / "branding" / "alpha-second").exists()
    assert emulator.branding() == {}

    # an accepted banner reaches the emulator's channel; the logo is kept
    banner, logo = png(2048, 1152), png(200, 200)
    files = {"banner": ("banner.png", banner, "image/png"), "logo": ("logo.png", logo, "image/png")}
    done = data(alpha.post("/v1/projects/proj_alpha/channels/alpha-second/branding", files=files))
    assert done["banner"]["applied"] is True, done
    url = done["banner"]["banner_url"]
    assert emulator.branding()["image"]["bannerExternalUrl"] == url
    assert emulator.banner(url) == banner
    assert done["logo"] == {"width": 200, "height": 200, "bytes": len(logo), "mime": "image/png"}
    # a real banner is larger than the API's general body limit (1 MiB): its upload still goes
    photo = io.BytesIO()
    Image.frombytes("RGB", (2048, 1152), os.urandom(2048 * 1152 * 3)).save(photo, "JPEG", quality=90)
    assert 2**20 < len(photo.getvalue()) < 6 * 10**6
    big = {"banner": ("banner.jpg", photo.getvalue(), "image/jpeg")}
    assert data(alpha.post("/v1/projects/proj_alpha/channels/alpha-second/branding", files=big))["banner"][
        "applied"
    ]
    assert emulator.banner(emulator.branding()["image"]["bannerExternalUrl"]) == photo.getvalue()
    image = alpha.get(done["branding"]["logo"]["url"])
    assert image.status_code == 200 and image.content == logo and image.headers["content-type"] == "image/png"

    # revoke: at the emulator, then the token's secrets go and revoked_at stays
    revoked = data(alpha.post("/v1/projects/proj_alpha/channels/alpha-second/revoke"))
    assert revoked["status"] == "revoked" and revoked["revoked_remotely"] is True
    assert emulator.revocations == ["refresh_token"]
    left = json.loads(tokens.path("alpha-second").read_text())
    assert not {"token", "refresh_token", "client_secret"} & set(left), sorted(left)
    assert left["omniva"]["revoked_at"] and stat.S_IMODE(tokens.path("alpha-second").stat().st_mode) == 0o600
    facts = notify.token_facts(tokens, "alpha-second")
    alert = token_alert(facts, datetime.now(UTC))
    assert alert is not None and alert.kind == "token_revoked"
    refused(
        alpha.put("/v1/projects/proj_alpha/channel", json={"channel": "alpha-second"}),
        409,
        "CHANNEL_NOT_CONNECTED",
    )
    refused(alpha.post("/v1/projects/proj_alpha/channels/alpha-second/revoke"), 409, "ALREADY_REVOKED")
    listed = {i["channel"]: i["status"] for i in data(alpha.get("/v1/projects/proj_alpha/channels"))["items"]}
    assert listed == {"alpha-channel": "valid", "alpha-second": "revoked"}

    # connecting it again makes it valid again
    connect(farm, "alpha-second")
    listed = {i["channel"]: i["status"] for i in data(alpha.get("/v1/projects/proj_alpha/channels"))["items"]}
    assert listed == {"alpha-channel": "valid", "alpha-second": "valid"}
    assert "revoked_at" not in json.loads(tokens.path("alpha-second").read_text())["omniva"]

    # the audit log: who chose which channel (before and after), the connections, the revocation;
    # and no secret anywhere in it
    home = farm["home"]
    rows = Warehouse(home / "warehouse", home / "omniva.duckdb").query(
        "SELECT message, CAST(metadata AS VARCHAR) AS metadata FROM logs WHERE source = 'api' ORDER BY created_at"
    )
    messages = [r["message"] for r in rows]
    assert "channel of proj_alpha changed: alpha-channel -> alpha-second" in messages, messages
    assert messages.count("channel alpha-second connected for proj_alpha") == 2
    assert any(m.startswith("channel alpha-second revoked") for m in messages)
    changed = next(r for r in rows if r["message"].startswith("channel of proj_alpha changed"))
    assert (
        '"before": "alpha-channel"' in changed["metadata"]
        and farm["secret"].split("_")[1] in changed["metadata"]
    )
    logged = json.dumps(rows)
    for secret in (stored["token"], stored["refresh_token"], stored["client_secret"], farm["secret"]):
        assert secret not in logged
    assert "code=" not in logged and "state=" not in logged


def test_another_projects_key_is_refused(farm, emulator):
    connect(farm, "alpha-channel")
    beta, alpha = farm["beta"], farm["alpha"]
    for method, path, kw in (
        ("GET", "/v1/projects/proj_alpha/channels", {}),
        ("PUT", "/v1/projects/proj_alpha/channel", {"json": {"channel": "alpha-channel"}}),
        ("POST", "/v1/projects/proj_alpha/channels/connect", {"json": {"channel": "x"}}),
        ("POST", "/v1/projects/proj_alpha/channels/alpha-channel/revoke", {}),
        (
            "POST",
            "/v1/projects/proj_alpha/channels/alpha-channel/branding",
            {"files": {"logo": ("l.png", png(98, 98))}},
        ),
    ):
        refused(alpha.request(method, path, headers=beta, **kw), 403, "FORBIDDEN")
    # through its own project, beta neither sees nor takes alpha's channel
    assert data(alpha.get("/v1/projects/proj_beta/channels", headers=beta))["items"] == []
    refused(
        alpha.put("/v1/projects/proj_beta/channel", json={"channel": "alpha-channel"}, headers=beta),
        404,
        "CHANNEL_NOT_FOUND",
    )
    refused(
        alpha.post("/v1/projects/proj_beta/channels/alpha-channel/revoke", headers=beta),
        404,
        "CHANNEL_NOT_FOUND",
    )
    refused(
        alpha.post(
            "/v1/projects/proj_beta/channels/connect", json={"channel": "alpha-channel"}, headers=beta
        ),
        409,
        "CHANNEL_TAKEN",
    )
    assert emulator.revocations == [] and projects.get_project("beta").channel == "beta-channel"
    # and without any key only the OAuth callback answers
    refused(farm["anonymous"].get("/v1/projects/proj_alpha/channels"), 401, "UNAUTHORIZED")


def test_a_flow_started_in_the_dashboard_ends_only_in_that_browser(farm, emulator):
    app = farm["app"]
    with TestClient(app, base_url=BASE) as browser, TestClient(app, base_url=BASE) as other:
        session = data(browser.post("/v1/session", json={"api_key": farm["secret"]}))
        csrf = {"X-CSRF-Token": session["csrf_token"]}
        refused(
            browser.post("/v1/projects/proj_alpha/channels/connect", json={"channel": "c1"}),
            403,
            "CSRF_REQUIRED",
        )
        started = browser.post(
            "/v1/projects/proj_alpha/channels/connect", json={"channel": "c1"}, headers=csrf
        )
        assert started.cookies.get(FLOW_COOKIE)
        cookie = started.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/v1;" in cookie
        back = consent(data(started)["authorization_url"])
        # another browser (no flow cookie) cannot finish it; the state is spent by trying
        assert "another browser" in refused(callback(other, back), 400, "OAUTH_STATE_INVALID")["message"]
        refused(callback(browser, back), 400, "OAUTH_STATE_INVALID")
        # the browser that started it can, two flows at once too (the session cookie is not what
        # lets it in: the callback is served without a key)
        urls = {
            name: data(
                browser.post("/v1/projects/proj_alpha/channels/connect", json={"channel": name}, headers=csrf)
            )["authorization_url"]
            for name in ("c1", "c2")
        }
        for name, url in urls.items():
            resp = callback(browser, consent(url))
            assert resp.status_code == 303 and resp.headers["location"].endswith(
                f"/channels/connected/{name}"
            )
    assert TokenStore(farm["home"] / "secrets" / "youtube").channels() == ["c1", "c2"]


def test_an_expired_state_or_an_authorization_refused_is_a_clear_answer(farm, emulator):
    alpha = farm["alpha"]
    farm["app"].state.oauth_flows = BrowserFlows(ttl_s=-1)  # every flow is already too old
    started = data(alpha.post("/v1/projects/proj_alpha/channels/connect", json={"channel": "late"}))
    assert "expired" in refused(callback(farm["anonymous"], consent(started["authorization_url"])), 400,
                                "OAUTH_STATE_INVALID")["message"]  # fmt: skip
    farm["app"].state.oauth_flows = BrowserFlows()
    started = data(alpha.post("/v1/projects/proj_alpha/channels/connect", json={"channel": "denied"}))
    state = parse_qs(urlsplit(started["authorization_url"]).query)["state"][0]
    resp = farm["anonymous"].get(
        f"/v1/oauth/callback?state={state}&error=access_denied", follow_redirects=False
    )
    assert resp.status_code == 303
    assert resp.headers["location"] == "/app/#/projects/proj_alpha/channels/failed/access_denied"
    assert farm["tokens"].channels() == []


def test_the_cli_leaves_its_oauth_client_for_the_dashboard(tmp_path, emulator):
    """`omniva youtube auth` (its console flow here) keeps the client beside the tokens, 0600, and
    the dashboard's Connect starts from it."""
    client = tmp_path / "client_secret.json"
    emulator.client_secrets(client)
    store = TokenStore(tmp_path / "secrets" / "youtube")
    printed: list[str] = []
    authorize(client, "cli-channel", store=store, console=True, print_fn=printed.append,
              input_fn=lambda _p: consent(printed[-1].split("\n\n    ", 1)[1].split("\n", 1)[0]))  # fmt: skip
    assert stat.S_IMODE(store.client_path.stat().st_mode) == 0o600
    assert store.load_client() == json.loads(client.read_text())
    assert store.channels() == ["cli-channel"]  # the client file is no channel
    url = BrowserFlows().start(store, "next", f"{BASE}/v1/oauth/callback", project_id="proj_a", key_id="k")
    assert url.startswith(f"{emulator.url}o/oauth2/auth?") and "code_challenge=" in url
