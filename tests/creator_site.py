"""A loopback creator site for the source tests: an RSS feed, an Atom feed and a plain page of
links, posts over a week, media with real dates (``Last-Modified``), post pages with a
schema.org VideoObject, a 404 link, a page that says the video is private, and paths that
answer 429 once before they serve. Every request is logged, so a test can tell exactly what
was fetched. With ``auth=(user, password)`` every path requires that HTTP basic auth (401
otherwise), as a creator's private feed would. With ``query_auth={"token": ...}`` every path
requires those query parameters (403 otherwise), as a feed behind a token in its URL would.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import subprocess
import threading
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape


@dataclass(frozen=True, slots=True)
class SitePost:
    slug: str
    published: datetime
    feed: str  # rss | atom | page
    # media (direct file) | page (VideoObject page) | captioned (<video> with a subtitles
    # <track>) | missing (404) | private (a page saying so)
    kind: str = "media"
    license: str | None = None

    @property
    def title(self) -> str:
        return f"Post {self.slug}"


def day(d: int, hour: int = 12) -> datetime:
    """A time on 2025-08-0d (the test week is 2025-08-04 .. 2025-08-10)."""
    return datetime(2025, 8, d, hour, 0, tzinfo=UTC)


class _Handler(http.server.SimpleHTTPRequestHandler):
    site: CreatorSite

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass

    def send_head(self):
        path = self.path.split("?", 1)[0]
        if self.site.query_auth is not None:
            given = dict(urllib.parse.parse_qsl(self.path.partition("?")[2]))
            if any(given.get(k) != v for k, v in self.site.query_auth.items()):
                with self.site.lock:
                    self.site.requests.append((self.command, path))
                    self.site.answers.append((path, 403))
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
        with self.site.lock:
            self.site.requests.append((self.command, path))
            if self.headers.get("Cookie"):
                self.site.cookies.append((path, self.headers["Cookie"]))
            limited = path in self.site.limited_once
            self.site.limited_once.discard(path)
            denied = self.site.expected_auth is not None and (
                self.headers.get("Authorization") != self.site.expected_auth
            )
        if denied:
            self.site.answers.append((path, 401))
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="creator"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if limited:
            self.site.answers.append((path, 429))
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        head = super().send_head()
        self.site.answers.append((path, 200 if head else 404))
        return head


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


def make_media(out: Path, seed: int) -> None:
    """A 1.5 s video with a tone; each seed gives different bytes (no Paradox duplicates)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", "testsrc=size=160x90:rate=10:duration=1.5",
            "-f", "lavfi", "-i", f"sine=frequency={300 + 37 * seed}:duration=1.5",
            "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", str(out),
        ],
        check=True,
    )  # fmt: skip


