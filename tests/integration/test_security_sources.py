"""Safe sources and secrets that never leak (issue #16, findings 2 and 3).

The REST API's creator URLs go through ``source_guard.check_api_source_url`` (no loopback,
private, link-local or metadata address, no folder or file of the server, the same answer
whether a folder exists or not); the scraper asks again before each fetch, since DNS can
change. A password given in a creator URL lives only in ``$OMNIVA_HOME/secrets/``: a full
``omniva run`` through a loopback site that requires it, then every file of the home (the
warehouse, DuckDB, Dagster's storage, logs) and every command's output is searched for it.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import dagster as dg
import duckdb
import pytest

from omniva.errors import UnsafeSourceError
from omniva.settings import Layout
from omniva_resources import creators, media, sources
from omniva_resources.source_guard import check_api_source_url, check_fetch_url
from tests.conftest import free_port
from tests.creator_site import CreatorSite, SitePost, day

PASSWORD = "S3cretPass"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed.xml",
        "http://localhost:8080/feed.xml",  # a name that resolves to loopback
        "http://10.0.0.7/feed.xml",
        "https://192.168.1.1/feed.xml",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/feed.xml",
        "http://[::ffff:127.0.0.1]/feed.xml",
        "http://[fd00:ec2::254]/",
        "http://100.100.100.200/",
        "http://0.0.0.0/",
        "file:///etc/passwd",
        "folder:///etc",
        "/root",
        "~",
        "ftp://93.184.216.34/feed.xml",
    ],
)
def test_api_source_guard_refuses(url):
    with pytest.raises(UnsafeSourceError, match="http"):
        check_api_source_url(url)


def test_api_source_guard_accepts_a_public_url_and_keeps_no_password_in_its_message():
    assert check_api_source_url("https://93.184.216.34/feed.xml") == "https://93.184.216.34/feed.xml"
    with pytest.raises(UnsafeSourceError) as refused:
        check_api_source_url(f"http://alice:{PASSWORD}@127.0.0.1/feed.xml")
    assert PASSWORD not in str(refused.value) and "127.0.0.1/feed.xml" in str(refused.value)


def test_a_folder_gets_the_same_answer_whether_it_exists_or_not(tmp_path):
    folder = tmp_path / "private-recordings"
    answers = []
    for _ in range(2):
        for url in (str(folder), f"folder://{folder}", f"file://{folder}/a.mp4"):
            with pytest.raises(UnsafeSourceError) as refused:
                check_api_source_url(url)
            answers.append(str(refused.value))
        (folder).mkdir(exist_ok=True)
        (folder / "a.mp4").write_bytes(b"x")
    assert answers[:3] == answers[3:]
    # Under the operator's folder root, a folder is accepted (again whether it exists or not);
    # a path that climbs out of the root is not.
    root = tmp_path / "root"
    assert check_api_source_url(str(root / "mine"), folder_root=str(root)).startswith("folder://")
    (root / "mine").mkdir(parents=True)
    assert check_api_source_url(str(root / "mine"), folder_root=str(root)).startswith("folder://")
    with pytest.raises(UnsafeSourceError):
        check_api_source_url(f"{root}/../private-recordings", folder_root=str(root))


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNIVA_HOME", str(tmp_path / "home"))
    for var in ("OMNIVA_PROXY", "OMNIVA_SCRAPE_INTERVAL_S", "OMNIVA_COOKIES_DIR"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "home"


def test_a_creator_whose_name_now_resolves_to_loopback_is_refused_at_fetch_time(home, tmp_path):
    """Registered without the private-network flag (as through the API, when its name still
    pointed elsewhere), the creator now resolves to loopback: nothing is fetched, and its
    partition fails with a non-retryable error; a CLI creator on the same site still works."""
    from omniva_assets.definitions import ASSETS
    from omniva_assets.io_manager import record_io_manager
    from omniva_assets.partitions import creators_partitions, post_key
    from omniva_resources.resources import OmnivaStore, resources_from_env

    lay = Layout(home)
    posts = [SitePost("a1", day(4), "atom", "media")]
    with CreatorSite(tmp_path / "site", posts) as site:
        port = site.server.server_address[1]
        creators.add(lay, "moved", f"http://localhost:{port}/atom.xml")
        creators.add(lay, "local", f"{site.base}/atom.xml", allow_private_network=True)
        assert creators.access_for(lay, "moved").allow_private_network is False
        with pytest.raises(UnsafeSourceError, match="loopback"):
            sources.list_day(
                "moved", creators.get(lay, "moved").url, None, None, creators.access_for(lay, "moved")
            )
        with pytest.raises(UnsafeSourceError):  # a media URL is checked too
            check_fetch_url(site.media_url(posts[0]), creators.access_for(lay, "moved"))
        assert site.requests == []

        defs = dg.Definitions(
            assets=ASSETS,
            resources={
                **resources_from_env(),
                "io_manager": record_io_manager(),
                "store": OmnivaStore(home=str(home)),
            },
        )
        (home / "dagster").mkdir(parents=True, exist_ok=True)
        with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
            instance.add_dynamic_partitions(creators_partitions.name, ["moved", "local"])
            job = defs.get_implicit_global_asset_job_def()
            failed = job.execute_in_process(
                instance=instance,
                partition_key=str(post_key("moved", "2025-08-04")),
                asset_selection=[dg.AssetKey("posts")],
                raise_on_error=False,
            )
            assert not failed.success and site.requests == []
            failure = next(e for e in failed.all_events if e.is_step_failure)
            data = failure.step_failure_data
            assert data.error is not None and "loopback" in data.error.message
            assert data.user_failure_data is not None
            assert data.user_failure_data.metadata["error"].value == "UnsafeSourceError"
            assert not UnsafeSourceError.retryable
            assert not [e for e in failed.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
            ok = job.execute_in_process(
                instance=instance,
                partition_key=str(post_key("local", "2025-08-04")),
                asset_selection=[dg.AssetKey("posts")],
            )
            assert ok.success and ("GET", "/atom.xml") in site.requests


def _omniva(env: dict, *args: str, timeout: float = 1200) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "omniva_app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.mark.slow
def test_a_planted_password_lives_only_in_the_secrets_folder(tmp_path, fixtures):
    """A creator URL with ``alice:S3cretPass@``, a site that requires that basic auth, a full
    ``omniva run`` (which must fetch, so the credentials are used), then a search of every file
    under the Omniva home and every command's output."""
    home = tmp_path / "home"
    env = {
        **os.environ,
        "OMNIVA_HOME": str(home),
        "OMNIVA_YOUTUBE_API_ROOT": f"http://127.0.0.1:{free_port()}/",
        "OMNIVA_MAX_CLIPS_PER_VIDEO": "1",
    }
    env.pop("DAGSTER_HOME", None)
    root = tmp_path / "site"
    media.make_sample_video(root / "media" / "jfk.mp4", fixtures / "jfk.flac")
    posts = [SitePost("jfk", day(4), "rss", "media")]
    with CreatorSite(root, posts, auth=("alice", PASSWORD)) as site:
        feed = f"http://alice:{PASSWORD}@127.0.0.1:{site.server.server_address[1]}/rss.xml"
        outputs = [
            _omniva(env, "creators", "add", "c", feed),
            _omniva(env, "creators", "list"),
            _omniva(env, "sources", "check", feed),
            _omniva(env, "run", "--creator", "c", "--since", "2025-08-04", "--until", "2025-08-04"),
        ]
        answers = list(site.answers)
    # The credentials were used: the feed and the media answered 200 (401 without them).
    assert ("/rss.xml", 200) in answers and ("/media/jfk.mp4", 200) in answers, answers
    db = duckdb.connect(str(home / "omniva.duckdb"), read_only=True)
    assert db.execute("SELECT count(*) FROM videos").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM upload_jobs WHERE yt_video_id IS NOT NULL").fetchone()[0] >= 1
    db.close()

    secret = PASSWORD.encode()
    basic = base64.b64encode(f"alice:{PASSWORD}".encode())
    for done in outputs:
        assert PASSWORD not in done.stdout + done.stderr, done.args
    assert "127.0.0.1" in outputs[1].stdout and "alice" not in outputs[1].stdout
    secrets = home / "secrets"
    found = []
    for path in home.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if secret in data or basic in data:
                found.append(path)
    assert found and all(secrets in p.parents for p in found), found
    kept = creators.credentials_file(Layout(home), "c")
    assert kept in found and oct(kept.stat().st_mode & 0o777) == "0o600"
    assert oct((home / "creators.json").stat().st_mode & 0o777) == "0o600"


