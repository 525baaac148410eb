"""The one redaction helper: credentials never leave memory.

A URL's ``user:password@`` part and the values of query parameters whose names look secret
(token, key, sig, signature, auth, password, secret, session, ``X-Amz-*``, ``X-Goog-*``, ...;
any case) are replaced before anything is printed, logged, stored, answered or raised. At
registration ``split_credentials`` and ``split_secret_params`` take them out of a creator's URL
(they go to the secrets folder), so the URL that is stored holds no secret at all. Pure: no
I/O, so every layer (the CLI, the API's answers and job messages, the warehouse) calls it.
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
        "session",
        "sessionid",
        "session_id",
        "sid",
        "jwt",
        "hash",
        "hmac",
        "code",
        "credential",
        "credentials",
    }
)
# Names that contain one of these, or start with a cloud's signing prefix, are secret too
# (``X-Amz-Signature``, ``X-Goog-Credential``, ``hdnts``'s ``hmac``, ``my_api_key``...).
_SECRET_PARTS = (
    "token",
    "secret",
    "passw",
    "signature",
    "apikey",
    "api_key",
    "api-key",
    "session",
    "credential",
)
_SECRET_PREFIXES = ("x-amz-", "x-goog-", "x-ms-", "x-oss-")
_SECRET_WORDS = re.compile(r"(?:^|[_.-])(?:key|sig|auth|pwd|hmac)$|^auth(?:[_.-]|$)")


def is_secret_param(name: str) -> bool:
    """Whether a query parameter's name looks like it carries a secret (case-insensitive)."""
    name = name.lower().strip()
    return (
        name in SECRET_PARAMS
        or name.startswith(_SECRET_PREFIXES)
        or any(part in name for part in _SECRET_PARTS)
        or bool(_SECRET_WORDS.search(name))
    )


# scheme://userinfo@ : the userinfo runs up to the last '@' before the host's path.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s@'\"<>]*@")
# user:password@host without a scheme (yt-dlp's ``webpage_url_domain``); not mailto:x@y.
_BARE_USERINFO = re.compile(r"(?i)(?<![\w/:@.%+-])(?!mailto:)[\w.%+-]+:[^\s/?#@'\"<>]+@(?=[\w\[])")
_PARAM = re.compile(r"(?i)([?&;])([a-z0-9_.%-]+)=([^&#\s'\"<>]*)")


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``url`` without its ``user:password@`` part, and that (user, password) if there was one."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    clean = urllib.parse.urlunsplit(parts._replace(netloc=host))
    return clean, (urllib.parse.unquote(user), urllib.parse.unquote(password))


def split_secret_params(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """``url`` without its secret query parameters (``is_secret_param``), and those
    (name, value) pairs, decoded, in their order. The other parameters keep their text."""
    parts = urllib.parse.urlsplit(url)
    if not parts.query:
        return url, ()
    kept: list[str] = []
    secrets: list[tuple[str, str]] = []
    for piece in parts.query.split("&"):
        name, sep, value = piece.partition("=")
        if is_secret_param(urllib.parse.unquote_plus(name)) and piece:
            secrets.append((urllib.parse.unquote_plus(name), urllib.parse.unquote_plus(value)))
        else:
            kept.append(piece)
    if not secrets:
        return url, ()
    return urllib.parse.urlunsplit(parts._replace(query="&".join(p for p in kept if p))), tuple(secrets)


def _param(match: re.Match[str]) -> str:
    sep, name, value = match.groups()
    return (
        f"{sep}{name}={MASK}"
        if value and is_secret_param(urllib.parse.unquote_plus(name))
        else match.group(0)
    )


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
