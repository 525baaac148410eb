"""The one place that calls yt-dlp: list a creator's posts, resolve one entry, download one post.

Listing uses flat extraction (no media fetched). Sources yt-dlp does not enumerate (an Atom
feed, a plain page of links) are read here and each entry URL is handed to yt-dlp. Every
request goes through one polite path: a per-platform minimum interval shared by all
processes, backoff on 429 and 5xx honouring ``Retry-After`` (bounded), the creator's
cookies file and the proxy. Downloading writes into a temporary folder and moves the
finished MP4 (with its info JSON and subtitles) into the media store; yt-dlp's download
archive records every id so the same post is never fetched twice.

Before each fetch the URL is checked against the creator's ``SourceAccess`` (no loopback,
private or metadata address unless registered from the CLI), and a creator's credentials are
put back into URLs of its own origin only in memory: whatever yt-dlp answers (info dicts, error
texts, its log) is redacted before it leaves this module.

The URL check is the early, clear answer; the guarantee is ``source_guard.network_guard``, held
around every yt-dlp call for a creator without ``allow_private_network``: every connect that
call makes (the page, the media a page names, HLS/DASH fragments, subtitles, every redirect
hop) is checked at connect time. While it is held yt-dlp may only open http(s) (and inline
``data:``) URLs, and never hands a download to an external program (ffmpeg, aria2c, curl,
rtmpdump: they would resolve and connect on their own, outside the guard). For such a creator
an error names the creator's redacted URL and the kind of failure, never the library's text
(hosts, ports): that goes to the server log.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import yt_dlp
import yt_dlp.downloader.external
import yt_dlp.downloader.rtmp
from yt_dlp.networking import Request
from yt_dlp.networking.exceptions import HTTPError as YtdlpHTTPError
from yt_dlp.networking.exceptions import RequestError, UnsupportedRequest
from yt_dlp.utils import DownloadError, UnsupportedError, parse_bytes, unsmuggle_url

from omniva import source_rules
from omniva.errors import (
    AgeGatedError,
    DeadLinkError,
    GeoBlockedError,
    LoginRequiredError,
    MembersOnlyError,
    PrivateVideoError,
    RateLimitedError,
    RemovedVideoError,
    SourceError,
    TransientSourceError,
    UnavailableError,
    UnsafeSourceError,
)
from omniva.records import Post
from omniva.redact import redact_text, redact_url, redact_value
from omniva.settings import layout
from omniva.source_rules import SourceSettings, platform_of, video_key_for
from omniva_resources import media
from omniva_resources.source_guard import (
    TRUSTED,
    NetworkGuard,
    SourceAccess,
    check_fetch_url,
    current_guard,
    network_guard,
)

FORMAT = "bv*[height<=1080]+ba/b[height<=1080]/bv*+ba/b"
T = TypeVar("T")
log = logging.getLogger("omniva.scraper")

_UNAVAILABLE_ERRORS: dict[str, type[UnavailableError]] = {
    "private": PrivateVideoError,
    "removed": RemovedVideoError,
    "geo-blocked": GeoBlockedError,
    "age-gated": AgeGatedError,
    "members-only": MembersOnlyError,
    "login-required": LoginRequiredError,
}


class _YtdlpLog:
    """yt-dlp prints errors and tracebacks to stderr even when quiet; we raise typed
    errors instead, so its messages go to Python logging at debug level."""

    def __init__(self) -> None:
        self.log = logging.getLogger("omniva.yt_dlp")

    def debug(self, msg: str) -> None:
        self.log.debug(redact_text(msg))

    info = warning = error = debug


_REFUSED = (
    "the source named or redirected to an address this server does not fetch (loopback, private, "
    "link-local or metadata addresses, or a scheme other than http(s)); only public http(s) media "
    "can be fetched for a creator registered through the API"
)


class _GuardedYoutubeDL(yt_dlp.YoutubeDL):
    """yt-dlp whose every request is refused, while a network guard is held, unless it is
    http(s) (or an inline ``data:`` URL): ftp://, file://, ws:// never, on any hop it makes
    itself (redirects inside a handler stay http(s): the requests handler follows no other)."""

    def urlopen(self, req):
        guard = current_guard()
        url = req.url if isinstance(req, Request) else getattr(req, "full_url", req)
        if guard is not None and not str(url).lower().startswith(("http://", "https://", "data:")):
            guard.refuse(f"a {str(url).split(':', 1)[0][:20]!r} URL")
            raise UnsupportedRequest("refused by Omniva's network guard")
        return super().urlopen(req)


def _refuse_external(original: Callable) -> Callable:
    def real_download(self, filename, info_dict):
        guard = current_guard()
        if guard is not None:
            guard.refuse(f"a download by {type(self).__name__} (an external program)")
            raise DownloadError("refused by Omniva's network guard")
        return original(self, filename, info_dict)

    real_download._omniva_guard = True  # type: ignore[attr-defined]
    return real_download


# ffmpeg (HLS that yt-dlp's native downloader cannot handle, live streams), aria2c, curl, wget,
# rtmpdump: each resolves and connects in a process of its own, where the guard cannot follow.
for _fd in (yt_dlp.downloader.external.ExternalFD, yt_dlp.downloader.rtmp.RtmpFD):
    if not getattr(_fd.real_download, "_omniva_guard", False):
        _fd.real_download = _refuse_external(_fd.real_download)


def _ydl(opts: dict) -> yt_dlp.YoutubeDL:
    return _GuardedYoutubeDL(opts)


def _file_urls(url: str) -> dict:
    """yt-dlp reads file:// URLs only when asked: for a creator given as a local feed or page,
    never for what a web page links to."""
    return {"enable_file_urls": True} if url.startswith("file://") else {}


def _options(settings: SourceSettings, platform: str, access: SourceAccess = TRUSTED, **extra) -> dict:
    opts: dict = {
        "logger": _YtdlpLog(),
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "socket_timeout": 20,
        "retries": 3,
        "extractor_retries": 2,
        "sleep_interval_requests": settings.interval_for(platform) or None,
    }
    if settings.cookies_file:
        opts["cookiefile"] = settings.cookies_file
    if settings.proxy:
        opts["proxy"] = settings.proxy
    if settings.ratelimit:
        opts["ratelimit"] = parse_bytes(settings.ratelimit)
    if not access.allow_private_network:
        # Everything in this thread and this process, where the network guard sees it.
        opts.update(
            concurrent_fragment_downloads=1, hls_prefer_native=True, external_downloader={"default": "native"}
        )
    opts.update(extra)
    return {k: v for k, v in opts.items() if v is not None}


def _throttle(platform: str, interval: float) -> None:
    """At most one request per ``interval`` seconds to a platform, across processes (a
    lock file in the working folder holds the time of the last request)."""
    if interval <= 0:
        return
    folder = layout().tmp / "ratelimit"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{platform}.stamp", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        text = fh.read().strip()
        wait = (float(text) if text else 0.0) + interval - time.time()
        if wait > 0:
            time.sleep(min(wait, interval))
        fh.seek(0)
        fh.truncate()
        fh.write(f"{time.time():.3f}")


def _http_error(exc: BaseException) -> YtdlpHTTPError | None:
    """The HTTP error under a yt-dlp exception chain, if any."""
    seen = 0
    cur: BaseException | None = exc
    said = re.search(r"HTTP Error (\d{3})", str(exc))
    while cur is not None and seen < 8:
        if isinstance(cur, YtdlpHTTPError):
            return cur if not said or int(said.group(1)) == cur.status else None
        nxt = getattr(cur, "exc_info", None)
        cur = (nxt[1] if nxt and nxt[1] is not cur else None) or getattr(cur, "cause", None) or cur.__cause__
        seen += 1
    return None


def _cause(exc: BaseException) -> BaseException | None:
    info = getattr(exc, "exc_info", None)
    return info[1] if info else None


def _unsupported(exc: BaseException) -> bool:
    """yt-dlp found no video at the URL. (Its ``exc_info`` is taken from ``sys.exc_info()``,
    which is an outer exception when called inside an ``except`` block: read the text too.)"""
    return isinstance(_cause(exc), UnsupportedError) or "Unsupported URL:" in str(exc)


def _detail(text: str, detailed: bool) -> str:
    """`` (what yt-dlp said)`` for a creator of the operator's, nothing for one registered
    through the API: its owner gets the kind of failure, not hosts, ports or library text."""
    return f" ({_short(text)})" if detailed else ""


def _short(text: str) -> str:
    return redact_text(re.sub(r"\x1b\[[0-9;]*m", "", text).replace("ERROR: ", "").strip())[:300]


def _cause_to_keep(exc: BaseException) -> BaseException | None:
    """The yt-dlp error to chain under ours, unless its text carries a credential."""
    return exc if redact_text(str(exc)) == str(exc) else None


def unavailable(reason: str, what: str, detail: str, detailed: bool = True) -> UnavailableError:
    cls = _UNAVAILABLE_ERRORS.get(reason, UnavailableError)
    hint = source_rules.HINTS.get(reason, "")
    return cls(f"{what}: {reason}{_detail(detail, detailed)}. {hint}".strip(), reason)


def _classify(exc: BaseException, what: str, detailed: bool = True) -> SourceError:
    text = str(exc)
    http = _http_error(exc)
    status = http.status if http is not None else None
    said = f"the source answered HTTP {status}" if status else ""
    reason = source_rules.unavailable_reason(text)
    if isinstance(_cause(exc), yt_dlp.utils.GeoRestrictedError):
        reason = "geo-blocked"
    if reason and status not in (429,) and not (status and status >= 500):
        return unavailable(reason, what, text, detailed)
    if status in (404, 410) or re.search(r"HTTP Error (404|410)", text):
        said = said or "the source answered HTTP 404 or 410"
        return DeadLinkError(
            f"{what}: the link is dead{_detail(text, detailed) or f' ({said})'}. Fix or remove the post."
        )
    if status == 429 or re.search(r"HTTP Error 429", text):
        return RateLimitedError(
            f"{what}: rate limited by the platform{_detail(text, detailed) or ' (HTTP 429)'}; retry later."
        )
    if (status and status >= 500) or re.search(
        r"HTTP Error 5\d\d|timed out|Connection (refused|reset)|Temporary failure|Failed to resolve"
        r"|Name or service not known|Network is unreachable|Failed to establish|Connection aborted",
        text,
    ):
        return TransientSourceError(
            f"{what}: the source did not answer{_detail(text, detailed) or (f' ({said})' if said else '')}; retry later."
        )
    if status in (401, 403):
        return unavailable("login-required", what, text, detailed)
    if detailed:
        return SourceError(f"{what}: yt-dlp could not read it ({_short(text)}). Check the URL.")
    return SourceError(f"{what}: {said or 'the source could not be read'}. Check the URL.")


def _refused(what: str, guard: NetworkGuard) -> UnsafeSourceError:
    log.warning("%s: refused by the network guard: %s", what, "; ".join(guard.refused[:5]))
    return UnsafeSourceError(f"{what}: {_REFUSED}.")


def _polite(
    call: Callable[[], T], what: str, platform: str, settings: SourceSettings, access: SourceAccess = TRUSTED
) -> T:
    """Run one yt-dlp call the polite way: throttled, retried with backoff on 429/5xx, under
    the creator's network guard."""
    interval = settings.interval_for(platform)
    what = redact_text(what)
    detailed = access.allow_private_network
    for attempt in range(settings.max_retries + 1):
        _throttle(platform, interval)
        with network_guard(access, settings.proxy) as guard:
            try:
                return call()
            except (DownloadError, RequestError, OSError) as failure:
                exc: BaseException = failure
        if guard.refused:
            raise _refused(what, guard) from None
        if not detailed:
            log.info("%s: %s", what, _short(str(exc)))
        if isinstance(exc, OSError) and detailed:
            raise exc
        if not isinstance(exc, OSError) and _unsupported(exc):
            raise exc
        err = (
            TransientSourceError(f"{what}: the source did not answer; retry later.")
            if isinstance(exc, OSError)
            else _classify(exc, what, detailed)
        )
        if not isinstance(err, TransientSourceError) or attempt == settings.max_retries:
            raise err from (_cause_to_keep(exc) if detailed else None)
        http = _http_error(exc)
        header = http.response.headers.get("Retry-After") if http is not None and http.response else None
        wait = source_rules.backoff_delay(
            attempt, source_rules.retry_after_s(header), settings.backoff_s, settings.max_wait_s
        )
        log.info(
            "%s: %s; retry %d/%d in %.1f s",
            what,
            type(err).__name__,
            attempt + 1,
            settings.max_retries,
            wait,
        )
        time.sleep(wait)
    raise AssertionError("unreachable")


