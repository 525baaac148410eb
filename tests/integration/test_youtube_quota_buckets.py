"""YouTube's 2026 quota buckets and the per-channel upload limit, end to end (#27), and the
emulator's own hygiene (#26): the real client against the emulator over HTTP.

Two emulators stand for two channels of one Google Cloud project (one emulator is one
channel); their Omniva ledgers share the project's file. Both and the ledgers run on one
injected clock, so "the next day" is a clock step, not a wait.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cognitive_sensors import eclipse
from omniva.settings import Layout
from omniva_devkit.loopback import loopback_emulator
from omniva_devkit.youtube_emulator import DEV_TOKEN, YouTubeEmulator
from omniva_devkit.youtube_emulator.emulator import from_args
from omniva_resources import youtube as yt

CHUNK = 256 * 1024
NOW = dt.datetime(2030, 1, 1, 18, 0, tzinfo=dt.UTC)  # 10:00 Pacific


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "v.mp4"
    path.write_bytes(os.urandom(300_000))
    return path


def _publish(em: YouTubeEmulator, ledger: yt.QuotaLedger, video: Path, clip: str, home: Path):
    uploader = yt.YouTubeUploader(em.url, yt.emulator_credentials(), chunk_size=CHUNK, quota=ledger)
    request = yt.UploadRequest(video, f"clip {clip}", "d", ("omniva",), marker=yt.clip_marker(clip))
    return yt.publish_once(
        uploader,
        request,
        yt.UploadLedger(home / "uploads" / f"{em.port}-{clip}.json"),
        api_root=em.url,
        fingerprint=clip,
    )


def _clip(i: int) -> str:
    return f"{i:08x}-0000-4000-8000-000000000000"  # the marker keeps the first 20 hex digits


def test_many_uploads_a_day_fit_the_buckets_but_not_the_legacy_pool(tmp_path, video):
    """The current model: ten uploads in a day cost 10 insert calls, no deferral. The legacy
    model (configured on both sides): six, then deferred with the reason."""
    clock = [NOW]
    with YouTubeEmulator(tmp_path / "em", clock=lambda: clock[0]) as em:
        ledger = yt.QuotaLedger(tmp_path / "q.json", "proj", clock=lambda: clock[0], channel="main")
        outs = [_publish(em, ledger, video, _clip(i), tmp_path) for i in range(10)]
        assert {o.how for o in outs} == {"uploaded"} and len(em.videos()) == 10
        assert em.bucket_used("videos.insert") == 10 and em.quota_used < 10 * 20  # lookups only
        buckets = {b["bucket"]: b for b in ledger.status()["buckets"]}
        assert buckets["videos.insert"]["used"] == 10 and buckets["videos.insert"]["limit"] == 100

    with YouTubeEmulator(tmp_path / "legacy", quota_model="legacy", clock=lambda: clock[0]) as em:
        ledger = yt.QuotaLedger(
            tmp_path / "legacy.json", "old", clock=lambda: clock[0], model=yt.QuotaModel.legacy()
        )
        done, deferred = [], []
        for i in range(10):
            try:
                done.append(_publish(em, ledger, video, _clip(i), tmp_path))
            except yt.QuotaExceededError as exc:
                deferred.append(exc)
        assert len(done) == 6 and len(deferred) == 4 and len(em.videos()) == 6
        assert all(e.reason == "dailyBudget" and "legacy model" in str(e) for e in deferred)


def test_channel_upload_limit_defers_that_channel_only_and_the_next_day_publishes(tmp_path, video):
    clock = [NOW]
    tick = lambda: clock[0]  # noqa: E731
    home = tmp_path / "home"
    quota_file = home / "youtube-quota" / "proj.json"
    with (
        YouTubeEmulator(tmp_path / "alpha", channel_upload_limit=2, clock=tick) as alpha,
        YouTubeEmulator(tmp_path / "beta", clock=tick) as beta,
    ):
        a = yt.QuotaLedger(quota_file, "proj", clock=tick, channel="alpha")
        b = yt.QuotaLedger(quota_file, "proj", clock=tick, channel="beta")
        pending_a, published_b = [], []
        for i in range(4):
            try:
                _publish(alpha, a, video, _clip(i), home)
            except yt.QuotaExceededError as exc:
                pending_a.append((i, exc))
            published_b.append(_publish(beta, b, video, _clip(100 + i), home))

        # alpha: two uploads, then YouTube's uploadLimitExceeded; the later clip was deferred
        # by Omniva without asking YouTube again. beta published all four.
        assert len(alpha.videos()) == 2 and alpha.bucket_used("uploads") == 2
        assert [i for i, _ in pending_a] == [2, 3]
        assert {e.reason for _, e in pending_a} == {"uploadLimitExceeded"}
        first = pending_a[0][1]
        assert first.status == 400 and "paused until its next day" in str(first)
        assert "channel alpha reached YouTube's daily upload limit" in str(pending_a[1][1])
        assert len(beta.videos()) == 4 and {o.how for o in published_b} == {"uploaded"}
        st = b.status()
        assert st["channels"]["alpha"]["paused"] == "uploadLimitExceeded"
        assert st["channels"]["beta"]["paused"] is None and st["exhausted"] is None
        # Eclipse's quota class: deferred to the reset, never quarantined.
        verdict = eclipse.decide(
            eclipse.classify("QuotaExceededError", str(first)), 9, NOW, message=str(first)
        )
        assert verdict.action == "defer" and verdict.defer_until == "2030-01-02T08:00:00Z"

        # The next Pacific day: the same run publishes alpha's deferred clips.
        clock[0] = dt.datetime(2030, 1, 2, 8, 1, tzinfo=dt.UTC)
        outs = [_publish(alpha, a, video, _clip(i), home) for i, _ in pending_a]
        assert {o.how for o in outs} == {"uploaded"} and len(alpha.videos()) == 4
        assert a.status()["channels"]["alpha"] == {
            "uploads": 2,
            "paused": None,
            "resets_at": "2030-01-03T08:00:00Z",
        }


def test_upload_limit_answer_has_youtubes_shape(tmp_path):
    with YouTubeEmulator(tmp_path / "em", channel_upload_limit=1) as em:
        em.store.count_upload()  # one upload today already

        request = urllib.request.Request(
            em.url + "upload/youtube/v3/videos?uploadType=resumable&part=snippet,status",
            data=json.dumps({"snippet": {"title": "x"}}).encode(),
            headers={"Authorization": f"Bearer {DEV_TOKEN}", "Content-Type": "application/json"},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=5)
        assert em.bucket_used("videos.insert") == 0  # refused before the quota is charged
    assert info.value.code == 400
    body = json.loads(info.value.read())
    assert body["error"]["code"] == 400
    assert body["error"]["errors"][0]["reason"] == "uploadLimitExceeded"


def test_emulator_state_files_are_owner_only(tmp_path, video):
    with YouTubeEmulator(tmp_path / "em") as em:
        out = _publish(em, yt.QuotaLedger(tmp_path / "q.json", "p"), video, _clip(1), tmp_path)
        state = em.data_dir / "state.json"
        meta = em.data_dir / "videos" / f"{out.video_id}.json"
        for path in (state, meta):
            assert oct(path.stat().st_mode & 0o777) == "0o600", path
        assert oct(em.data_dir.stat().st_mode & 0o777) == "0o700"
        secrets_file = em.data_dir / "client_secret.json"
        em.client_secrets(secrets_file)
        assert oct(secrets_file.stat().st_mode & 0o777) == "0o600"


def test_hand_started_emulator_accepts_only_its_own_tokens_unless_lax(tmp_path):
    strict = from_args(["--data-dir", str(tmp_path / "a"), "--port", "0"])
    assert strict.oauth.strict and strict.oauth.dev_token is None
    assert not strict.oauth.token_is_valid(DEV_TOKEN)
    lax = from_args(["--data-dir", str(tmp_path / "b"), "--port", "0", "--lax-auth"])
    assert lax.oauth.token_is_valid(DEV_TOKEN)
    legacy = from_args(
        ["--data-dir", str(tmp_path / "c"), "--quota-model", "legacy", "--channel-upload-limit", "3"]
    )
    assert legacy.store.quota_model == "legacy" and legacy.store.channel_upload_limit == 3
    # Omniva's own launcher (omniva run / demo / api) takes the dev token its emulator mode
    # sends, explicitly, and nothing else.
    em = loopback_emulator(Layout(tmp_path / "home"), "http://127.0.0.1:0/")
    assert em is not None
    try:
        assert em.oauth.strict and em.oauth.dev_token == DEV_TOKEN
        assert not em.oauth.token_is_valid("ya29.made-up")
    finally:
        em.stop()


def test_status_and_cli_show_each_bucket_and_channel(tmp_path, monkeypatch, capsys):
    from omniva_app import cli
    from omniva_app.api.status import quota_per_channel
    from omniva_resources.resources import OmnivaStore, YouTubeResource

    home = tmp_path / "home"
    monkeypatch.setenv("OMNIVA_HOME", str(home))
    api = YouTubeResource()  # the default emulator root: one project for both channels
    main = api.quota_ledger(None, home, "main")
    main.charge("videos.insert")
    main.charge("thumbnails.set")
    side = api.quota_ledger(None, home, "side")
    side.charge("videos.insert")
    side.exhaust("uploadLimitExceeded", "videos.insert")

    rows = {r["channel"]: r for r in quota_per_channel(OmnivaStore(home=str(home)), ["main", "side"])}
    buckets = {b["bucket"]: b for b in rows["main"]["buckets"]}
    assert rows["main"]["model"] == "buckets"
    assert (buckets["videos.insert"]["used"], buckets["videos.insert"]["limit"]) == (2, 100)
    assert (buckets["shared"]["used"], buckets["shared"]["limit"]) == (50, 10_000)
    assert buckets["search.list"]["used"] == 0 and buckets["shared"]["resets_at"] == rows["main"]["resets_at"]
    assert rows["main"]["uploads_today"] == 1 and rows["main"]["upload_limit_paused"] is None
    assert rows["side"]["upload_limit_paused"] == "uploadLimitExceeded"

    assert cli.main(["youtube", "status"]) == 0
    out = capsys.readouterr().out
    assert "model buckets" in out and "videos.insert\t2/100 calls used" in out
    assert "shared\t50/10000 units used" in out
    assert "channel side\t1 upload(s) today, paused (uploadLimitExceeded) until " in out