def test_registry_is_owner_only_and_survives_parallel_writers(home):
    """creators.json is written under a lock with a temp name of each writer's own: parallel
    `creators add` never lose an entry nor leave a partial file."""
    lay = Layout(home)
    code = (
        "import sys; from pathlib import Path; from omniva.settings import Layout;"
        "from omniva_resources import creators;"
        "[creators.add(Layout(Path(sys.argv[1])), f'{sys.argv[2]}{i}', f'https://example.org/{i}.xml') for i in range(15)]"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(home), prefix]) for prefix in ("a", "b", "c", "d")
    ]
    assert all(p.wait(timeout=300) == 0 for p in procs)
    names = {c.name for c in creators.active(lay)}
    assert names == {f"{p}{i}" for p in "abcd" for i in range(15)}
    assert oct(lay.creators_file.stat().st_mode & 0o777) == "0o600"
    assert not [p for p in home.iterdir() if p.name.endswith(".partial")]


def test_a_password_in_a_creator_url_moves_to_the_secrets_folder(home):
    lay = Layout(home)
    c = creators.add(lay, "feed", f"https://alice:{PASSWORD}@feeds.example.com/feed.xml")
    assert c.url == "https://feeds.example.com/feed.xml"
    assert PASSWORD not in lay.creators_file.read_text()
    assert PASSWORD not in repr(creators.describe(lay, "feed"))
    access = creators.access_for(lay, "feed")
    assert PASSWORD not in repr(access)
    assert access.with_credentials("https://feeds.example.com/v/1.mp4") == (
        f"https://alice:{PASSWORD}@feeds.example.com/v/1.mp4"
    )
    assert access.with_credentials("https://cdn.example.net/v/1.mp4") == "https://cdn.example.net/v/1.mp4"
    # The creator moves to another host: the old host's password is not sent there.
    creators.add(lay, "feed", "https://other.example.org/feed.xml")
    assert creators.access_for(lay, "feed").credentials is None
    assert not creators.credentials_file(lay, "feed").exists()