def fetch_document(url: str, settings: SourceSettings, what: str, access: SourceAccess = TRUSTED) -> bytes:
    """One page or feed, through yt-dlp's networking (same cookies, proxy, politeness)."""
    platform = platform_of(url)
    check_fetch_url(url, access)

    def get() -> bytes:
        with (
            _ydl(_options(settings, platform, access, **_file_urls(url))) as ydl,
            contextlib.closing(ydl.urlopen(Request(access.with_credentials(url)))) as resp,
        ):
            return resp.read()

    return _polite(get, what, platform, settings, access)


# ---- listing -------------------------------------------------------------------------------


def list_entries(
    url: str, settings: SourceSettings, what: str, access: SourceAccess = TRUSTED
) -> tuple[list[dict], str]:
    """Every entry of a creator's URL as info-dict-like records, and how it was read
    (``yt-dlp``, ``atom``, ``page``)."""
    platform = platform_of(url)
    check_fetch_url(url, access)

    def flat() -> dict:
        with _ydl(
            _options(
                settings,
                platform,
                access,
                extract_flat="in_playlist",
                skip_download=True,
                playlistend=settings.max_entries,
                **_file_urls(url),
            )
        ) as ydl:
            return _clean(ydl.sanitize_info(ydl.extract_info(access.with_credentials(url), download=False)))

    try:
        info = _polite(flat, what, platform, settings, access)
    except DownloadError:  # only "unsupported URL" gets here: not a listing yt-dlp knows
        info = None
    if info is not None:
        return [_stable_entry(e, url) for e in _entries(info)], "yt-dlp"
    document = fetch_document(url, settings, what, access)
    if source_rules.is_atom(document):
        return source_rules.parse_atom(document, url), "atom"
    text = document.decode("utf-8", "replace")
    reason = source_rules.unavailable_reason(text)
    if reason:
        raise unavailable(reason, what, "the page says so")
    return _page_entries(text, url, settings, access), "page"


