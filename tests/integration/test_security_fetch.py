"""No fetch reaches inside (issue #26, findings 1-3): the network guard at connect time.

The attacker owns a public server and its DNS. To stand in for that with loopback only, the
test process gets a resolver that answers ``*.attacker.test`` with a public-looking address
(``PUBLIC``, never connected to) and a "network" under the guard that carries a connection to
``PUBLIC:port`` to ``127.0.0.1:port`` for the attacker's own server (any other non-loopback
target fails the test). Omniva's code is unchanged by that: the guard checks the address it is
handed before the network below carries it. Behind loopback sits a canary server standing for
something inside (a LAN service, the metadata endpoint): whatever the attacker tries, the canary
logs nothing, and the errors name no internal host or port.
"""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from omniva.errors import DeadLinkError, TransientSourceError, UnsafeSourceError
from omniva.source_rules import SourceSettings
from omniva_resources import scraper, source_guard, sources
from omniva_resources.source_guard import SourceAccess

PUBLIC = "93.184.216.34"  # only ever what the test resolver answers; the socket goes to loopback
API = SourceAccess(allow_private_network=False)  # a creator registered through the REST API
FEED_DAY = "Mon, 04 Aug 2025 12:00:00 +0000"


class _Recorder(http.server.BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
    log: list[str]

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass

    def _answer(self, body: bool) -> None:
        self.log.append(self.path)
        status, headers, data = self.routes.get(self.path.split("?", 1)[0], (404, {}, b"not here"))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_GET(self):  # noqa: N802 - stdlib name
        self._answer(True)

    def do_HEAD(self):  # noqa: N802 - stdlib name
        self._answer(False)


class Server:
    """A loopback HTTP server that logs every path it is asked for."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        handler = type("H", (_Recorder,), {"routes": self.routes, "log": self.log})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def route(self, path: str, body: bytes | str = b"", status: int = 200, **headers: str) -> None:
        self.routes[path] = (status, headers, body.encode() if isinstance(body, str) else body)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _rss(link: str) -> str:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>http://x/</link>'
        f"<description>d</description><item><title>Post p1</title><guid>p1</guid>"
        f"<pubDate>{FEED_DAY}</pubDate><link>{link}</link></item></channel></rss>"
    )


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNIVA_HOME", str(tmp_path / "home"))
    for var in ("OMNIVA_PROXY", "OMNIVA_SCRAPE_INTERVAL_S", "OMNIVA_COOKIES_DIR"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "home"


@pytest.fixture
def canary():
    server = Server()
    server.route("/canary.mp4", b"\x00\x00\x00\x18ftypmp42 internal bytes", **{"Content-Type": "video/mp4"})
    server.route("/feed.xml", _rss(f"http://127.0.0.1:{server.port}/canary.mp4"))
    yield server
    server.close()


class AttackerNet:
    """The attacker's DNS (``answers``: host -> list of addresses, one per lookup, the last
    repeated) and the network below the guard."""

    def __init__(self, site: Server):
        self.site = site
        self.answers: dict[str, list[str]] = {}
        self.lookups: list[str] = []

    def url(self, host: str, path: str, port: int | None = None) -> str:
        return f"http://{host}.attacker.test:{port or self.site.port}{path}"


@pytest.fixture
def net(monkeypatch, home):
    site = Server()
    attacker = AttackerNet(site)
    real_getaddrinfo = socket.getaddrinfo

    def resolve(host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002 - socket's names
        name = str(host)
        if name.endswith(".attacker.test"):
            attacker.lookups.append(name)
            queue = attacker.answers.setdefault(name, [PUBLIC])
            address = queue.pop(0) if len(queue) > 1 else queue[0]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 80)))]
        return real_getaddrinfo(host, port, family, type, proto, flags)

    def route(address):
        host, port = address[0], address[1]
        if host == PUBLIC:
            if port != site.port:
                raise ConnectionRefusedError(111, "Connection refused")  # nothing listens there
            return ("127.0.0.1", port)
        assert host.startswith("127.") or host in ("::1", "localhost"), f"the test would reach {host}"
        return address

    real_connect, real_connect_ex = source_guard._original_connect, source_guard._original_connect_ex
    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(source_guard, "_original_connect", lambda s, a: real_connect(s, route(a)))
    monkeypatch.setattr(source_guard, "_original_connect_ex", lambda s, a: real_connect_ex(s, route(a)))
    yield attacker
    site.close()


def _settings() -> SourceSettings:
    return SourceSettings(max_retries=0, backoff_s=0.01)


def _post(url: str):
    return scraper.post_from_entry("beta", {"id": "p1", "url": url, "webpage_url": url, "title": "p1"})


def _download(tmp_path: Path, url: str, access: SourceAccess = API) -> Path:
    return scraper.download(
        _post(url), tmp_path / "out" / "p1.mp4", tmp_path / "archive.txt", _settings(), access
    )


def _says_nothing_inside(message: str, *ports: int) -> None:
    assert "127.0.0.1" not in message and "localhost" not in message, message
    for port in ports:
        assert str(port) not in message, message
    for library in ("HTTPConnection", "Errno", "urlopen", "Failed to establish", "File not found", "port="):
        assert library not in message, message


def test_a_public_page_naming_loopback_media_is_refused(net, canary, tmp_path):
    """Finding 1: the page is public (its host resolves to ``PUBLIC``), its ``<video>`` names
    the canary on loopback. Listing reads the page; the download is refused and the canary
    logs nothing."""
    inside = f"http://127.0.0.1:{canary.port}/canary.mp4"
    net.site.route("/post.html", f'<!doctype html><html><body><video src="{inside}"></video></body></html>')
    net.site.route("/feed.xml", _rss(net.url("www", "/post.html")))
    listing = sources.list_day("beta", net.url("www", "/feed.xml"), None, _settings(), API)
    assert [p.url for p in listing.posts] == [net.url("www", "/post.html")]
    with pytest.raises(UnsafeSourceError) as refused:
        _download(tmp_path, net.url("www", "/post.html"))
    assert canary.log == []
    assert "/post.html" in net.site.log
    assert "does not fetch" in str(refused.value)
    _says_nothing_inside(str(refused.value), canary.port)
    assert not (tmp_path / "out" / "p1.mp4").exists()


def test_a_redirect_chain_to_loopback_is_refused_at_listing_and_at_download(net, canary, tmp_path):
    """Finding 2: public -> public -> loopback, for the creator's feed and for a post's media."""
    inside = f"http://127.0.0.1:{canary.port}"
    net.site.route("/r1.xml", status=302, Location=net.url("hop", "/r2.xml"))
    net.site.route("/r2.xml", status=302, Location=f"{inside}/feed.xml")
    net.site.route("/m1.mp4", status=301, Location=net.url("hop", "/m2.mp4"))
    net.site.route("/m2.mp4", status=307, Location=f"{inside}/canary.mp4")
    with pytest.raises(UnsafeSourceError) as at_listing:
        sources.list_day("beta", net.url("www", "/r1.xml"), None, _settings(), API)
    with pytest.raises(UnsafeSourceError) as at_download:
        _download(tmp_path, net.url("www", "/m1.mp4"))
    assert canary.log == []
    assert {"/r1.xml", "/m1.mp4"} <= set(net.site.log)
    for refused in (at_listing, at_download):
        assert "redirected to an address this server does not fetch" in str(refused.value)
        _says_nothing_inside(str(refused.value), canary.port)
    # The same feed through the API's scrape path (``sources.check``) is refused the same way.
    with pytest.raises(UnsafeSourceError):
        sources.check(net.url("www", "/r1.xml"), settings=_settings(), access=API)
    assert canary.log == []


def test_dns_that_answers_public_then_loopback_cannot_reach_loopback(net, canary, tmp_path):
    """The check before the fetch sees the public answer; the connect that follows is handed
    the loopback one and is refused at connect time."""
    host = "rebind.attacker.test"
    net.answers[host] = [PUBLIC, "127.0.0.1"]
    url = f"http://{host}:{canary.port}/feed.xml"
    with pytest.raises(UnsafeSourceError) as refused:
        sources.list_day("beta", url, None, _settings(), API)
    assert canary.log == [] and net.lookups.count(host) >= 2
    _says_nothing_inside(str(refused.value))  # (the port is the one the creator's own URL names)
    net.answers[f"media-{host}"] = [PUBLIC, "127.0.0.1"]
    with pytest.raises(UnsafeSourceError):
        _download(tmp_path, f"http://media-{host}:{canary.port}/canary.mp4")
    assert canary.log == []


def test_closed_and_open_inside_ports_look_the_same_and_public_failures_say_what_kind(net, canary, tmp_path):
    """No port scanner: a redirect to a closed and to an open loopback port give one answer;
    a public port that does not answer and a public 404 say so, without hosts or library text."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    net.site.route("/to-closed.xml", status=302, Location=f"http://127.0.0.1:{closed}/feed.xml")
    net.site.route("/to-open.xml", status=302, Location=f"http://127.0.0.1:{canary.port}/feed.xml")
    messages = []
    for path in ("/to-closed.xml", "/to-open.xml"):
        with pytest.raises(UnsafeSourceError) as refused:
            scraper.fetch_document(net.url("www", path), _settings(), "creator 'beta'", API)
        messages.append(str(refused.value))
        _says_nothing_inside(messages[-1], closed, canary.port)
    assert messages[0] == messages[1] and canary.log == []

    with pytest.raises(TransientSourceError) as silent:  # nothing listens on PUBLIC:port
        scraper.fetch_document(net.url("www", "/feed.xml", port=closed), _settings(), "creator 'beta'", API)
    assert "the source did not answer" in str(silent.value)
    _says_nothing_inside(str(silent.value), canary.port)
    with pytest.raises(DeadLinkError) as gone:
        _download(tmp_path, net.url("www", "/gone.mp4"))
    assert "the source answered HTTP 404" in str(gone.value)
    _says_nothing_inside(str(gone.value), canary.port)


