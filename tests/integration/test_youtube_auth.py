"""OAuth: the installed-app flow, the token store, refresh on expiry and on 401, over real HTTP.

The emulator plays Google's authorization server (``/o/oauth2/auth`` consents at once
and redirects with a code; ``/token`` exchanges codes with PKCE and refresh tokens),
so google-auth-oauthlib's ``InstalledAppFlow`` and google-auth's refresh run unchanged.
"""

import json
import os
import stat
import threading
import urllib.error
import urllib.request
import webbrowser
from pathlib import Path

import pytest

from omniva_app import cli
from omniva_devkit.youtube_emulator import YouTubeEmulator
from omniva_resources.resources import YouTubeResource
from omniva_resources.youtube import (
    AuthenticationError,
    MissingCredentialsError,
    UploadRequest,
    YouTubeError,
    YouTubeUploader,
)
from omniva_resources.youtube.auth import TokenStore, authorize

CHUNK = 256 * 1024


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def consent(url: str) -> str:
    """The user's browser: open the consent link, return the address it is sent to."""
    try:
        urllib.request.build_opener(_NoRedirect).open(url, timeout=5)
    except urllib.error.HTTPError as exc:
        assert exc.code == 302
        return exc.headers["Location"]
    raise AssertionError("no redirect")


def link_in(text: str) -> str:
    return text.split("\n\n    ", 1)[1].split("\n", 1)[0]


@pytest.fixture
def emulator(tmp_path: Path):
    with YouTubeEmulator(tmp_path / "em", strict_auth=True) as em:
        yield em


@pytest.fixture
def client_secrets(tmp_path: Path, emulator: YouTubeEmulator) -> Path:
    path = tmp_path / "client_secret.json"
    emulator.client_secrets(path)
    return path


def console_auth(client_secrets: Path, store: TokenStore, channel: str = "main"):
    printed: list[str] = []
    token = authorize(
        client_secrets,
        channel,
        store=store,
        console=True,
        print_fn=printed.append,
        input_fn=lambda _prompt: consent(link_in(printed[-1])),
    )
    return token, printed


def test_console_flow_stores_token_owner_only(tmp_path, emulator, client_secrets):
    store = TokenStore(tmp_path / "home" / "secrets" / "youtube")
    token, printed = console_auth(client_secrets, store)
    assert emulator.token_grants == ["authorization_code"]
    assert token.channel_id == emulator.channel_id and token.channel_title == emulator.channel_title
    assert token.has_refresh_token and token.mode == "0o600"
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.root.parent.stat().st_mode) == 0o700  # secrets/
    assert stat.S_IMODE(token.path.stat().st_mode) == 0o600
    data = json.loads(token.path.read_text())
    assert data["type"] == "authorized_user" and data["refresh_token"] and data["client_secret"]
    assert "code_challenge=" in link_in(printed[0])  # PKCE
    assert "access_type=offline" in link_in(printed[0])
    # Nothing secret in what was shown to the user or what describe() reports.
    shown = "\n".join(printed) + repr(token)
    for secret in (data["token"], data["refresh_token"], data["client_secret"]):
        assert secret not in shown


def test_loopback_flow_with_browser(tmp_path, emulator, client_secrets, monkeypatch):
    class Browser:
        def open(self, url, new=0, autoraise=True):
            # The browser follows the consent redirect to the flow's loopback server.
            threading.Thread(target=urllib.request.urlopen, args=(url,), kwargs={"timeout": 10}).start()
            return True

    monkeypatch.setattr(webbrowser, "get", lambda *_: Browser())
    store = TokenStore(tmp_path / "secrets")
    token = authorize(client_secrets, "second", store=store, open_browser=True, timeout_s=20)
    assert token.has_refresh_token and token.channel_id == emulator.channel_id
    assert store.channels() == ["second"]


def test_several_channels_have_separate_tokens(tmp_path, emulator, client_secrets):
    store = TokenStore(tmp_path / "secrets")
    console_auth(client_secrets, store, "brand-a")
    console_auth(client_secrets, store, "brand-b")
    assert store.channels() == ["brand-a", "brand-b"]
    a, b = (json.loads(store.path(c).read_text()) for c in ("brand-a", "brand-b"))
    assert a["refresh_token"] != b["refresh_token"]
    with pytest.raises(YouTubeError, match="channel name"):
        store.path("../escape")


def test_console_flow_rejects_a_foreign_state(tmp_path, emulator, client_secrets):
    printed: list[str] = []

    def paste(_prompt):
        return consent(link_in(printed[-1])).replace("state=", "state=forged")

    with pytest.raises(YouTubeError, match="state mismatch"):
        authorize(client_secrets, "main", store=TokenStore(tmp_path / "s"), console=True,
                  print_fn=printed.append, input_fn=paste)  # fmt: skip


def test_web_client_file_is_refused(tmp_path):
    web = tmp_path / "web.json"
    web.write_text(json.dumps({"web": {"client_id": "x", "client_secret": "y"}}))
    with pytest.raises(YouTubeError, match="Desktop app"):
        authorize(web, "main", store=TokenStore(tmp_path / "s"), console=True)


