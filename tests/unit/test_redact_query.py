"""Secrets in query strings (issue #26, finding 3): one redaction for every secret-looking
parameter name, and a creator URL that keeps none of them once registered."""

from __future__ import annotations

import pytest

from omniva.redact import is_secret_param, redact_text, redact_url, split_secret_params
from omniva.settings import Layout
from omniva_resources import creators
from omniva_resources.source_guard import SourceAccess, origin_of

TOKEN, SIG = "T0kenValue77", "S1gnatureValue88"


@pytest.mark.parametrize(
    "name",
    [
        "token", "TOKEN", "sig", "Signature", "key", "api_key", "apikey", "API-KEY", "access_token",
        "auth", "auth_token", "password", "passwd", "pwd", "secret", "client_secret", "session",
        "sessionid", "X-Amz-Signature", "x-amz-credential", "X-Amz-Security-Token", "X-Goog-Signature",
        "X-Goog-Credential", "my_api_key", "refresh_token", "hmac", "jwt",
    ],
)  # fmt: skip
def test_secret_looking_names(name):
    assert is_secret_param(name)
    assert redact_url(f"https://cdn.example.net/v.mp4?a=1&{name}=zz9&b=2") == (
        f"https://cdn.example.net/v.mp4?a=1&{name}=REDACTED&b=2"
    )


@pytest.mark.parametrize("name", ["page", "author", "authority", "keyword", "monkey", "v", "list", "format"])
def test_ordinary_names_are_kept(name):
    assert not is_secret_param(name)
    assert redact_url(f"https://example.org/f?{name}=7") == f"https://example.org/f?{name}=7"


def test_split_secret_params_keeps_the_rest_in_order():
    url = f"https://Feeds.example.com:8443/f.xml?page=2&token={TOKEN}&x=a%20b&SIG={SIG}#top"
    assert split_secret_params(url) == (
        "https://Feeds.example.com:8443/f.xml?page=2&x=a%20b#top",
        (("token", TOKEN), ("SIG", SIG)),
    )
    assert split_secret_params("https://h.example/f?page=2") == ("https://h.example/f?page=2", ())
    assert split_secret_params("https://h.example/f?token=a%2Fb")[1] == (("token", "a/b"),)


def test_redact_text_masks_query_secrets_in_any_text():
    text = f"ERROR: unable to download https://h.example/f.xml?token={TOKEN}&X-Goog-Signature={SIG}: HTTP 403"
    out = redact_text(text)
    assert TOKEN not in out and SIG not in out and "https://h.example/f.xml?token=REDACTED" in out


def test_secret_params_come_back_only_on_the_creators_own_origin():
    access = SourceAccess(False, None, "https://feeds.example.com:443", (("token", TOKEN), ("sig", SIG)))
    assert TOKEN not in repr(access)
    assert access.with_credentials("https://feeds.example.com/f.xml?page=2") == (
        f"https://feeds.example.com/f.xml?page=2&token={TOKEN}&sig={SIG}"
    )
    # A URL that carries its own token (a signed media link) keeps it.
    assert access.with_credentials("https://feeds.example.com/m.mp4?token=own") == (
        f"https://feeds.example.com/m.mp4?token=own&sig={SIG}"
    )
    for elsewhere in ("https://cdn.example.net/m.mp4", "http://feeds.example.com/f.xml"):
        assert access.with_credentials(elsewhere) == elsewhere


def test_a_creator_url_with_query_secrets_is_stored_without_them(tmp_path):
    lay = Layout(tmp_path / "home")
    url = f"https://alice:pw9@feeds.example.com/f.xml?page=2&token={TOKEN}&sig={SIG}"
    c = creators.add(lay, "feed", url)
    assert c.url == "https://feeds.example.com/f.xml?page=2"
    assert TOKEN not in lay.creators_file.read_text() and SIG not in lay.creators_file.read_text()
    assert TOKEN not in repr(creators.describe(lay, "feed"))
    kept = creators.credentials_file(lay, "feed")
    assert TOKEN in kept.read_text() and oct(kept.stat().st_mode & 0o777) == "0o600"
    access = creators.access_for(lay, "feed")
    assert access.origin == origin_of(c.url) and access.credentials == ("alice", "pw9")
    assert (
        access.with_credentials(c.url)
        == f"https://alice:pw9@feeds.example.com/f.xml?page=2&token={TOKEN}&sig={SIG}"
    )
    # Only query secrets, no password: kept the same way.
    creators.add(lay, "feed2", f"https://feeds.example.com/g.xml?api_key={TOKEN}")
    assert creators.get(lay, "feed2").url == "https://feeds.example.com/g.xml"
    assert creators.access_for(lay, "feed2").secret_params == (("api_key", TOKEN),)
    # The creator moves to another host: the old host's secrets are not sent there.
    creators.add(lay, "feed2", "https://other.example.org/g.xml")
    assert creators.access_for(lay, "feed2").secret_params == ()
    assert not creators.credentials_file(lay, "feed2").exists()


def test_a_registry_written_before_keeps_no_secret_once_read(tmp_path):
    """creators.json from before #26 may hold ``?token=``: the first read moves it."""
    import json

    lay = Layout(tmp_path / "home")
    creators.add(lay, "old", "https://feeds.example.com/f.xml")
    data = json.loads(lay.creators_file.read_text())
    data["old"]["url"] = f"https://feeds.example.com/f.xml?token={TOKEN}"
    lay.creators_file.write_text(json.dumps(data))
    assert creators.get(lay, "old").url == "https://feeds.example.com/f.xml"
    assert TOKEN not in lay.creators_file.read_text()
    assert creators.access_for(lay, "old").secret_params == (("token", TOKEN),)