def test_a_creator_registered_from_the_cli_keeps_its_private_network(canary, home):
    """``allow_private_network`` (the CLI's registration): loopback is on purpose, and its
    errors keep yt-dlp's detail for the operator."""
    trusted = SourceAccess(allow_private_network=True)
    body = scraper.fetch_document(f"http://127.0.0.1:{canary.port}/feed.xml", _settings(), "c", trusted)
    assert b"<rss" in body and canary.log == ["/feed.xml"]
    with pytest.raises(DeadLinkError, match="HTTP Error 404"):
        scraper.fetch_document(f"http://127.0.0.1:{canary.port}/nope.xml", _settings(), "c", trusted)


def test_the_guard_holds_only_in_the_thread_that_took_it(canary):
    """Another thread (the API answering a request, an upload) connects as it always did while
    a fetch for an API creator holds the guard; nested guards restore the outer one."""
    reached: list[bool] = []

    def other() -> None:
        with socket.create_connection(("127.0.0.1", canary.port), timeout=5):
            reached.append(True)

    with source_guard.network_guard(API) as guard:
        worker = threading.Thread(target=other)
        worker.start()
        worker.join(10)
        with pytest.raises(source_guard.RefusedAddressError) as refused:
            socket.create_connection(("localhost", canary.port), timeout=5)
        assert "127.0.0.1" not in str(refused.value) and guard.refused
        with source_guard.network_guard(SourceAccess(allow_private_network=True)):
            socket.create_connection(("127.0.0.1", canary.port), timeout=5).close()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", canary.port), timeout=5)
    assert reached == [True]
    socket.create_connection(("127.0.0.1", canary.port), timeout=5).close()


