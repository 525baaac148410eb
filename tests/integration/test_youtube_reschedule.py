"""Moving a scheduled Short (#28's calendar, for a clip already on YouTube): the real client's
``videos.update(part=status)`` against the emulator changes its ``publishAt``, keeps the rest of
its status, costs 50 units (plus the 1-unit read), and refuses what YouTube refuses."""

import datetime as dt
from pathlib import Path

import pytest

from omniva_devkit.youtube_emulator import YouTubeEmulator
from omniva_resources import youtube as yt


def _at(days: int) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:00:00Z")


def test_a_scheduled_video_moves_to_another_time(tmp_path: Path):
    video = tmp_path / "short.mp4"
    video.write_bytes(b"\x00" * 4096)
    with YouTubeEmulator(tmp_path / "em") as em:
        ledger = yt.QuotaLedger(tmp_path / "quota.json", "reschedule-test")
        uploader = yt.YouTubeUploader(em.url, yt.emulator_credentials(), quota=ledger)
        first, later = _at(2), _at(3)
        req = yt.UploadRequest(video, "A Short", "d", ("t",), publish_at=first, made_for_kids=False)
        vid = uploader.upload(req, extras=False).video_id
        used = em.quota_used
        status = uploader.reschedule(vid, later)
        assert status["publishAt"] == later and status["privacyStatus"] == "private"
        [stored] = [v for v in em.videos() if v["id"] == vid]
        assert stored["status"]["publishAt"] == later
        assert stored["status"]["selfDeclaredMadeForKids"] is False  # the rest of the part kept
        assert em.quota_used - used == 51  # videos.list 1 + videos.update 50
        with pytest.raises(yt.YouTubeError, match="publishAt|publish"):
            uploader.reschedule(vid, "2001-01-01T00:00:00Z")  # YouTube refuses the past
        public = uploader.upload(
            yt.UploadRequest(video, "Out", "d", ("t",), privacy_status="public"), extras=False
        )
        with pytest.raises(yt.YouTubeError, match="not scheduled"):
            uploader.reschedule(public.video_id, later)
        with pytest.raises(yt.YouTubeError, match="not on the channel"):
            uploader.reschedule("nosuchvideo", later)
