"""Crash-safe, exactly-once uploads: resume after SIGKILL, reuse, adopt by marker."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from omniva_devkit.youtube_emulator import YouTubeEmulator
from omniva_resources import youtube as yt

CHUNK = 256 * 1024
MiB = 1024 * 1024
REPO = Path(__file__).resolve().parents[2]

# One "uploads" process: publish_once with the clip's ledger, as the asset does.
WORKER = r"""
import sys
from pathlib import Path
from omniva_resources import youtube as yt

root, video, ledger, home = sys.argv[1:5]
uploader = yt.YouTubeUploader(
    root, yt.emulator_credentials(), chunk_size=256 * 1024,
    quota=yt.QuotaLedger(Path(home) / "quota.json", "crash-test"),
)
request = yt.UploadRequest(
    Path(video), "Crash test", "A 30 MB render.", ("omniva",),
    publish_at="2031-01-01T14:00:00Z", marker=yt.clip_marker("0f0e0d0c-0b0a-4900-8000-123456789abc"),
)
out = yt.publish_once(uploader, request, yt.UploadLedger(Path(ledger)), api_root=root, fingerprint="sha-1")
print(out.how, out.video_id, out.bytes_sent, out.resumed_from)
"""


def _worker(em: YouTubeEmulator, video: Path, ledger: Path, home: Path, **kw):
    args = [sys.executable, "-c", WORKER, em.url, str(video), str(ledger), str(home)]
    return subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_sigkill_mid_upload_resumes_from_the_confirmed_offset(tmp_path: Path):
    video = tmp_path / "render.mp4"
    video.write_bytes(os.urandom(30 * MiB + 4321))  # a 30 MB render, odd-sized last chunk
    size = video.stat().st_size
    ledger = tmp_path / "uploads" / "clip.json"
    with YouTubeEmulator(tmp_path / "em") as em:
        # Stall the answer to the chunk that takes the session past 12 MiB, then kill.
        em.hold_when_received(12 * MiB)
        first = _worker(em, video, ledger, tmp_path)
        try:
            assert em.held.wait(60), first.communicate(timeout=5)
            # Intent and session were on disk before the first byte left.
            entry = json.loads(ledger.read_text())
            assert entry["state"] == "started" and "upload_id=" in entry["session_uri"]
            assert oct(ledger.stat().st_mode & 0o777) == "0o600"
            [confirmed] = em.open_sessions().values()
            assert 12 * MiB <= confirmed < size
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            em.release()
            if first.poll() is None:
                first.kill()
        assert first.returncode == -signal.SIGKILL
        assert em.videos() == []
        sent_before = em.bytes_received
        assert sent_before == confirmed  # every chunk it sent was confirmed (none was lost)

        second = _worker(em, video, ledger, tmp_path)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err[-2000:]
        how, video_id, bytes_sent, resumed_from = out.split()
        assert how == "resumed" and int(resumed_from) == confirmed
        assert int(bytes_sent) == size - confirmed == em.bytes_received - sent_before < size
        [stored] = em.videos()
        assert stored["id"] == video_id
        assert em.video_path(video_id).read_bytes() == video.read_bytes()
        assert stored["status"]["publishAt"] == "2031-01-01T14:00:00Z"
        done = json.loads(ledger.read_text())
        assert done["state"] == "done" and done["yt_video_id"] == video_id and "session_uri" not in done

        # A third run uploads nothing and reports the same video.
        third = _worker(em, video, ledger, tmp_path)
        out, err = third.communicate(timeout=60)
        assert out.split()[:2] == ["reused", video_id]
        assert len(em.videos()) == 1 and em.bytes_received - sent_before == size - confirmed
        # One videos.insert charged for the whole story.
        quota = json.loads((tmp_path / "quota.json").read_text())
        [today] = quota["days"].values()
        assert today["calls"]["videos.insert"] == 1


@pytest.fixture
def emulator(tmp_path: Path):
    with YouTubeEmulator(tmp_path / "em") as em:
        yield em


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mp4"
    path.write_bytes(os.urandom(3 * CHUNK + 77))
    return path


def _request(video: Path, **kw) -> yt.UploadRequest:
    kw.setdefault("marker", yt.clip_marker("aaaabbbb-cccc-4ddd-8eee-ffff00001111"))
    return yt.UploadRequest(video, "Exactly once", "d", ("omniva",), publish_at="2031-01-01T14:00:00Z", **kw)


def _uploader(em: YouTubeEmulator) -> yt.YouTubeUploader:
    return yt.YouTubeUploader(em.url, yt.emulator_credentials(), chunk_size=CHUNK, sleep=lambda _: None)


def test_started_without_session_adopts_the_video_found_by_marker(tmp_path, emulator, video):
    # A run uploaded the clip, then died before writing the video id (and its session is gone).
    first = _uploader(emulator).upload(_request(video))
    ledger = yt.UploadLedger(tmp_path / "ledger.json")
    ledger.write({"state": "started", "api_root": emulator.url, "sha256": "s", "at": "2030-12-31T00:00:00Z"})
    out = yt.publish_once(
        _uploader(emulator), _request(video), ledger, api_root=emulator.url, fingerprint="s"
    )
    assert (out.how, out.video_id) == ("adopted", first.video_id)
    assert len(emulator.videos()) == 1
    assert ledger.read()["state"] == "done" and ledger.read()["how"] == "adopted"


def test_expired_session_falls_back_to_marker_then_uploads(tmp_path, emulator, video):
    ledger = yt.UploadLedger(tmp_path / "ledger.json")
    gone = f"{emulator.url}upload/youtube/v3/videos?uploadType=resumable&upload_id=expired"
    ledger.write({"state": "started", "api_root": emulator.url, "sha256": "s", "session_uri": gone})
    out = yt.publish_once(
        _uploader(emulator), _request(video), ledger, api_root=emulator.url, fingerprint="s"
    )
    assert out.how == "uploaded"  # no video with the marker: a fresh session
    [stored] = emulator.videos()
    assert stored["id"] == out.video_id
    assert emulator.video_path(out.video_id).read_bytes() == video.read_bytes()


def test_session_that_finished_is_taken_not_repeated(tmp_path, emulator, video):
    # The process died after the last chunk landed but before it read the answer.
    ledger = yt.UploadLedger(tmp_path / "ledger.json")
    uploader = _uploader(emulator)
    result = uploader.upload(
        _request(video),
        on_session=lambda uri: ledger.write({"state": "started", "session_uri": uri}),
        extras=False,
    )
    ledger.update(api_root=emulator.url, sha256="s")
    out = yt.publish_once(
        _uploader(emulator), _request(video), ledger, api_root=emulator.url, fingerprint="s"
    )
    assert out.video_id == result.video_id and out.bytes_sent == 0
    assert len(emulator.videos()) == 1


def test_changed_render_is_not_appended_to_the_old_session(tmp_path, emulator, video):
    uploader = _uploader(emulator)
    ledger = yt.UploadLedger(tmp_path / "ledger.json")
    emulator.fail_next(400, skip=1)  # the upload stops after one chunk
    with pytest.raises(yt.YouTubeError):
        uploader.upload(
            _request(video), on_session=lambda uri: ledger.write({"state": "started", "session_uri": uri})
        )
    ledger.update(api_root=emulator.url, sha256="old-render")
    video.write_bytes(os.urandom(2 * CHUNK))  # re-rendered meanwhile
    out = yt.publish_once(uploader, _request(video), ledger, api_root=emulator.url, fingerprint="new-render")
    assert out.how == "uploaded" and out.resumed_from == 0
    assert emulator.video_path(out.video_id).read_bytes() == video.read_bytes()


def test_done_ledger_is_never_uploaded_again(tmp_path, emulator, video):
    ledger = yt.UploadLedger(tmp_path / "ledger.json")
    ledger.write(
        {"state": "done", "yt_video_id": "abcdefghijk", "api_root": emulator.url, "privacy_status": "private"}
    )
    out = yt.publish_once(
        _uploader(emulator), _request(video), ledger, api_root=emulator.url, fingerprint="s"
    )
    assert (out.how, out.video_id) == ("reused", "abcdefghijk")
    assert emulator.videos() == [] and emulator.quota_used == 0
    ledger.write({"state": "done", "yt_video_id": "bad id", "api_root": emulator.url})
    with pytest.raises(yt.MetadataError, match="11 characters"):
        yt.publish_once(_uploader(emulator), _request(video), ledger, api_root=emulator.url, fingerprint="s")


def test_deferred_thumbnail_is_set_on_the_next_run(tmp_path, video):
    thumb = tmp_path / "t.png"
    thumb.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(100))
    with YouTubeEmulator(tmp_path / "em", daily_quota=1600 + 10, quota_model="legacy") as em:
        ledger = yt.UploadLedger(tmp_path / "ledger.json")
        out = yt.publish_once(
            _uploader(em), _request(video, thumbnail=thumb), ledger, api_root=em.url, fingerprint="s"
        )
        assert out.extras["thumbnail"] == "deferred (quota)"  # the video exists regardless
        em.reset_quota()
        again = yt.publish_once(
            _uploader(em), _request(video, thumbnail=thumb), ledger, api_root=em.url, fingerprint="s"
        )
        assert again.how == "reused" and again.extras["thumbnail"] == "done"
        assert len(em.videos()) == 1 and "thumbnails" in em.videos()[0]["snippet"]