def _clean(info: dict) -> dict:
    """yt-dlp's answer without any credential it echoed (a URL it was given, an error)."""
    cleaned = redact_value(info)
    assert isinstance(cleaned, dict)
    return cleaned


def _entries(info: dict) -> Iterator[dict]:
    if info.get("_type") in ("playlist", "multi_video"):
        for entry in info.get("entries") or []:
            if entry:
                yield from _entries(entry)
    else:
        yield info


def _stable_entry(entry: dict, listing_url: str) -> dict:
    """``<video>`` elements of one page get positional ids (page-1, page-2, ...) that shift
    when the page changes: key those by their media URL instead."""
    media = entry.get("url")
    if (
        media
        and entry.get("webpage_url") == listing_url
        and media != listing_url
        and re.fullmatch(r".+-\d+", str(entry.get("id") or ""))
    ):
        return {**entry, "id": media, "webpage_url": media}
    return entry


def _page_entries(document: str, page_url: str, settings: SourceSettings, access: SourceAccess) -> list[dict]:
    """Each link of a plain page that yt-dlp can read as a video, keyed by the link."""
    out = []
    for link in source_rules.page_links(document, page_url):
        try:
            entry = resolve(link, settings, access)
        except TransientSourceError:
            raise
        except SourceError as exc:
            out.append({"id": link, "url": link, "title": link, "_skip": str(exc)})
            continue
        if entry is not None:  # None: not a video (an "about" page, a private post's page)
            out.append({**entry, "id": link, "url": link, "webpage_url": link})
    return out