def test_the_guard_refuses_every_private_form_at_connect_time():
    for address in (
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.1",
        "169.254.169.254",
        "::1",
        "::ffff:127.0.0.1",
        "0.0.0.0",
    ):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with source_guard.network_guard(API) as guard, socket.socket(family) as sock:
            sock.settimeout(2)
            with pytest.raises(source_guard.RefusedAddressError):
                sock.connect((address, 9))
            assert sock.connect_ex((address, 9)) != 0
            assert len(guard.refused) == 2, address


def test_no_external_downloader_runs_under_the_guard(home):
    """ffmpeg, aria2c, curl, rtmpdump resolve and connect on their own: refused under the guard."""
    import yt_dlp
    from yt_dlp.downloader.external import FFmpegFD

    with scraper._ydl({"quiet": True}) as ydl, source_guard.network_guard(API) as guard:
        with pytest.raises(yt_dlp.utils.DownloadError):
            FFmpegFD(ydl, {}).real_download("x.mp4", {"url": "http://127.0.0.1:9/x.m3u8", "protocol": "m3u8"})
        with pytest.raises(yt_dlp.networking.exceptions.RequestError):
            ydl.urlopen("ftp://127.0.0.1/x")
        assert len(guard.refused) == 2


@pytest.mark.skipif(sys.platform != "linux", reason="a child process of its own")
def test_the_guard_is_installed_in_a_fresh_process():
    code = (
        "import socket; from omniva_resources import scraper, source_guard as g;"
        "assert socket.socket.connect is g._guarded_connect; print('ok')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, timeout=120
    )
    assert done.stdout.strip() == "ok", done.stderr


