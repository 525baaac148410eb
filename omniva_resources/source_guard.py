"""Where Omniva may fetch from: the guard against a creator URL aimed at the server itself.

A creator registered through the REST API may only be an ``http``/``https`` URL whose host
resolves to public addresses (``check_api_source_url``); folder and ``file://`` sources come
from the CLI, or through the API only under ``OMNIVA_FOLDER_SOURCES_ROOT``. DNS can change
after registration, so the scraper asks again before each fetch (``check_fetch_url``) unless
the creator was registered from the CLI, where a loopback or private address is on purpose
(``SourceAccess.allow_private_network``).

That check of the URL is only the first word: a page names media elsewhere, a server
redirects, DNS answers differently the second time. The last word is ``network_guard``, a
guard at connect time: while it is held (by the thread doing one yt-dlp call for a creator
without ``allow_private_network``) every ``socket.connect`` of that thread, whatever library
makes it and for whatever hop (page, media, fragment, subtitle, redirect), is checked against
the same policy (``refused_reason``). A host name given to ``connect`` is resolved once here
and the socket connects to the checked address; an address from ``getaddrinfo`` is checked as
it is connected to, so no later lookup can change what was checked. A refused connect raises
``RefusedAddressError`` (an ``OSError`` naming no address) and is recorded on the guard, so the
caller can say what happened without the library's text; the address goes to the server log.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import logging
import os
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
log = logging.getLogger("omniva.source_guard")
_HINT = "give the public http(s) URL of the creator's channel, feed or page"


@dataclass(frozen=True, slots=True)
class SourceAccess:
    """How one creator's URLs may be fetched: ``allow_private_network`` only for creators
    registered from the CLI; ``credentials`` (user, password) re-attached in memory to URLs of
    the creator's own origin, never stored in its URL."""

    allow_private_network: bool = False
    credentials: tuple[str, str] | None = field(default=None, repr=False)
    origin: str = ""  # scheme://host:port of the creator's URL
    # Secret query parameters of the creator's URL (``?token=...``), kept out of its stored URL.
    secret_params: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    def with_credentials(self, url: str) -> str:
        """``url`` with the creator's credentials (``user:password@`` and the secret query
        parameters it does not carry already) when it is on the creator's own origin."""
        if not (self.credentials or self.secret_params) or origin_of(url) != self.origin:
            return url
        parts = urllib.parse.urlsplit(url)
        if self.credentials and "@" not in parts.netloc:
            user, password = (urllib.parse.quote(p, safe="") for p in self.credentials)
            parts = parts._replace(netloc=f"{user}:{password}@{parts.netloc}")
        if self.secret_params:
            have = {k.lower() for k, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)}
            extra = [(k, v) for k, v in self.secret_params if k.lower() not in have]
            if extra:
                added = urllib.parse.urlencode(extra)
                parts = parts._replace(query=f"{parts.query}&{added}" if parts.query else added)
        return urllib.parse.urlunsplit(parts)


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


# ---- the guard at connect time ---------------------------------------------------------------


class RefusedAddressError(ConnectionRefusedError):
    """A connect the network guard refused. Its text names no address (the log does)."""

    def __init__(self) -> None:
        super().__init__(errno.ECONNREFUSED, "refused by Omniva's network guard")


@dataclass(slots=True)
class NetworkGuard:
    """One guarded call: the addresses it may reach besides public ones (the operator's
    proxy), and what it refused (for the caller's error; the addresses only for the log)."""

    allowed: frozenset[tuple[str, int]] = frozenset()
    refused: list[str] = field(default_factory=list)
    active: bool = True

    def refuse(self, what: str) -> None:
        self.refused.append(what)
        log.warning("network guard: refused a connection to %s", what)

    def checked(self, family: int, sock_type: int, address: object) -> object:
        """The address to connect to: a checked IP literal; raises ``RefusedAddressError``."""
        if family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
            self.refuse(f"a non-IP socket address ({family!r})")
            raise RefusedAddressError()
        host, port = str(address[0]), int(address[1])
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
            candidates = [address]
        except ValueError:
            # A host name handed straight to connect(): resolve it once, here, and connect to
            # the address that was checked (the C library would otherwise look it up again).
            infos = socket.getaddrinfo(host, port, family, sock_type)
            candidates = [info[4] for info in infos]
        for candidate in candidates:
            ip = str(candidate[0])
            if (ip.split("%", 1)[0], port) in self.allowed or refused_reason(ip) is None:
                return candidate
            self.refuse(f"{ip} port {port} ({refused_reason(ip)})")
        raise RefusedAddressError()


_local = threading.local()
_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex


def current_guard() -> NetworkGuard | None:
    """The guard this thread holds, if any."""
    guard = getattr(_local, "guard", None)
    return guard if guard is not None and guard.active else None


def _guarded_connect(self: socket.socket, address: Any) -> None:
    guard = current_guard()
    if guard is not None:
        address = guard.checked(self.family, self.type, address)
    return _original_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    guard = current_guard()
    if guard is not None:
        try:
            address = guard.checked(self.family, self.type, address)
        except RefusedAddressError:
            return errno.ECONNREFUSED
    return _original_connect_ex(self, address)


def _install() -> None:
    """Wrap ``socket.socket.connect`` once per process. Without a guard held by the calling
    thread the wrapper is the original call (other threads, the API, uploads: untouched)."""
    if getattr(socket.socket, "_omniva_guard", False):
        return
    setattr(socket.socket, "connect", _guarded_connect)  # noqa: B010 - a class attribute, on purpose
    setattr(socket.socket, "connect_ex", _guarded_connect_ex)  # noqa: B010
    setattr(socket.socket, "_omniva_guard", True)  # noqa: B010


_install()


def _proxy_addresses(proxy: str | None) -> frozenset[tuple[str, int]]:
    """The operator's proxy may be on a private address: the guard lets connects to it pass
    (what the proxy then fetches is its own egress policy's business)."""
    if not proxy:
        return frozenset()
    parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if not parts.hostname:
        return frozenset()
    try:
        port = parts.port or {"https": 443, "socks5": 1080, "socks5h": 1080, "socks4": 1080}.get(
            parts.scheme, 80
        )
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError):
        return frozenset()
    return frozenset((str(info[4][0]).split("%", 1)[0], port) for info in infos)


@contextlib.contextmanager
def network_guard(access: SourceAccess, proxy: str | None = None) -> Iterator[NetworkGuard]:
    """Hold the connect-time guard in this thread for one call made for a creator (a no-op
    guard for a creator registered from the CLI with ``allow_private_network``)."""
    previous = getattr(_local, "guard", None)
    if access.allow_private_network:  # the innermost guard is the one that holds
        guard = NetworkGuard(active=False)
    else:
        guard = NetworkGuard(allowed=_proxy_addresses(proxy))
    _local.guard = guard
    try:
        yield guard
    finally:
        _local.guard = previous
