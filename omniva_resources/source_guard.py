"""Where Omniva may fetch from: the guard against a creator URL aimed at the server itself.

A creator registered through the REST API may only be an ``http``/``https`` URL whose host
resolves to public addresses (``check_api_source_url``); folder and ``file://`` sources come
from the CLI, or through the API only under ``OMNIVA_FOLDER_SOURCES_ROOT``. DNS can change
after registration, so the scraper asks again before each fetch (``check_fetch_url``) unless
the creator was registered from the CLI, where a loopback or private address is on purpose
(``SourceAccess.allow_private_network``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from omniva.errors import TransientSourceError, UnsafeSourceError
from omniva.redact import redact_url

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
_HINT = "give the public http(s) URL of the creator's channel, feed or page"


@dataclass(frozen=True, slots=True)
class SourceAccess:
    """How one creator's URLs may be fetched: ``allow_private_network`` only for creators
    registered from the CLI; ``credentials`` (user, password) re-attached in memory to URLs of
    the creator's own origin, never stored in its URL."""

    allow_private_network: bool = False
    credentials: tuple[str, str] | None = field(default=None, repr=False)
    origin: str = ""  # scheme://host:port of the creator's URL

    def with_credentials(self, url: str) -> str:
        """``url`` with the creator's credentials when it is on the creator's own origin."""
        if not self.credentials or origin_of(url) != self.origin:
            return url
        user, password = (urllib.parse.quote(p, safe="") for p in self.credentials)
        parts = urllib.parse.urlsplit(url)
        return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:{password}@{parts.netloc}"))


# The caller vouches for the URL: the CLI (``omniva sources check``) and its tests.
TRUSTED = SourceAccess(allow_private_network=True)


def origin_of(url: str) -> str:
    """``scheme://host:port`` of a URL (credentials are tied to it)."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    except ValueError:
        return ""
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def refused_reason(address: str) -> str | None:
    """Why an IP address is not one to fetch from, or None for a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for test, what in (
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (not ip.is_global, "non-public"),
    ):
        if test:
            return f"{'an' if what[0] in 'aeiou' else 'a'} {what} address"
    return None


def _addresses(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (a literal IP is its own answer, no DNS)."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _check_network(url: str, shown: str) -> None:
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise UnsafeSourceError(f"source URL {shown}: only http(s) URLs with a host can be fetched; {_HINT}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeSourceError(f"source URL {shown}: the port is not a number; {_HINT}") from None
    try:
        addresses = _addresses(host, port)
    except (OSError, UnicodeError) as exc:
        raise TransientSourceError(
            f"source URL {shown}: its host could not be resolved ({type(exc).__name__}); retry later"
        ) from None
    for address in addresses:
        reason = refused_reason(address)
        if reason:
            raise UnsafeSourceError(
                f"source URL {shown}: its host resolves to {reason}, which Omniva does not "
                f"fetch from for a creator registered through the API; {_HINT}"
            )


def _is_local(url: str) -> bool:
    return (
        url.startswith(("folder:", "file:", "/", "~", "."))
        or "://" not in url
        and not url.lower().startswith(("http:", "https:"))
    )


def check_api_source_url(url: str, folder_root: str = "") -> str:
    """The URL, checked for registration through the REST API; raises ``UnsafeSourceError``.

    Only http(s) to public addresses. A folder (``folder://``, ``file://`` or a path) only
    inside ``folder_root`` (``OMNIVA_FOLDER_SOURCES_ROOT``; empty: none), and the answer is
    the same whether the folder exists or not. A host that does not resolve now is accepted:
    the scraper checks it again before every fetch."""
    shown = redact_url(url.strip())[:300]
    url = url.strip()
    if _is_local(url):
        return _check_folder(url, shown, folder_root)
    if not url.lower().startswith(("http://", "https://")):
        raise UnsafeSourceError(f"source URL {shown}: only http(s) URLs are accepted here; {_HINT}")
    with contextlib.suppress(TransientSourceError):
        _check_network(url, shown)
    return url


def _check_folder(url: str, shown: str, folder_root: str) -> str:
    refusal = UnsafeSourceError(
        f"source {shown}: folders and files on the server are not accepted through the API "
        "(register them with `omniva creators add` on the server, or under the folder root the "
        f"operator configured in OMNIVA_FOLDER_SOURCES_ROOT); {_HINT}"
    )
    if not folder_root:
        raise refusal
    text = url
    for prefix in ("folder://", "file://"):
        if text.startswith(prefix):
            text = urllib.parse.unquote(urllib.parse.urlsplit(text).path)
    if text.startswith("~") or not text.startswith("/"):
        raise refusal
    root = Path(folder_root).resolve()
    # realpath follows symlinks that exist and keeps the rest: the same answer for a folder
    # that exists and one that does not.
    path = Path(os.path.realpath(text))
    if path != root and root not in path.parents:
        raise refusal
    return "folder://" + urllib.parse.quote(str(path))


def check_fetch_url(url: str, access: SourceAccess) -> None:
    """Before each fetch of a creator's or media URL: refuse loopback, private, link-local and
    metadata addresses unless the creator may use them. Local schemes are the folder
    adapter's (registered from the CLI, or under the folder root)."""
    if access.allow_private_network:
        return
    if not url.lower().startswith(("http://", "https://")):
        raise UnsafeSourceError(f"source URL {redact_url(url)[:300]}: only http(s) URLs can be fetched")
    _check_network(url, redact_url(url)[:300])
