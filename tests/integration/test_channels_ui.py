"""A project's channels in the browser (#29): connect a channel through the emulator's OAuth
from the Channels page and come back to it with the token stored; a logo refused beside its
field; a banner uploaded and the emulator's channel carrying it; choose the channel; revoke it
after the confirmation.

A real ``omniva api`` (which starts the loopback YouTube emulator it publishes to), Debian's
Chromium through playwright, on a working folder with one project (no demo run needed). The
page is ``dashboard/src/pages/project/Channels.svelte`` at ``#/projects/proj_demo/channels``:
the test skips until that tab is in the built app (``ProjectDetail.svelte``, then
``npm run build``).
"""

import io
import json
import os
from pathlib import Path

import pytest
from PIL import Image

from omniva_devkit.youtube_emulator import YouTubeEmulator
from tests.browser import DASHBOARD, dashboard, data, home_env
from tests.conftest import cli_ok

pytestmark = pytest.mark.slow


def _tab_built() -> bool:
    dist = Path(os.environ.get("OMNIVA_DASHBOARD_DIST") or DASHBOARD / "dist")
    return any("upload-branding" in p.read_text(errors="replace") for p in dist.glob("assets/*.js"))


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    if not _tab_built():
        pytest.skip(
            "the Channels tab is not in the built dashboard yet (ProjectDetail.svelte, npm run build)"
        )
    home = tmp_path_factory.mktemp("channels-ui") / "home"
    env = home_env(home)
    env.pop("OMNIVA_YOUTUBE_SECRETS_DIR", None)
    cli_ok(env, "projects", "add", "demo", "--channel", "demo-channel")
    # the OAuth client `omniva youtube auth` would have kept: the emulator's, at the API's emulator
    port = int(env["OMNIVA_YOUTUBE_API_ROOT"].rstrip("/").rsplit(":", 1)[1])
    client = YouTubeEmulator(tmp_path_factory.mktemp("unused"), port=port).client_secrets()
    secrets = home / "secrets" / "youtube"
    secrets.mkdir(parents=True, mode=0o700, exist_ok=True)
    (secrets / ".oauth-client.json").write_text(json.dumps(client))
    os.chmod(secrets / ".oauth-client.json", 0o600)
    keys = {"demo": cli_ok(env, "api", "keys", "create", "--project", "demo")}
    with dashboard(home, env, keys) as ui:
        yield ui


def _png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 60)).save(buf, "PNG")
    return buf.getvalue()


def _emulator_state(home: Path) -> dict:
    return json.loads((home / "youtube-emulator" / "state.json").read_text())


def test_connect_brand_choose_and_revoke_a_channel_from_the_page(ui, app, tmp_path):
    app.sign_in()
    app.goto("#/projects/proj_demo/channels")
    app.page.wait_for_selector("section.connect")
    app.page.wait_for_selector(".emulator-mode")  # no token yet: uploads would use the emulator's dev token

    # Connect: to the emulator's consent and back to this page, the token stored
    app.page.fill("#connect-channel", "demo-channel")
    app.page.click("button.connect-channel")
    app.page.wait_for_selector(".channel[data-channel='demo-channel'] .badge[data-status=valid]")
    assert app.page.url.endswith("#/projects/proj_demo/channels")
    app.page.wait_for_selector(".toast-info:has-text('demo-channel connected')")
    token = ui["home"] / "secrets" / "youtube" / "demo-channel.json"
    assert oct(token.stat().st_mode & 0o777) == "0o600" and json.loads(token.read_text())["refresh_token"]
    card = ".channel[data-channel='demo-channel']"
    assert "youtube.upload" in app.page.text_content(f"{card} .scopes")
    assert app.page.locator(f"{card} table.quota tr[data-bucket=shared]").count() == 1
    app.shot("channels-connected")

    # a logo that is not square is refused beside its field; nothing is kept
    bad, banner = tmp_path / "logo.png", tmp_path / "banner.png"
    bad.write_bytes(_png(300, 200))
    banner.write_bytes(_png(2048, 1152))
    app.page.set_input_files(f"{card} input[data-kind=logo]", str(bad))
    app.page.click(f"{card} button.upload-branding")
    app.page.wait_for_selector(f"{card} .field-error[data-field=logo]:has-text('not square')")

    # a banner: previewed, uploaded, applied to the emulator's channel
    app.page.set_input_files(f"{card} input[data-kind=logo]", [])
    app.page.wait_for_selector(f"{card} img.logo-preview", state="detached")  # the refused one goes
    app.page.set_input_files(f"{card} input[data-kind=banner]", str(banner))
    app.page.wait_for_selector(f"{card} img.banner-preview")
    app.page.click(f"{card} button.upload-branding")
    app.page.wait_for_selector(".toast-info:has-text('banner applied')")
    url = _emulator_state(ui["home"])["branding"]["image"]["bannerExternalUrl"]
    name = url.rsplit("/", 1)[1]
    assert (ui["home"] / "youtube-emulator" / "banners" / name).read_bytes() == banner.read_bytes()
    app.shot("channels")

    # the project publishes to it (the dropdown), then it is revoked after the confirmation
    app.page.wait_for_selector(f"{card} .badge.selected")
    app.page.click(f"{card} button.revoke")
    app.page.click("dialog.confirm button.primary")
    app.page.wait_for_selector(f"{card} .badge[data-status=revoked]")
    saved = json.loads(token.read_text())
    assert saved["omniva"]["revoked_at"] and "refresh_token" not in saved
    view = data(ui["demo"].get("/v1/projects/proj_demo/channels"))
    assert [(i["channel"], i["status"]) for i in view["items"]] == [("demo-channel", "revoked")]