TOKEN, SIG = "Pl4ntedT0ken31", "Pl4ntedS1g42"


def test_a_planted_query_secret_lives_only_in_the_secrets_folder(home, tmp_path, monkeypatch):
    """Finding 3: a creator URL with ``?token=...&sig=...`` registered with the CLI's
    registration function, a site that answers 403 without them, a full listing and download
    through Dagster (storage under the Omniva home), then a search of every file of the home."""
    from datetime import date

    import dagster as dg

    from omniva.settings import Layout
    from omniva_app.driver import Runner
    from omniva_assets.definitions import defs as omniva_defs
    from omniva_resources import creators
    from omniva_resources.resources import OmnivaStore, resources_from_env
    from tests.creator_site import CreatorSite, SitePost, day

    lay = Layout(home)
    posts = [SitePost("q1", day(4), "rss", "media")]
    with CreatorSite(tmp_path / "site", posts, query_auth={"token": TOKEN, "sig": SIG}) as site:
        planted = f"{site.base}/rss.xml?token={TOKEN}&sig={SIG}"
        c = creators.add(lay, "tok", planted, allow_private_network=True)
        assert c.url == f"{site.base}/rss.xml"
        defs = dg.Definitions(
            assets=omniva_defs.assets,
            jobs=omniva_defs.jobs,
            resources={
                **resources_from_env(),
                **(omniva_defs.resources or {}),
                "store": OmnivaStore(home=str(home)),
            },
        )
        (home / "dagster").mkdir(parents=True, exist_ok=True)
        echo: list[str] = []
        with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
            report = Runner(defs, instance, echo=echo.append).fetch_creator(
                "tok", date(2025, 8, 4), date(2025, 8, 4)
            )
        answers = list(site.answers)
    # The secrets were used (403 without them): the feed and the media answered 200.
    assert ("/rss.xml", 200) in answers and ("/media/q1.mp4", 200) in answers, answers
    assert not report.failures and len(report.video_keys) == 1, report
    for line in echo:
        assert TOKEN not in line and SIG not in line, line
    secrets = home / "secrets"
    found = [
        path
        for path in home.rglob("*")
        if path.is_file()
        and not path.is_symlink()
        and (TOKEN.encode() in (data := path.read_bytes()) or SIG.encode() in data)
    ]
    assert found == [creators.credentials_file(lay, "tok")], found
    assert all(secrets in p.parents for p in found)
    assert oct(found[0].stat().st_mode & 0o777) == "0o600"


def test_the_entry_cache_is_no_way_around_the_check(canary, home):
    """What was resolved (and cached) for a creator of the operator's on loopback is not
    answered from the cache to a creator registered through the API."""
    url = f"http://127.0.0.1:{canary.port}/canary.mp4"
    assert scraper.resolve(url, _settings(), SourceAccess(allow_private_network=True)) is not None
    with pytest.raises(UnsafeSourceError):
        scraper.resolve(url, _settings(), API)


def test_redirects_to_other_schemes_reach_nothing(net, canary, tmp_path):
    """A redirect hop to ``file://`` or ``ftp://`` (an inside address) fails, and reads nothing."""
    from omniva.errors import SourceError

    net.site.route("/to-file.xml", status=302, Location="file:///etc/passwd")
    net.site.route("/to-ftp.xml", status=302, Location=f"ftp://127.0.0.1:{canary.port}/feed.xml")
    for path in ("/to-file.xml", "/to-ftp.xml"):
        with pytest.raises(SourceError) as failed:
            scraper.fetch_document(net.url("www", path), _settings(), "creator 'beta'", API)
        assert "root:" not in str(failed.value)
        _says_nothing_inside(str(failed.value), canary.port)
    assert canary.log == []
