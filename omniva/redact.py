"""The one redaction helper: credentials never leave memory.

A URL's ``user:password@`` part and the values of known secret query parameters (token, key,
signature, ...) are replaced before anything is printed, logged, stored or raised. Pure: no
I/O, so every layer can call it.
"""

from __future__ import annotations

import re
import urllib.parse

MASK = "REDACTED"
SECRET_PARAMS = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "auth",
        "client_secret",
        "key",
        "password",
        "passwd",
        "pwd",
        "refresh_token",
        "secret",
        "sig",
        "signature",
        "token",
        "x-amz-credential",
        "x-amz-security-token",
        "x-amz-signature",
    }
)
# scheme://userinfo@ : the userinfo runs up to the last '@' before the host's path.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s@'\"<>]*@")
# user:password@host without a scheme (yt-dlp's ``webpage_url_domain``); not mailto:x@y.
_BARE_USERINFO = re.compile(r"(?i)(?<![\w/:@.%+-])(?!mailto:)[\w.%+-]+:[^\s/?#@'\"<>]+@(?=[\w\[])")
_PARAM = re.compile(r"(?i)([?&;])([a-z0-9_.-]+)=([^&#\s'\"<>]*)")


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``url`` without its ``user:password@`` part, and that (user, password) if there was one."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    clean = urllib.parse.urlunsplit(parts._replace(netloc=host))
    return clean, (urllib.parse.unquote(user), urllib.parse.unquote(password))


def _param(match: re.Match[str]) -> str:
    sep, name, value = match.groups()
    return f"{sep}{name}={MASK}" if name.lower() in SECRET_PARAMS and value else match.group(0)


def redact_text(text: str) -> str:
    """``text`` with every URL's credentials and secret query values masked."""
    if "@" not in text and "=" not in text:
        return text
    return _PARAM.sub(_param, _BARE_USERINFO.sub("", _USERINFO.sub(r"\1", text)))


def redact_url(url: str) -> str:
    """One URL without ``user:password@`` and with secret query values masked."""
    return redact_text(url)


def redact_value(value: object) -> object:
    """Every string inside a JSON-like value redacted (dict keys kept)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(v) for v in value]
    return value