def test_expired_token_is_refreshed_and_saved(tmp_path, emulator, client_secrets):
    store = TokenStore(tmp_path / "secrets")
    token, _ = console_auth(client_secrets, store)
    data = json.loads(token.path.read_text())
    data["expiry"] = "2000-01-01T00:00:00Z"  # expired long ago
    token.path.write_text(json.dumps(data))
    os.chmod(token.path, 0o644)  # loosened by hand: tightened again on load

    creds = store.load("main")
    assert stat.S_IMODE(token.path.stat().st_mode) == 0o600
    assert creds.expired and creds.token_uri == f"{emulator.url}token"
    uploader = YouTubeUploader(emulator.url, creds, chunk_size=CHUNK)
    assert uploader.my_channel()["id"] == emulator.channel_id
    assert emulator.token_grants == ["authorization_code", "refresh_token"]
    saved = json.loads(token.path.read_text())
    assert saved["token"] == creds.token != data["token"]
    assert saved["expiry"] > "2001" and saved["omniva"]["channel_id"] == emulator.channel_id
    assert stat.S_IMODE(token.path.stat().st_mode) == 0o600


def test_401_mid_upload_refreshes_and_retries(tmp_path, emulator, client_secrets):
    store = TokenStore(tmp_path / "secrets")
    console_auth(client_secrets, store)
    video = tmp_path / "v.mp4"
    video.write_bytes(os.urandom(6 * CHUNK + 999))
    uploader = YouTubeUploader(emulator.url, store.load("main"), chunk_size=CHUNK)
    emulator.hold_when_received(3 * CHUNK)

    def revoke_while_held():
        assert emulator.held.wait(20)
        emulator.expire_access_tokens()  # the next chunk PUT gets a 401
        emulator.release()

    threading.Thread(target=revoke_while_held).start()
    result = uploader.upload(UploadRequest(video, "refresh mid-upload", "d", ("t",)))
    assert emulator.token_grants[-1] == "refresh_token"
    assert emulator.video_path(result.video_id).read_bytes() == video.read_bytes()
    assert result.attempts == 1  # the 401 was absorbed by refresh + resend, not a retry


def test_revoked_refresh_token_is_a_clear_error_without_secrets(tmp_path, emulator, client_secrets):
    store = TokenStore(tmp_path / "secrets")
    token, _ = console_auth(client_secrets, store)
    data = json.loads(token.path.read_text())
    data["refresh_token"] = "1//revoked-refresh-token"
    data["expiry"] = "2000-01-01T00:00:00Z"
    token.path.write_text(json.dumps(data))
    uploader = YouTubeUploader(emulator.url, store.load("main"), chunk_size=CHUNK)
    with pytest.raises(AuthenticationError, match="omniva youtube auth") as info:
        uploader.my_channel()
    for secret in ("1//revoked-refresh-token", data["client_secret"], data["token"]):
        assert secret not in str(info.value)


def test_token_file_pointing_elsewhere_is_refused(tmp_path, emulator, client_secrets):
    store = TokenStore(tmp_path / "secrets")
    token, _ = console_auth(client_secrets, store)
    data = json.loads(token.path.read_text())
    data["token_uri"] = "https://attacker.example/token"
    token.path.write_text(json.dumps(data))
    with pytest.raises(MissingCredentialsError, match="unexpected token endpoint"):
        store.load("main")


def test_resource_uses_the_channel_token_for_real_youtube(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNIVA_HOME", str(tmp_path / "home"))
    api = YouTubeResource(api_root="")
    with pytest.raises(MissingCredentialsError) as info:
        api.uploader("brand-a")
    assert "secrets/youtube/brand-a.json" in str(info.value)
    assert "omniva youtube auth" in str(info.value) and "--channel brand-a" in str(info.value)


def test_cli_auth_and_status_print_no_secret(tmp_path, emulator, client_secrets, monkeypatch, capsys):
    monkeypatch.setenv("OMNIVA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OMNIVA_YOUTUBE_API_ROOT", emulator.url)
    monkeypatch.delenv("OMNIVA_YOUTUBE_SECRETS_DIR", raising=False)

    def browser_in_another_place(_prompt):
        out = capsys.readouterr().out
        print(out, end="")  # keep it for the check below
        return consent(link_in(out))

    monkeypatch.setattr("builtins.input", browser_in_another_place)
    assert (
        cli.main(
            ["youtube", "auth", "--client-secrets", str(client_secrets), "--channel", "brand-a", "--console"]
        )
        == 0
    )
    assert cli.main(["youtube", "status"]) == 0
    out = capsys.readouterr().out
    path = tmp_path / "home" / "secrets" / "youtube" / "brand-a.json"
    assert f"token saved to {path}" in out
    assert "brand-a\tOmniva Emulator (UComnivaEmulatorChannel0)" in out
    data = json.loads(path.read_text())
    for secret in (data["token"], data["refresh_token"], data["client_secret"]):
        assert secret not in out