class CreatorSite:
    def __init__(
        self,
        root: Path,
        posts: list[SitePost],
        auth: tuple[str, str] | None = None,
        query_auth: dict[str, str] | None = None,
    ):
        self.root = Path(root)
        self.query_auth = query_auth
        self.expected_auth = (
            "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode() if auth else None
        )
        self.posts = list(posts)
        self.requests: list[tuple[str, str]] = []
        self.answers: list[tuple[str, int]] = []
        self.limited_once: set[str] = set()
        self.cookies: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"site": self})
        self.server = _Server(("127.0.0.1", 0), functools.partial(handler, directory=str(self.root)))
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CreatorSite:
        self.build()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def media_url(self, p: SitePost) -> str:
        return f"{self.base}/media/{p.slug}.mp4"

    def post_url(self, p: SitePost) -> str:
        """Where a feed or page points for this post."""
        return self.media_url(p) if p.kind in ("media", "missing") else f"{self.base}/posts/{p.slug}.html"

    def add(self, post: SitePost) -> None:
        self.posts.append(post)
        self.build()

    def build(self) -> None:
        for n, p in enumerate(self.posts):
            media = self.root / "media" / f"{p.slug}.mp4"
            if p.kind in ("media", "page", "captioned") and not media.exists():
                make_media(media, n)
            if media.exists():  # the server's Last-Modified is the publication time
                os.utime(media, (p.published.timestamp(), p.published.timestamp()))
            if p.kind == "page":
                ld = {
                    "@context": "https://schema.org",
                    "@type": "VideoObject",
                    "name": p.title,
                    "uploadDate": p.published.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "contentUrl": self.media_url(p),
                    "description": f"The {p.slug} post.",
                }
                self._write(
                    f"posts/{p.slug}.html",
                    f'<!doctype html><html><head><title>{p.title}</title><script type="application/ld+json">'
                    f"{json.dumps(ld)}</script></head><body><h1>{p.title}</h1></body></html>",
                )
            elif p.kind == "captioned":
                self._write(
                    f"subs/{p.slug}.vtt", "WEBVTT\n\n00:00.000 --> 00:01.000\nHello from the captions\n"
                )
                self._write(
                    f"posts/{p.slug}.html",
                    f"<!doctype html><html><head><title>{p.title}</title></head><body><video controls>"
                    f'<source src="/media/{p.slug}.mp4" type="video/mp4">'
                    f'<track kind="subtitles" srclang="en" label="English" src="/subs/{p.slug}.vtt"></video>'
                    "</body></html>",
                )
            elif p.kind == "private":
                self._write(
                    f"posts/{p.slug}.html",
                    f"<!doctype html><html><head><title>{p.title}</title></head><body>"
                    "<p>This video is private. Only people the creator chose can watch it.</p></body></html>",
                )
        self._write("rss.xml", self._rss([p for p in self.posts if p.feed == "rss"]))
        self._write("atom.xml", self._atom([p for p in self.posts if p.feed == "atom"]))
        self._write("page.html", self._page([p for p in self.posts if p.feed == "page"]))
        self._write("about.html", "<!doctype html><title>About</title><p>A creator who films things.</p>")

    def _write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def _rss(self, posts: list[SitePost]) -> str:
        items = "".join(
            f'<item><title>{escape(p.title)}</title><guid isPermaLink="false">rss-{p.slug}</guid>'
            f"<pubDate>{format_datetime(p.published)}</pubDate><link>{self.post_url(p)}</link>"
            f'<enclosure url="{self.post_url(p)}" type="video/mp4" length="0"/></item>'
            for p in posts
        )
        return (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>RSS creator</title>'
            f"<link>{self.base}/</link><description>posts</description>{items}</channel></rss>"
        )

    def _atom(self, posts: list[SitePost]) -> str:
        entries = "".join(
            f"<entry><id>tag:loopback,2025:{p.slug}</id><title>{escape(p.title)}</title>"
            f"<published>{p.published.strftime('%Y-%m-%dT%H:%M:%SZ')}</published>"
            f"<updated>{p.published.strftime('%Y-%m-%dT%H:%M:%SZ')}</updated>"
            + (f"<rights>{escape(p.license)}</rights>" if p.license else "")
            + (
                f'<link rel="enclosure" type="video/mp4" href="{self.post_url(p)}"/>'
                if p.kind in ("media", "missing")
                else f'<link rel="alternate" href="{self.post_url(p)}"/>'
            )
            + "</entry>"
            for p in posts
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Atom creator</title><id>tag:loopback,2025:atom</id><updated>2025-08-10T00:00:00Z</updated>"
            f"<author><name>Atom Creator</name></author>{entries}</feed>"
        )

    def _page(self, posts: list[SitePost]) -> str:
        links = "".join(f'<li><a href="{self.post_url(p)}">{escape(p.title)}</a></li>' for p in posts)
        return (
            "<!doctype html><html><head><title>Page creator</title></head><body><h1>Videos</h1>"
            f'<nav><a href="/">home</a> <a href="about.html">about</a> <a href="atom.xml">feed</a></nav>'
            f"<ul>{links}</ul></body></html>"
        )

    def media_gets(self) -> list[str]:
        with self.lock:
            return [p for m, p in self.requests if m == "GET" and p.startswith("/media/")]