_CACHE_KEYS = (
    "id",
    "title",
    "timestamp",
    "release_timestamp",
    "upload_date",
    "duration",
    "license",
    "uploader",
    "channel",
    "description",
    "live_status",
    "width",
    "height",
    "ie_key",
    "availability",
)


NOT_VIDEO_TTL_S = 6 * 3600


def resolve(url: str, settings: SourceSettings, access: SourceAccess = TRUSTED) -> dict | None:
    """One entry's own metadata (date, title, duration, licence) without downloading it;
    None when yt-dlp finds no video there.

    Dates never change once published, so finished entries are cached in the working folder
    (and "no video here" for a few hours): a backfill over many days asks the site about
    each entry once."""
    # Checked before the cache: the cache is shared by every creator, and a creator without
    # private access must not read what was cached for an address it may not fetch.
    check_fetch_url(url, access)
    cache = layout().tmp / "entry-cache" / f"{hashlib.sha1(url.encode()).hexdigest()}.json"
    if cache.exists():
        cached = json.loads(cache.read_text())
        if not cached.get("_not_video"):
            return cached
        if time.time() - cache.stat().st_mtime < NOT_VIDEO_TTL_S:
            return None
    platform = platform_of(url)
    fetch_url = access.with_credentials(url)

    def one() -> dict:
        with _ydl(_options(settings, platform, access, skip_download=True, **_file_urls(url))) as ydl:
            return _clean(ydl.sanitize_info(ydl.extract_info(fetch_url, download=False, process=False)))

    cache.parent.mkdir(parents=True, exist_ok=True)
    try:
        info = _polite(one, f"entry {redact_url(url)}", platform, settings, access)
    except DownloadError:  # unsupported: no video on that page
        cache.write_text(json.dumps({"_not_video": True}))
        return None
    entry = {k: info[k] for k in _CACHE_KEYS if info.get(k) is not None}
    if isinstance(info.get("url"), str) and info["url"] != url:
        entry["media_url"] = unsmuggle_url(info["url"], {})[0]  # a page's video, for ffprobe
    if entry.get("live_status") not in source_rules.UNFINISHED_LIVE:
        cache.write_text(json.dumps(entry))
    return entry


