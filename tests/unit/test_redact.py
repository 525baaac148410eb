"""The one redaction helper (issue #16): credentials never leave memory."""

from __future__ import annotations

from omniva.redact import redact_text, redact_url, redact_value, split_credentials


def test_redact_url_strips_user_and_password():
    assert redact_url("https://alice:S3cretPass@feeds.example.com/feed.xml") == (
        "https://feeds.example.com/feed.xml"
    )
    assert redact_url("http://token@127.0.0.1:8000/x") == "http://127.0.0.1:8000/x"
    assert redact_url("https://example.org/a?b=1") == "https://example.org/a?b=1"


def test_redact_text_finds_every_url_and_secret_query_values():
    text = (
        "ERROR: [generic] Unable to download http://alice:S3cretPass@127.0.0.1:8080/rss.xml: "
        "HTTP Error 500 (then https://bob:pw%40x@cdn.example.net/v.mp4?token=abc&sig=zz&page=2)"
    )
    out = redact_text(text)
    assert "S3cretPass" not in out and "pw%40x" not in out and "abc" not in out and "zz" not in out
    assert "http://127.0.0.1:8080/rss.xml" in out and "page=2" in out
    assert redact_text("mail alice@example.org, x=1") == "mail alice@example.org, x=1"
    assert redact_text("mailto:alice@example.org") == "mailto:alice@example.org"
    # yt-dlp's webpage_url_domain keeps the userinfo without a scheme
    assert redact_text('"domain": "alice:S3cretPass@127.0.0.1:8080"') == '"domain": "127.0.0.1:8080"'


def test_split_credentials_decodes_and_keeps_the_rest():
    assert split_credentials("https://al%40ce:p%3Ass@h.example:8443/f?q=1#x") == (
        "https://h.example:8443/f?q=1#x",
        ("al@ce", "p:ss"),
    )
    assert split_credentials("https://h.example/f") == ("https://h.example/f", None)


def test_redact_value_walks_json():
    value = {"webpage_url": "http://u:p@h/x", "n": 3, "list": ["http://u:p@h/y", None]}
    assert redact_value(value) == {"webpage_url": "http://h/x", "n": 3, "list": ["http://h/y", None]}
