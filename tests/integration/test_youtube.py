"""The real google-api-python-client against the loopback YouTube emulator, over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import google.auth.credentials
import pytest

from omniva_devkit.youtube_emulator import YouTubeEmulator
from omniva_resources.youtube import (
    AuthenticationError,
    MissingCredentialsError,
    QuotaExceededError,
    UploadRequest,
    YouTubeError,
    YouTubeUploader,
    discovery_document,
    emulator_credentials,
    load_user_credentials,
)
from omniva_resources.youtube.upload import ChunkedFileUpload

CHUNK = 262144  # 256 KiB, the protocol's chunk granularity


@pytest.fixture
def emulator(tmp_path: Path):
    with YouTubeEmulator(tmp_path / "emulator") as em:
        yield em


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "video.mp4"
    path.write_bytes(os.urandom(3 * 1024 * 1024 + 12345))  # ~3 MB, odd-sized last chunk
    return path


def make_uploader(emulator: YouTubeEmulator, sleeps: list[float] | None = None, **kw) -> YouTubeUploader:
    sink = sleeps if sleeps is not None else []
    return YouTubeUploader(emulator.url, emulator_credentials(), chunk_size=CHUNK, sleep=sink.append, **kw)


def req(path: Path, **kw) -> UploadRequest:
    return UploadRequest(path=path, title="Omniva test", description="desc", tags=("omniva", "test"), **kw)


def test_discovery_document_is_rerooted_for_calls_and_uploads(emulator: YouTubeEmulator, video: Path):
    doc = discovery_document(emulator.url)
    assert doc["rootUrl"] == doc["mtlsRootUrl"] == emulator.url
    service = make_uploader(emulator).service
    media = ChunkedFileUpload(str(video), mimetype="video/mp4", chunksize=CHUNK, resumable=True)
    insert = service.videos().insert(part="snippet,status", body={}, media_body=media)
    assert insert.uri.startswith(emulator.url + "upload/youtube/v3/videos?")
    assert "uploadType=resumable" in insert.uri
    assert service.videos().list(part="status", id="x").uri.startswith(emulator.url + "youtube/v3/videos?")


def test_chunked_upload_is_byte_identical(emulator: YouTubeEmulator, video: Path):
    uploader = make_uploader(emulator)
    result = uploader.upload(req(video))
    assert len(result.video_id) == 11
    assert result.status == "uploaded"
    assert result.privacy_status == "private"
    assert result.publish_at is None
    assert result.bytes_sent == video.stat().st_size
    assert result.attempts == 1
    assert emulator.video_path(result.video_id).read_bytes() == video.read_bytes()

    [stored] = emulator.videos()
    assert stored["id"] == result.video_id
    assert stored["snippet"]["tags"] == ["omniva", "test"]
    assert stored["status"]["selfDeclaredMadeForKids"] is False

    listed = uploader.get_videos([result.video_id, "doesNotExist"])
    assert [v["id"] for v in listed] == [result.video_id]
    assert listed[0]["snippet"]["title"] == "Omniva test"


def test_publish_at_uploads_private_and_scheduled(emulator: YouTubeEmulator, video: Path):
    result = make_uploader(emulator).upload(
        req(video, privacy_status="public", publish_at="2030-01-02T03:04:05+00:00", made_for_kids=True)
    )
    assert result.privacy_status == "private"
    assert result.publish_at == "2030-01-02T03:04:05Z"
    [stored] = emulator.videos()
    assert stored["status"]["privacyStatus"] == "private"
    assert stored["status"]["publishAt"] == "2030-01-02T03:04:05Z"
    assert stored["status"]["selfDeclaredMadeForKids"] is True


def test_injected_503_on_middle_chunk_is_retried(emulator: YouTubeEmulator, video: Path):
    sleeps: list[float] = []
    emulator.fail_next(503, count=2, skip=5)  # chunks 6 and (its retry) fail
    result = make_uploader(emulator, sleeps).upload(req(video))
    assert sleeps == [0.5, 1.0]  # exponential backoff
    assert result.attempts == 3
    assert emulator.video_path(result.video_id).read_bytes() == video.read_bytes()


def test_dropped_connection_is_retried(emulator: YouTubeEmulator, video: Path):
    # httplib2 silently resends once; the 2nd drop surfaces as a ConnectionError.
    emulator.fail_next(0, count=3, skip=2)
    sleeps: list[float] = []
    result = make_uploader(emulator, sleeps).upload(req(video))
    assert len(sleeps) == 1
    assert emulator.video_path(result.video_id).read_bytes() == video.read_bytes()


def test_gives_up_after_max_retries(emulator: YouTubeEmulator, video: Path):
    emulator.fail_next(503, count=100, skip=1)
    sleeps: list[float] = []
    with pytest.raises(YouTubeError, match="after 2 retries"):
        make_uploader(emulator, sleeps, max_retries=2).upload(req(video))
    assert sleeps == [0.5, 1.0]
    assert emulator.videos() == []


def test_non_retriable_error_is_not_retried(emulator: YouTubeEmulator, video: Path):
    emulator.fail_next(400, skip=1)
    sleeps: list[float] = []
    with pytest.raises(YouTubeError) as info:
        make_uploader(emulator, sleeps).upload(req(video))
    assert info.value.status == 400
    assert sleeps == []


def test_quota_exhaustion_raises_quota_exceeded(tmp_path: Path):
    small = tmp_path / "small.mp4"
    small.write_bytes(os.urandom(1000))
    with YouTubeEmulator(tmp_path / "em", daily_quota=2 * 1600 + 10, quota_model="legacy") as em:
        uploader = make_uploader(em)
        uploader.upload(req(small))
        uploader.upload(req(small))
        with pytest.raises(QuotaExceededError) as info:
            uploader.upload(req(small))
    err = info.value
    assert err.reason == "quotaExceeded" and err.status == 403
    assert "midnight Pacific" in str(err)
    assert err.resets_at > dt.datetime.now(dt.UTC)
    assert len(em.videos()) == 2


def test_quota_error_body_has_youtube_shape(tmp_path: Path):
    with YouTubeEmulator(tmp_path / "em", bucket_calls=0) as em:  # the videos.insert bucket is empty
        request = urllib.request.Request(
            em.url + "upload/youtube/v3/videos?uploadType=resumable&part=snippet,status",
            data=json.dumps({"snippet": {"title": "x"}}).encode(),
            headers={"Authorization": "Bearer omniva-emulator", "Content-Type": "application/json"},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 403
    body = json.loads(info.value.read())
    assert body["error"]["code"] == 403
    assert body["error"]["errors"][0]["reason"] == "quotaExceeded"
    assert body["error"]["errors"][0]["domain"] == "youtube.quota"


def test_missing_bearer_token_is_rejected(emulator: YouTubeEmulator, video: Path):
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(emulator.url + "youtube/v3/videos?part=status&id=x", timeout=5)
    assert info.value.code == 401
    body = json.loads(info.value.read())
    assert body["error"]["code"] == 401
    assert body["error"]["errors"][0]["reason"] == "required"

    # Through the real client: no Authorization header -> 401 -> typed error.
    uploader = YouTubeUploader(emulator.url, google.auth.credentials.AnonymousCredentials(), chunk_size=CHUNK)
    with pytest.raises(AuthenticationError, match="omniva youtube auth"):
        uploader.upload(req(video))
    assert emulator.videos() == []


def test_missing_token_file_raises_missing_credentials(tmp_path: Path):
    token_file = tmp_path / "nope" / "youtube-token.json"
    with pytest.raises(MissingCredentialsError) as info:
        load_user_credentials(token_file)
    assert str(token_file) in str(info.value)
    assert "omniva youtube auth" in str(info.value)


def test_load_user_credentials_reads_authorized_user_file(tmp_path: Path):
    token_file = tmp_path / "token.json"
    token_file.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "cid.apps.googleusercontent.com",
                "client_secret": "s3cret",
                "refresh_token": "refresh-me",
                "token": "access-token-value",
            }
        )
    )
    creds = load_user_credentials(token_file)
    assert creds.refresh_token == "refresh-me"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"token": "access-token-value"}))
    with pytest.raises(MissingCredentialsError) as info:
        load_user_credentials(broken)
    assert "access-token-value" not in str(info.value)


def test_emulator_credentials_never_need_refresh():
    creds = emulator_credentials()
    assert creds.valid and not creds.expired and creds.refresh_token is None
    headers: dict[str, str] = {}
    creds.apply(headers)
    assert headers["authorization"] == "Bearer omniva-emulator"


def test_thumbnail_is_set(emulator: YouTubeEmulator, video: Path, tmp_path: Path):
    thumb = tmp_path / "thumb.png"
    thumb.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(2000))
    result = make_uploader(emulator).upload(req(video, thumbnail=thumb))
    assert result.thumbnail_set
    assert (emulator.data_dir / "thumbnails" / f"{result.video_id}.png").read_bytes() == thumb.read_bytes()
    assert "thumbnails" in emulator.videos()[0]["snippet"]


def test_restarted_emulator_keeps_videos_and_open_sessions(tmp_path: Path, video: Path):
    data_dir = tmp_path / "em"
    first = YouTubeEmulator(data_dir)
    first.start()
    port = first.port
    uploader = make_uploader(first)
    done = uploader.upload(req(video))
    media = ChunkedFileUpload(str(video), mimetype="video/mp4", chunksize=CHUNK, resumable=True)
    request = uploader.service.videos().insert(
        part="snippet,status", body={"snippet": {"title": "resume me"}}, media_body=media
    )
    for _ in range(3):
        _, response = request.next_chunk()
        assert response is None
    first.stop()

    with YouTubeEmulator(data_dir, port=port) as second:
        assert [v["id"] for v in second.videos()] == [done.video_id]
        response = None
        while response is None:
            try:
                _, response = request.next_chunk()
            except ConnectionError:  # the keep-alive connection to the stopped instance
                continue
        assert second.video_path(response["id"]).read_bytes() == video.read_bytes()
        assert len(second.videos()) == 2


def test_status_query_reports_confirmed_range(emulator: YouTubeEmulator, video: Path):
    uploader = make_uploader(emulator)
    media = ChunkedFileUpload(str(video), mimetype="video/mp4", chunksize=CHUNK, resumable=True)
    request = uploader.service.videos().insert(
        part="snippet,status", body={"snippet": {"title": "q"}}, media_body=media
    )
    request.next_chunk()
    request.next_chunk()
    total = video.stat().st_size
    put = urllib.request.Request(
        request.resumable_uri,
        data=b"",
        headers={"Authorization": "Bearer omniva-emulator", "Content-Range": f"bytes */{total}"},
        method="PUT",
    )
    # urllib treats 308 as an error (no redirect target): read it from the HTTPError.
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(put, timeout=5)
    assert info.value.code == 308
    # The first next_chunk() both opens the session and sends chunk 1.
    assert info.value.headers["Range"] == f"bytes=0-{2 * CHUNK - 1}"


# ------------------------------------------------------------ metadata validation
def _violations(**kw) -> list[str]:
    from omniva_resources.youtube import metadata_violations

    base = {"path": Path("x.mp4"), "title": "A fine title", "description": "fine", "tags": ("a", "b")}
    return metadata_violations(UploadRequest(**(base | kw)), now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))


def test_valid_metadata_has_no_violations():
    assert _violations() == []
    assert _violations(title="x" * 100, description="d" * 5000, publish_at="2030-01-02T00:00:00Z") == []
    assert _violations(tags=("x" * 249, "y" * 250)) == []  # 499 + one comma


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"title": ""}, "title is empty"),
        ({"title": "   "}, "title is empty"),
        ({"title": "t" * 101}, "title is 101 characters (at most 100)"),
        ({"title": "a <b> c"}, "title contains '<' or '>'"),
        ({"description": "é" * 2501}, "description is 5002 bytes in UTF-8 (at most 5000)"),
        ({"description": "1 > 0"}, "description contains '<' or '>'"),
        ({"tags": ("x" * 250, "y" * 250)}, "tags take 501 characters"),
        ({"tags": ("two words", "z" * 489)}, "tags take 501 characters"),  # quotes count
        ({"tags": ("ok", "")}, "tag 2 is empty"),
        ({"privacy_status": "friends"}, "privacy status 'friends' is not one of public, unlisted, private"),
        ({"publish_at": "2029-12-31T23:00:00Z"}, "is not in the future"),
        ({"publish_at": "tomorrow at noon"}, "is not an RFC3339 timestamp"),
        ({"publish_at": "2030-06-01T10:00:00"}, "is not an RFC3339 timestamp with a time zone"),
        ({"category_id": "music"}, "category id 'music' is not a number"),
        ({"playlist_id": "no spaces allowed"}, "is not a YouTube playlist id"),
    ],
)
def test_each_metadata_violation_is_named(fields, expected):
    problems = _violations(**fields)
    assert len(problems) == 1 and expected in problems[0], problems


def test_all_violations_are_reported_together_before_any_call(emulator: YouTubeEmulator, video: Path):
    from omniva_resources.youtube import MetadataError

    bad = UploadRequest(
        video, "<" * 101, "d", ("t",), privacy_status="secret", publish_at="2001-01-01T00:00:00Z"
    )
    with pytest.raises(MetadataError) as info:
        make_uploader(emulator).upload(bad)
    assert len(info.value.violations) == 4
    assert "video.mp4" in str(info.value)
    assert emulator.quota_used == 0 and emulator.bytes_received == 0 and emulator.open_sessions() == {}


def test_video_id_must_be_11_characters():
    from omniva_resources.youtube import MetadataError, check_video_id

    assert check_video_id("dQw4w9WgXcQ") == "dQw4w9WgXcQ"
    for bad in ("short", "dQw4w9WgXcQQ", "dQw4w9WgXc!", None):
        with pytest.raises(MetadataError, match="11 characters"):
            check_video_id(bad)


# ------------------------------------------------------------------------ quota
def test_quota_ledger_counts_per_pacific_day_and_refuses_overruns(tmp_path: Path):
    from omniva_resources.youtube import QuotaLedger, QuotaModel

    clock = [dt.datetime(2030, 3, 1, 7, 59, tzinfo=dt.UTC)]  # 23:59 PST, Feb 28
    ledger = QuotaLedger(
        tmp_path / "q" / "p.json", "123", clock=lambda: clock[0], model=QuotaModel.legacy(3300)
    )
    ledger.charge("videos.insert")
    ledger.charge("videos.insert")
    assert ledger.status()["used"] == 3200 and ledger.status()["day"] == "2030-02-28"
    with pytest.raises(QuotaExceededError, match="needs 1600 units but project 123 has used 3200") as info:
        ledger.charge("videos.insert")
    assert info.value.resets_at == dt.datetime(2030, 3, 1, 8, 0, tzinfo=dt.UTC)
    ledger.charge("videos.list")  # small calls still fit
    ledger.ensure(99, "x")
    with pytest.raises(QuotaExceededError):
        ledger.ensure(100, "x")
    assert oct((tmp_path / "q" / "p.json").stat().st_mode & 0o777) == "0o600"

    clock[0] = dt.datetime(2030, 3, 1, 8, 0, tzinfo=dt.UTC)  # midnight Pacific: a new day
    assert ledger.status()["used"] == 0
    ledger.exhaust("quotaExceeded")
    with pytest.raises(QuotaExceededError, match="answered quotaExceeded earlier today"):
        ledger.charge("videos.list")


def test_uploader_charges_each_call_and_honours_the_budget(
    tmp_path: Path, emulator: YouTubeEmulator, video: Path
):
    from omniva_resources.youtube import QuotaLedger, QuotaModel

    ledger = QuotaLedger(tmp_path / "quota.json", "p", model=QuotaModel.legacy(1600 + 1))
    uploader = YouTubeUploader(emulator.url, emulator_credentials(), chunk_size=CHUNK, quota=ledger)
    result = uploader.upload(req(video))
    uploader.get_videos([result.video_id])
    assert ledger.status()["calls"] == {"videos.insert": 1, "videos.list": 1}
    with pytest.raises(QuotaExceededError):
        uploader.upload(req(video))
    # The emulator counts its own way (the current buckets): one insert call, one unit of the pool.
    assert len(emulator.videos()) == 1 and emulator.quota_used == 1
    assert emulator.bucket_used("videos.insert") == 1


# ------------------------------------------------------------------- look-ups
def test_find_by_marker_pages_through_the_uploads_playlist(tmp_path: Path):
    small = tmp_path / "s.mp4"
    small.write_bytes(os.urandom(2000))
    with YouTubeEmulator(tmp_path / "em", daily_quota=10**6) as emulator:
        uploader = make_uploader(emulator)
        target = uploader.upload(req(small, marker="omniva-0123456789abcdef0123"))
        for i in range(55):  # pushes the target onto the second page of 50
            uploader.upload(req(small, marker=f"omniva-other{i}"))
        assert uploader.find_by_marker("omniva-0123456789abcdef0123")["id"] == target.video_id
        assert uploader.find_by_marker("omniva-missing") is None
        channel = uploader.my_channel()
        assert channel["contentDetails"]["relatedPlaylists"]["uploads"] == emulator.uploads_playlist_id