_RAW_KEYS = (
    "title",
    "description",
    "duration",
    "view_count",
    "like_count",
    "comment_count",
    "tags",
    "license",
    "uploader",
    "channel",
    "ie_key",
    "live_status",
    "availability",
)


def post_from_entry(creator: str, entry: dict) -> Post:
    url = entry.get("webpage_url") or entry.get("url") or ""
    plain_url, smuggled = unsmuggle_url(url, {})
    platform_id = str(smuggled.get("force_videoid") or entry.get("id") or plain_url)
    raw = {"ytdlp_url": entry.get("url") if entry.get("ie_key") == "Atom" else url} | {
        k: entry.get(k) for k in _RAW_KEYS if entry.get(k) is not None
    }
    return Post(
        creator=creator,
        platform_post_id=platform_id,
        url=plain_url,
        title=entry.get("title") or platform_id,
        posted_at=source_rules.posted_at(entry),
        video_key=video_key_for(creator, platform_id),
        raw_metadata=raw,
    )


def fill_in(
    entry: dict, settings: SourceSettings, need_duration: bool, access: SourceAccess = TRUSTED
) -> dict:
    """An entry with what the listing lacked: its date (and duration when a rule needs it)."""
    if entry.get("_skip"):
        return entry
    url = str(entry.get("url") or entry.get("webpage_url") or "")
    missing_date = source_rules.posted_at(entry) is None
    if (missing_date or (need_duration and entry.get("duration") is None)) and url.startswith("http"):
        try:
            found = resolve(url, settings, access)
        except TransientSourceError:
            raise  # the listing fails and is retried, rather than lose the entry for good
        except SourceError as exc:
            return {**entry, "_skip": f"could not be read ({_short(str(exc))})"}
        if found is None:
            return {**entry, "_skip": "no video found at the URL"}
        entry = {**found, **{k: v for k, v in entry.items() if v is not None}}
    # ffprobe resolves, connects and follows redirects in a process of its own, where the network
    # guard cannot follow: only for a creator of the operator's. For others a bare media link's
    # duration stays unknown at listing, and a duration rule cannot skip it.
    if need_duration and entry.get("duration") is None and access.allow_private_network:
        for candidate in (unsmuggle_url(url, {})[0], entry.get("media_url") or ""):
            if candidate.lower().split("?")[0].endswith(source_rules.MEDIA_EXTENSIONS):
                check_fetch_url(candidate, access)
                entry = {**entry, "duration": media.probe_url_duration(access.with_credentials(candidate))}
                break
    return entry


# ---- downloading -----------------------------------------------------------------------------

_SECRET_KEYS = ("cookies", "Cookie", "cookie", "Authorization", "Proxy-Authorization")


