"""The Notifications tab (#29) in Chromium: a person sets up e-mail (to a real local SMTP
server) and a Slack-compatible webhook (to a local HTTP receiver) for a project, sends a test
alert from the page, and both arrive; after a reload the page shows that a webhook is stored
without showing it."""

import pytest

from tests.browser import Page, dashboard, home_env
from tests.conftest import cli_ok
from tests.integration.test_notifications import HOOK_PATH, receiver, smtp  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow


def test_notifications_page_sends_a_test_alert_to_mail_and_webhook(tmp_path, smtp, receiver):  # noqa: F811
    box, smtp_port = smtp
    server, base = receiver
    home = tmp_path / "home"
    env = home_env(home) | {"OMNIVA_NOTIFY_ALLOW_LOOPBACK": "1"}
    cli_ok(env, "projects", "add", "alpha", "--channel", "alpha-channel")
    keys = {"alpha": cli_ok(env, "api", "keys", "create", "--project", "alpha")}
    with dashboard(home, env, keys) as ui:
        app = Page(ui)
        app.sign_in("alpha")
        app.goto("#/projects/proj_alpha/notifications")
        app.page.wait_for_selector(".notifications-form")
        app.page.check("[data-channel=email] h2 input")
        app.page.fill("#n-host", "127.0.0.1")
        app.page.fill("#n-port", str(smtp_port))
        app.page.fill("#n-from", "omniva@example.org")
        app.page.fill("#n-to", "not an address")
        app.page.uncheck("[data-channel=email] .grid label:has-text('STARTTLS') input")
        app.page.check("[data-channel=slack] h2 input")
        app.page.fill("#n-hook", base + "/slack" + HOOK_PATH)
        app.page.click(".notifications-form button.primary")
        app.page.wait_for_selector("[data-channel=email] .form-error")  # the field is named
        assert "email.to" in app.page.locator("[data-channel=email]").inner_text()
        app.page.fill("#n-to", "ops@example.org")
        app.page.click(".notifications-form button.primary")
        app.page.wait_for_selector(".toast-info:has-text('notifications saved')")
        app.page.click("button.send-test")
        app.page.wait_for_selector(".deliveries li[data-channel=slack]")
        assert app.page.locator(".deliveries li.ok").count() == 2, app.page.locator(
            ".deliveries"
        ).inner_text()
        app.shot("notifications")
        app.page.reload()
        app.page.wait_for_selector("#n-hook")
        assert "stored" in (app.page.locator("#n-hook").get_attribute("placeholder") or "")
        assert HOOK_PATH not in app.page.content()  # the webhook's secret path is never shown
        app.close()
    assert box.to("ops@example.org"), "the test e-mail did not arrive"
    [(path, payload)] = [(p, b) for p, b in server.posts if p.startswith("/slack")]
    assert path == "/slack" + HOOK_PATH and payload["text"]
