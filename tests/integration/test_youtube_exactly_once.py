"""Exactly once beyond one ledger: a lost ledger, a second Omniva home, two racing processes.

The ledger is one home's memory of a clip's upload; the channel is the truth. Before any
new upload session ``publish_once`` looks the clip's marker up on the channel's uploads
playlist, and two processes of one home take turns on the clip through the ledger's lock.
All through the real client against the emulator over HTTP, with real processes.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from omniva_devkit.youtube_emulator import YouTubeEmulator
from omniva_resources import youtube as yt

CHUNK = 256 * 1024
REPO = Path(__file__).resolve().parents[2]
CLIP = "0f0e0d0c-0b0a-4900-8000-123456789abc"

# One "uploads" process of one home: it gets ready, waits for the starting gun, publishes.
RACER = r"""
import sys, time
from pathlib import Path
from omniva_resources import youtube as yt

root, video, ledger, home, marker, ready, go = sys.argv[1:8]
uploader = yt.YouTubeUploader(
    root, yt.emulator_credentials(), chunk_size=256 * 1024,
    quota=yt.QuotaLedger(Path(home) / "quota.json", "race-test", 10**9),
)
request = yt.UploadRequest(Path(video), "Race", "Two processes, one clip.", ("omniva",), marker=marker)
uploader.service  # built before the gun: both start from the same line
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.001)
out = yt.publish_once(uploader, request, yt.UploadLedger(Path(ledger)), api_root=root, fingerprint="sha")
print(out.how, out.video_id)
"""


@pytest.fixture
def emulator(tmp_path: Path):
    with YouTubeEmulator(tmp_path / "em", daily_quota=10**6) as em:
        yield em


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "render.mp4"
    path.write_bytes(os.urandom(8 * CHUNK + 777))
    return path


def _uploader(em: YouTubeEmulator, home: Path) -> yt.YouTubeUploader:
    quota = yt.QuotaLedger(home / "youtube-quota" / "emu.json", "emu", 10**9)
    return yt.YouTubeUploader(em.url, yt.emulator_credentials(), chunk_size=CHUNK, quota=quota)


def _request(video: Path, clip: str = CLIP) -> yt.UploadRequest:
    return yt.UploadRequest(
        video, "Exactly once", "One clip, one video.", ("omniva",), marker=yt.clip_marker(clip)
    )


def _publish(em: YouTubeEmulator, home: Path, video: Path, clip: str = CLIP) -> yt.PublishOutcome:
    ledger = yt.UploadLedger(home / "uploads" / f"{clip}.json")
    return yt.publish_once(
        _uploader(em, home), _request(video, clip), ledger, api_root=em.url, fingerprint="sha"
    )


def _marked(em: YouTubeEmulator, clip: str = CLIP) -> list[str]:
    marker = yt.clip_marker(clip)
    return [v["id"] for v in em.videos() if marker in (v["snippet"].get("tags") or [])]


def test_deleted_ledger_then_rerun_is_still_one_video(tmp_path, emulator, video):
    home = tmp_path / "home"
    first = _publish(emulator, home, video)
    assert first.how == "uploaded"
    (home / "uploads" / f"{CLIP}.json").unlink()  # the home's memory is gone
    inserts = emulator.bucket_used("videos.insert")
    again = _publish(emulator, home, video)
    assert (again.how, again.video_id) == ("adopted", first.video_id)
    assert _marked(emulator) == [first.video_id] and len(emulator.videos()) == 1
    assert emulator.bucket_used("videos.insert") == inserts  # a look-up, no second insert
    assert emulator.open_sessions() == {}  # not even a session was opened
    assert _publish(emulator, home, video).how == "reused"  # the ledger is written back


def test_two_homes_publishing_one_clip_make_one_video(tmp_path, emulator, video):
    first = _publish(emulator, tmp_path / "home-a", video)
    second = _publish(emulator, tmp_path / "home-b", video)
    assert (first.how, second.how) == ("uploaded", "adopted")
    assert second.video_id == first.video_id
    assert len(emulator.videos()) == 1
    # Another clip is not mistaken for it.
    other = _publish(emulator, tmp_path / "home-b", video, clip="1f0e0d0c-0b0a-4900-8000-123456789abc")
    assert other.how == "uploaded" and other.video_id != first.video_id
    assert len(emulator.videos()) == 2


def test_marker_is_found_beyond_the_first_page_of_uploads(tmp_path, emulator, video):
    first = _publish(emulator, tmp_path / "home-a", video)
    small = tmp_path / "small.mp4"
    small.write_bytes(os.urandom(1000))
    for i in range(55):  # the clip's video is now on the uploads playlist's second page
        _publish(emulator, tmp_path / "home-a", small, clip=f"{i:08x}-0000-4000-8000-000000000000")
    second = _publish(emulator, tmp_path / "home-b", video)
    assert (second.how, second.video_id) == ("adopted", first.video_id)
    assert len(_marked(emulator)) == 1


def _race(em: YouTubeEmulator, video: Path, home: Path, clip: str) -> list[str]:
    """Two processes of ``home`` publish ``clip`` at the same instant; what each printed."""
    ledger = home / "uploads" / f"{clip}.json"
    go = home / f"go-{clip}"
    procs, ready = [], []
    for n in range(2):
        ready.append(home / f"ready-{clip}-{n}")
        args = [sys.executable, "-c", RACER, em.url, str(video), str(ledger), str(home)]
        args += [yt.clip_marker(clip), str(ready[-1]), str(go)]
        procs.append(
            subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        )
    try:
        deadline = time.monotonic() + 120
        while not all(r.exists() for r in ready):
            assert time.monotonic() < deadline and all(p.poll() is None for p in procs), [
                p.communicate(timeout=5) for p in procs if p.poll() is not None
            ]
            time.sleep(0.01)
        go.touch()
        outs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
    return [out.strip() for out, _ in outs]


def test_two_processes_racing_on_one_clip_make_one_video(tmp_path, emulator, video):
    home = tmp_path / "home"
    (home / "uploads").mkdir(parents=True)
    for n in range(4):  # without the ledger's lock most rounds make two videos
        clip = f"{n:08x}-abcd-4000-8000-00000000race"
        outs = _race(emulator, video, home, clip)
        assert len(_marked(emulator, clip)) == 1, outs
        hows = sorted(o.split()[0] for o in outs)
        assert hows == ["reused", "uploaded"], outs  # the second waited, then found the ledger done
        assert len({o.split()[1] for o in outs}) == 1