def _scrub(value):
    """The info JSON without cookies or credentials (yt-dlp puts the cookie header in it)."""
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in _SECRET_KEYS}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def download(
    post: Post,
    dest: Path,
    archive: Path,
    settings: SourceSettings | None = None,
    access: SourceAccess = TRUSTED,
) -> Path:
    """Download ``post`` to exactly ``dest``: best ≤ 1080p with audio, remuxed to MP4; the
    info JSON (without cookies) and any subtitles land beside it."""
    settings = settings or SourceSettings()
    dest.parent.mkdir(parents=True, exist_ok=True)
    archive.parent.mkdir(parents=True, exist_ok=True)
    what = f"post {post.platform_post_id!r} of {post.creator} ({redact_url(post.url)})"
    url = post.raw_metadata.get("ytdlp_url") or post.url
    platform = platform_of(post.url)
    check_fetch_url(url, access)
    fetch_url = access.with_credentials(url)
    info: dict = {}
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".download-") as tmp:
        # First with the archive (never fetch twice). If the archive says "done" but the
        # media store lost the file, the caller asked for it explicitly: fetch once more.
        files: list[Path] = []
        for use_archive in (True, False):
            opts = _options(
                settings,
                platform,
                access,
                outtmpl=str(Path(tmp) / "media.%(ext)s"),
                format=FORMAT,
                merge_output_format="mp4",
                postprocessors=[{"key": "FFmpegVideoRemuxer", "preferedformat": "mp4"}],
                writesubtitles=True,
                subtitleslangs=["all", "-live_chat"],
                overwrites=True,
                sleep_interval=settings.interval_for(platform) or None,
                **_file_urls(url),
            )
            if use_archive:
                opts["download_archive"] = str(archive)

            def fetch(opts=opts) -> dict:
                with _ydl(opts) as ydl:
                    got = ydl.extract_info(fetch_url, download=True)
                    return _clean(ydl.sanitize_info(got)) if got else {}

            try:
                info = _polite(fetch, what, platform, settings, access)
            except DownloadError as exc:  # yt-dlp found no video on the page: say why if it says
                unsupported = exc
            else:
                unsupported = None
            if unsupported is not None:
                raise _explain_page(url, settings, what, unsupported, access)
            produced = [p for p in Path(tmp).iterdir() if p.is_file()]
            files = [p for p in produced if p.suffix.lower() in source_rules.MEDIA_EXTENSIONS]
            if files:
                break
        if not files:
            raise SourceError(f"{what}: yt-dlp produced no file")
        shutil.move(str(max(files, key=lambda p: p.stat().st_size)), dest)
        for sub in produced:
            if sub.suffix.lower() in (".vtt", ".srt", ".ass", ".ttml", ".srv3", ".json3"):
                shutil.move(str(sub), dest.with_name(f"{dest.stem}{sub.name.removeprefix('media')}"))
    if info:
        keep = {k: v for k, v in info.items() if k not in ("formats", "requested_formats", "thumbnails")}
        info_json = redact_text(json.dumps(_scrub(keep), indent=1, default=str))
        dest.with_suffix(".info.json").write_text(info_json)
    return dest


def _explain_page(
    url: str, settings: SourceSettings, what: str, exc: DownloadError, access: SourceAccess
) -> SourceError:
    """yt-dlp found no video at ``url``: read the page once and name the reason it gives."""
    try:
        text = fetch_document(url, settings, what, access).decode("utf-8", "replace")
    except SourceError as err:
        return err
    reason = source_rules.unavailable_reason(text)
    if reason:
        return unavailable(reason, what, "the page says so")
    detail = _detail(str(exc), access.allow_private_network)
    return SourceError(f"{what}: no video found on the page{detail}. Check the URL.")


def provenance(post: Post) -> dict:
    """Rights and provenance to keep with the clip: who made it, where, under which licence."""
    raw = post.raw_metadata
    return {
        k: v
        for k, v in {
            "source_creator": raw.get("uploader") or raw.get("channel") or post.creator,
            "platform": platform_of(post.url),
            "platform_post_id": post.platform_post_id,
            "source_url": post.url,
            "license": raw.get("license"),
        }.items()
        if v
    }


def ytdlp_version() -> str:
    return yt_dlp.version.__version__
