"""OAuth: the installed-app flow, the token store, refresh on expiry and on 401, over real HTTP.

The emulator plays Google's authorization server (``/o/oauth2/auth`` consents at once
and redirects with a code; ``/token`` exchanges codes with PKCE and refresh tokens),
so google-auth-oauthlib's ``InstalledAppFlow`` and google-auth's refresh run unchanged.
"""

import json
import os
import socket
import stat
import threading
import urllib.error
import urllib.request
import webbrowser
from pathlib import Path

import pytest

from omniva.errors import ConfigError
from omniva_app import cli
from omniva_devkit.youtube_emulator import YouTubeEmulator
from omniva_resources.resources import YouTubeResource
from omniva_resources.youtube import (
    AuthenticationError,
    MissingCredentialsError,
    UploadRequest,
    YouTubeError,
    YouTubeUploader,
    emulator_credentials,
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


# ------------------------------------------------ the emulator and real YouTube never mix
def _get_status(em: YouTubeEmulator, token: str) -> int:
    request = urllib.request.Request(
        em.url + "youtube/v3/channels?part=snippet&mine=true", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_emulator_accepts_only_tokens_it_issued_by_default(tmp_path):
    with YouTubeEmulator(tmp_path / "default") as em:  # strict unless asked otherwise
        assert _get_status(em, "ya29.made-up-token") == 401
        assert _get_status(em, emulator_credentials().token) == 200  # its own dev token
        store = TokenStore(tmp_path / "secrets")
        em.client_secrets(tmp_path / "client_secret.json")
        console_auth(tmp_path / "client_secret.json", store)
        assert _get_status(em, json.loads(store.path("main").read_text())["token"]) == 200
    with YouTubeEmulator(tmp_path / "oauth-only", dev_token=None) as em:
        assert _get_status(em, emulator_credentials().token) == 401
    with YouTubeEmulator(tmp_path / "lax", strict_auth=False) as em:
        assert _get_status(em, "ya29.made-up-token") == 200


def test_unauthenticated_upload_is_refused_before_its_body_is_read(tmp_path):
    # (an emulator that read the 64 MiB body first would never answer: recv times out, the test fails)
    with YouTubeEmulator(tmp_path / "em") as em, socket.create_connection((em.host, em.port), 60) as sock:
        head = (
            "PUT /upload/youtube/v3/videos?uploadType=resumable&upload_id=x HTTP/1.1\r\n"
            f"Host: {em.host}:{em.port}\r\nAuthorization: Bearer ya29.stolen-or-forged\r\n"
            f"Content-Range: bytes 0-{64 * 2**20 - 1}/{64 * 2**20}\r\nContent-Length: {64 * 2**20}\r\n\r\n"
        )
        sock.sendall(head.encode() + b"\0" * 1024)  # 1 KiB of the 64 MiB it announced
        answer = sock.recv(65536).decode("latin-1")
        assert answer.startswith("HTTP/1.1 401"), answer[:200]
        assert "connection: close" in answer.lower()
        assert em.bytes_received == 0 and em.videos() == []


def test_real_channel_token_is_never_sent_to_the_emulator(tmp_path, emulator):
    token_file = tmp_path / "real-token.json"
    token_file.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "123456789-abc.apps.googleusercontent.com",
                "client_secret": "GOCSPX-real-client-secret",
                "refresh_token": "1//real-refresh-token",
                "token": "ya29.real-access-token",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    os.chmod(token_file, 0o600)
    api = YouTubeResource(api_root=emulator.url, token_file=str(token_file))
    with pytest.raises(ConfigError) as info:
        api.uploader("main", tmp_path / "home")
    message = str(info.value)
    assert "OMNIVA_YOUTUBE_API_ROOT= (empty)" in message and "OMNIVA_YOUTUBE_TOKEN_FILE" in message
    assert "real-access-token" not in message and "real-refresh-token" not in message
    assert emulator.quota_used == 0 and emulator.token_grants == []  # nothing was sent
    with pytest.raises(ConfigError):  # not to any other host that is not Google's either
        YouTubeResource(api_root="http://youtube-emulator:8089/", token_file=str(token_file)).uploader()


def test_emulator_token_is_never_sent_to_real_youtube(tmp_path, emulator, client_secrets):
    with pytest.raises(ConfigError, match="emulator's token to real YouTube"):
        YouTubeUploader(None, emulator_credentials(), chunk_size=CHUNK)
    store = TokenStore(tmp_path / "secrets")
    token, _ = console_auth(client_secrets, store)  # a token the emulator issued
    with pytest.raises(ConfigError, match="OMNIVA_YOUTUBE_API_ROOT"):
        YouTubeResource(api_root="", token_file=str(token.path)).uploader("main", tmp_path / "home")
