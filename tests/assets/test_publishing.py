"""The ``uploads`` asset through Dagster, against the loopback YouTube emulator.

Upstream assets (renders, clip copy, publish plan) are small stand-ins with the real
asset keys, so each test materializes real partitions of the real ``uploads`` asset
into a temporary Dagster instance.
"""

import dataclasses
import datetime as dt
import hashlib
import json
import os
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from cognitive_sensors import horizon
from omniva.records import ClipCopy, PlannedSlot, PublishPlan, Render, stable_id
from omniva_assets.io_manager import record_io_manager
from omniva_assets.partitions import clip_partitions
from omniva_assets.uploader.assets import uploads
from omniva_devkit.youtube_emulator import YouTubeEmulator
from omniva_resources.resources import OmnivaStore, PublishRules, YouTubeResource
from omniva_resources.youtube.auth import TokenStore, authorize

VIDEO = "sample-video-0001"
SLOTS = ("2031-03-01T14:00:00Z", "2031-03-01T16:00:00Z", "2031-03-01T18:00:00Z")


class Clips:
    """Three rendered clips of one video, planned into three future slots."""

    def __init__(self, root: Path, n: int = 3, size: int = 300_000):
        self.root = root
        self.renders: dict[str, Render] = {}
        self.copies: dict[str, ClipCopy] = {}
        slots = []
        (root / "renders").mkdir(parents=True, exist_ok=True)
        for rank in range(1, n + 1):
            key = f"{rank}|{VIDEO}"
            clip_id = stable_id("clip", VIDEO, rank)
            path = root / "renders" / f"{VIDEO}-{rank}.mp4"
            data = os.urandom(size)
            path.write_bytes(data)
            thumb = path.with_suffix(".png")
            thumb.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(500))
            self.renders[key] = Render(
                clip_id, str(path), hashlib.sha256(data).hexdigest(), size, 20.0, 1080, 1920,
                "h264", "aac", -14.0, -1.5, "libx264", str(thumb), (),
            )  # fmt: skip
            self.copies[key] = ClipCopy(
                clip_id, f"Clip {rank} of the sample", "A clip.", ("omniva", "sample")
            )
            slots.append(PlannedSlot(clip_id, key, "omniva-demo", SLOTS[rank - 1], 1.0 - rank / 10, "test"))
        self.plan = PublishPlan(tuple(slots), 5, ("14:00", "16:00", "18:00"))

    def keys(self) -> list[str]:
        return list(self.renders)

    def assets(self) -> list:
        clips = self

        @dg.asset(name="renders", partitions_def=clip_partitions)
        def renders_stub(context: dg.AssetExecutionContext) -> Render:
            return clips.renders[context.partition_key]

        @dg.asset(name="clip_copy", partitions_def=clip_partitions)
        def copy_stub(context: dg.AssetExecutionContext) -> ClipCopy:
            return clips.copies[context.partition_key]

        @dg.asset(name="publish_plan")
        def plan_stub() -> PublishPlan:
            return clips.plan

        return [renders_stub, copy_stub, plan_stub, uploads]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("OMNIVA_YOUTUBE_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("OMNIVA_HOME", str(home))
    return home


@pytest.fixture
def instance(tmp_path: Path):
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as inst:
        inst.add_dynamic_partitions("videos", [VIDEO])
        inst.add_dynamic_partitions("clips", [f"{rank}|{VIDEO}" for rank in range(1, 6)])
        yield inst


def materialize(clips: Clips, key: str, instance, home: Path, youtube_api: YouTubeResource, **rules):
    return dg.materialize(
        clips.assets(),
        partition_key=key,
        instance=instance,
        resources={
            "store": OmnivaStore(home=str(home)),
            "youtube_api": youtube_api,
            "publish_rules": PublishRules(**rules),
            "io_manager": record_io_manager(),
        },
        raise_on_error=False,
    )


def warehouse_rows(home: Path, table: str) -> list[dict]:
    rows: list[dict] = []
    for f in sorted((home / "warehouse" / table).glob("*.parquet")):
        rows += pq.read_table(f).to_pylist()
    return rows


def test_upload_materializes_scheduled_video_with_thumbnail_and_ledger(tmp_path, home, instance):
    clips = Clips(tmp_path / "media", n=1)
    [key] = clips.keys()
    with YouTubeEmulator(tmp_path / "em") as em:
        api = YouTubeResource(api_root=em.url)
        result = materialize(clips, key, instance, home, api)
        assert result.success
        [mat] = result.asset_materializations_for_node("uploads")
        meta = {k: v.value for k, v in mat.metadata.items()}
        vid = meta["yt_video_id"]
        assert meta["how"] == "uploaded" and meta["reused"] is False
        assert meta["publish_at"] == SLOTS[0]
        assert meta["extras"]["thumbnail"] == "done"
        assert meta["extras"]["captions"].startswith("skipped")  # no <render>.srt
        [video] = em.videos()
        assert video["id"] == vid
        assert video["status"]["privacyStatus"] == "private"
        assert video["status"]["publishAt"] == SLOTS[0]
        assert "omniva-" + clips.renders[key].clip_id.replace("-", "")[:20] in video["snippet"]["tags"]
        assert em.video_path(vid).read_bytes() == Path(clips.renders[key].path).read_bytes()

        ledger = home / "uploads" / f"{clips.renders[key].clip_id}.json"
        assert json.loads(ledger.read_text())["state"] == "done"
        assert oct(ledger.stat().st_mode & 0o777) == "0o600"
        [job] = warehouse_rows(home, "upload_jobs")
        assert job["status"] == "SCHEDULED" and job["yt_video_id"] == vid

        # Re-materializing reports the existing id and uploads nothing.
        again = materialize(clips, key, instance, home, api)
        assert again.success
        [mat2] = again.asset_materializations_for_node("uploads")
        assert mat2.metadata["yt_video_id"].value == vid and mat2.metadata["reused"].value is True
        assert len(em.videos()) == 1
        quota = json.loads(next((home / "youtube-quota").glob("*.json")).read_text())
        [today] = quota["days"].values()
        # The marker look-up before the new session (channel + one page of uploads, issue #16).
        assert today["calls"] == {
            "channels.list": 1,
            "playlistItems.list": 1,
            "videos.insert": 1,
            "thumbnails.set": 1,
        }
        # The current model: the insert from its own bucket, the rest from the shared pool.
        assert today["used"] == 52 and today["buckets"] == {"videos.insert": 1}
        assert em.bucket_used("videos.insert") == 1 and em.quota_used == 52


def test_quota_exhaustion_defers_remaining_uploads_to_next_window(tmp_path, home, instance):
    clips = Clips(tmp_path / "media", n=3)
    keys = clips.keys()
    with YouTubeEmulator(tmp_path / "em") as em:
        # The legacy model (videos.insert 1,600 units of one pool): room for two uploads
        # (insert + thumbnail) today.
        api = YouTubeResource(api_root=em.url, quota_model="legacy", daily_quota_units=2 * 1650 + 100)
        results = [materialize(clips, key, instance, home, api) for key in keys]
        # A deferral is not a failure: every run succeeds ...
        assert all(r.success for r in results)
        assert len(em.videos()) == 2
        # ... but the third partition is not materialized: it stays missing for the next window.
        assert instance.get_materialized_partitions(dg.AssetKey("uploads")) == set(keys[:2])
        assert not results[2].asset_materializations_for_node("uploads")
        [obs] = [
            e.asset_observation_data.asset_observation for e in results[2].get_asset_observation_events()
        ]
        resets = horizon.next_quota_reset(dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert obs.metadata["deferred_until"].value == resets
        assert obs.metadata["reason"].value == "dailyBudget"

        jobs = {r["clip_id"]: r for r in warehouse_rows(home, "upload_jobs")}
        deferred = jobs[clips.renders[keys[2]].clip_id]
        assert deferred["status"] == "DEFERRED" and deferred["yt_video_id"] is None
        [log] = [r for r in warehouse_rows(home, "logs") if r["level"] == "WARN"]
        assert f"deferred until {resets}" in log["message"]
        assert json.loads(log["metadata"])["deferred_until"] == resets
        assert "needs 1659 units" in log["message"]  # insert, thumbnail, marker look-up (at most 9)

        # The next quota day: the deferred clip goes out.
        quota_file = next((home / "youtube-quota").glob("*.json"))
        data = json.loads(quota_file.read_text())
        data["days"] = {"2000-01-01": next(iter(data["days"].values()))}
        quota_file.write_text(json.dumps(data))
        later = materialize(clips, keys[2], instance, home, api)
        assert later.success and later.asset_materializations_for_node("uploads")
        assert len(em.videos()) == 3
        jobs = {r["clip_id"]: r for r in warehouse_rows(home, "upload_jobs")}
        assert jobs[clips.renders[keys[2]].clip_id]["status"] == "SCHEDULED"


def test_quota_exceeded_answer_defers_and_stops_calling_for_the_day(tmp_path, home, instance):
    clips = Clips(tmp_path / "media", n=3)
    keys = clips.keys()
    with YouTubeEmulator(tmp_path / "em", daily_quota=1600 + 50 + 10, quota_model="legacy") as em:
        api = YouTubeResource(api_root=em.url)  # our budget says yes; YouTube says no
        first, second, third = (materialize(clips, key, instance, home, api) for key in keys)
        assert first.success and second.success and third.success
        assert len(em.videos()) == 1
        used = em.quota_used
        obs = [e.asset_observation_data.asset_observation for e in second.get_asset_observation_events()]
        assert obs[0].metadata["reason"].value == "quotaExceeded"
        obs = [e.asset_observation_data.asset_observation for e in third.get_asset_observation_events()]
        assert obs[0].metadata["reason"].value == "quotaExceeded"
        assert em.quota_used == used  # the third was deferred without asking YouTube
        statuses = sorted(r["status"] for r in warehouse_rows(home, "upload_jobs"))
        assert statuses == ["DEFERRED", "DEFERRED", "SCHEDULED"]
        # The second clip's intent is on record, without a session: nothing half-done.
        ledger = json.loads((home / "uploads" / f"{clips.renders[keys[1]].clip_id}.json").read_text())
        assert ledger["state"] == "started" and not ledger.get("session_uri")


def test_invalid_metadata_fails_before_any_network_call(tmp_path, home, instance):
    clips = Clips(tmp_path / "media", n=1)
    [key] = clips.keys()
    copy = clips.copies[key]
    clips.copies[key] = ClipCopy(copy.clip_id, "<b>" + "x" * 120, "é" * 2600, ("t" * 300, "u" * 300))
    with YouTubeEmulator(tmp_path / "em") as em:
        result = materialize(clips, key, instance, home, YouTubeResource(api_root=em.url))
        assert not result.success
        [failure] = [e for e in result.all_events if e.is_step_failure]
        message = failure.event_specific_data.user_failure_data.description
        assert "title is 123 characters (at most 100)" in message
        assert "title contains '<' or '>'" in message
        assert "description is 5200 bytes" in message
        assert "tags take" in message
        assert em.quota_used == 0 and em.open_sessions() == {} and em.bytes_received == 0
        assert not list((home / "uploads").glob("*.json"))  # no intent recorded


def test_publish_immediately_with_captions_playlist_and_disclosures(tmp_path, home, instance):
    clips = Clips(tmp_path / "media", n=1)
    [key] = clips.keys()
    srt = Path(clips.renders[key].path).with_suffix(".srt")
    srt.write_text("1\n00:00:00,000 --> 00:00:02,000\nHello there\n")
    with YouTubeEmulator(tmp_path / "em") as em:
        playlist = em.create_playlist("Omniva shorts")
        api = YouTubeResource(
            api_root=em.url,
            publish_immediately=True,
            playlist_id=playlist,
            made_for_kids=False,
            contains_synthetic_media=True,
            category_id="27",
        )
        result = materialize(clips, key, instance, home, api, privacy_status="unlisted")
        assert result.success
        [video] = em.videos()
        assert video["status"]["privacyStatus"] == "unlisted"
        assert "publishAt" not in video["status"]
        assert video["status"]["containsSyntheticMedia"] is True
        assert video["status"]["selfDeclaredMadeForKids"] is False
        assert video["snippet"]["categoryId"] == "27"
        [caption] = em.captions(video["id"])
        assert caption["snippet"]["language"] == "en" and caption["snippet"]["isDraft"] is False
        assert em.playlist_video_ids(playlist) == [video["id"]]
        [job] = warehouse_rows(home, "upload_jobs")
        assert job["status"] == "LIVE" and job["scheduled_time"] is None


def test_burned_in_captions_get_no_caption_track_unless_asked(tmp_path, home, instance):
    clips = Clips(tmp_path / "media", n=2)
    for key, render in clips.renders.items():
        srt = Path(render.path).with_suffix(".srt")
        srt.write_text("1\n00:00:00,000 --> 00:00:02,000\nHello there\n")
        clips.renders[key] = dataclasses.replace(render, srt_path=str(srt), captions_burned=True)
    first, second = clips.keys()
    with YouTubeEmulator(tmp_path / "em") as em:
        assert materialize(clips, first, instance, home, YouTubeResource(api_root=em.url)).success
        assert materialize(
            clips, second, instance, home, YouTubeResource(api_root=em.url, captions="always")
        ).success
        by_title = {v["snippet"]["title"]: v["id"] for v in em.videos()}
        assert em.captions(by_title["Clip 1 of the sample"]) == []  # auto: burned in, no CC track
        assert len(em.captions(by_title["Clip 2 of the sample"])) == 1
        bad = materialize(
            clips, first, instance, home, YouTubeResource(api_root=em.url, captions="sometimes")
        )
        assert not bad.success


def test_past_slot_publishes_late_rather_than_never():
    now = dt.datetime(2030, 5, 1, 12, 0, 30, tzinfo=dt.UTC)
    kept, why = horizon.effective_publish_at("2030-05-02T14:00:00Z", now)
    assert kept == "2030-05-02T14:00:00Z" and "planned slot" in why
    late, why = horizon.effective_publish_at("2030-05-01T11:00:00Z", now)
    assert late == "2030-05-01T12:16:00Z" and "has passed" in why
    assert horizon.effective_publish_at(None, now)[0] is None


def test_quota_day_follows_pacific_midnight_with_dst():
    summer = dt.datetime(2030, 7, 1, 6, 59, tzinfo=dt.UTC)  # 23:59 PDT on June 30
    assert horizon.quota_day(summer) == "2030-06-30"
    assert horizon.next_quota_reset(summer) == dt.datetime(2030, 7, 1, 7, 0, tzinfo=dt.UTC)
    winter = dt.datetime(2030, 1, 15, 12, 0, tzinfo=dt.UTC)
    assert horizon.next_quota_reset(winter) == dt.datetime(2030, 1, 16, 8, 0, tzinfo=dt.UTC)
    assert horizon.fits_quota(8350, 1650, 10_000) and not horizon.fits_quota(8351, 1650, 10_000)


def _scan(paths: list[Path], needles: dict[str, str]) -> list[str]:
    """Where any needle appears in the files under ``paths`` (Parquet read as text)."""
    hits = []
    for root in paths:
        for f in [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()):
            data = f.read_bytes()
            if f.suffix == ".parquet":
                data += json.dumps(pq.read_table(f).to_pylist(), default=str).encode()
            hits += [f"{name} in {f}" for name, value in needles.items() if value.encode() in data]
    return hits


def test_no_secret_reaches_logs_metadata_or_warehouse(tmp_path, home, instance, capfd, caplog):
    caplog.set_level("DEBUG")
    clips = Clips(tmp_path / "media", n=1)
    [key] = clips.keys()
    with YouTubeEmulator(tmp_path / "em", strict_auth=True) as em:
        secrets_file = tmp_path / "client_secret.json"
        em.client_secrets(secrets_file)
        store = TokenStore(home / "secrets" / "youtube")
        printed: list[str] = []
        authorize(
            secrets_file,
            "omniva-demo",
            store=store,
            console=True,
            print_fn=printed.append,
            input_fn=lambda _: _consent(printed[-1]),
        )
        token_path = store.path("omniva-demo")
        before = json.loads(token_path.read_text())
        em.expire_access_tokens()  # the run must refresh, and save the new token
        api = YouTubeResource(
            api_root=em.url, token_file=str(token_path), quota_project="secrets-test", channel="omniva-demo"
        )
        result = materialize(clips, key, instance, home, api)
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        assert "refresh_token" in em.token_grants
        after = json.loads(token_path.read_text())
        assert after["token"] != before["token"]
        assert oct(token_path.stat().st_mode & 0o777) == "0o600"
        needles = {
            "old access token": before["token"],
            "new access token": after["token"],
            "refresh token": before["refresh_token"],
            "client secret": before["client_secret"],
        }
        ledger = json.loads(next((home / "uploads").glob("*.json")).read_text())
        assert "upload_id=" not in json.dumps(ledger)  # the session URI is dropped once done
    out, err = capfd.readouterr()
    text = out + err + caplog.text + "\n".join(str(e) for e in result.all_events)
    leaks = [
        (name, text[max(text.find(value) - 300, 0) : text.find(value) + 50])
        for name, value in needles.items()
        if value in text
    ]
    assert not leaks
    # The instance (event log, run storage, compute logs), the warehouse, the ledgers.
    scanned = [tmp_path / "dagster", home / "warehouse", home / "uploads", home / "youtube-quota"]
    assert not _scan(scanned, needles)


def _consent(prompt_text: str) -> str:
    """Play the user's browser: open the consent link, return where it redirects."""
    import urllib.error
    import urllib.request

    url = prompt_text.split("\n\n    ", 1)[1].split("\n", 1)[0]

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(url, timeout=5)
    except urllib.error.HTTPError as exc:
        return exc.headers["Location"]
    raise AssertionError("the consent page did not redirect")


def test_publish_plan_sends_a_projects_clips_to_its_channel(tmp_path, monkeypatch):
    """A creator in a project publishes to the project's channel; others to the default one."""
    from omniva.settings import Layout
    from omniva_assets.scheduler.assets import publish_plan
    from omniva_resources import creators, projects
    from omniva_resources.resources import OmnivaStore, PublishRules
    from omniva_resources.warehouse import Warehouse

    monkeypatch.setenv("OMNIVA_HOME", str(tmp_path))
    lay = Layout(tmp_path)
    creators.add(lay, "alice", "https://example.org/alice.xml")
    creators.add(lay, "bob", "https://example.org/bob.xml")
    projects.add_project("physics", "physics-shorts", lay=lay)
    projects.add_creator("physics", "alice", lay)
    wh = Warehouse(lay.warehouse, lay.duckdb_path)
    now = "2026-11-26T10:00:00Z"
    for i, creator in enumerate(("alice", "bob")):
        video, clip_id, uid = (
            f"{creator}-v",
            f"00000000-0000-0000-0000-00000000000{i}",
            f"10000000-0000-0000-0000-00000000000{i}",
        )
        wh.write_partition(
            "videos",
            video,
            [
                {
                    "video_id": uid,
                    "post_id": uid,
                    "video_key": video,
                    "creator": creator,
                    "source_url": "u",
                    "file_path": "f",
                    "checksum": "c",
                    "created_at": now,
                }
            ],
        )
        wh.write_partition(
            "clips",
            f"1|{video}",
            [
                {
                    "clip_id": clip_id,
                    "video_id": uid,
                    "video_key": video,
                    "rank": 1,
                    "candidate_id": uid,
                    "start_time": 0.0,
                    "end_time": 20.0,
                    "lattice_priority": 0.5,
                }
            ],
        )
        wh.write_partition(
            "renders",
            f"1|{video}",
            [
                {
                    "clip_id": clip_id,
                    "file_path": "r.mp4",
                    "checksum": "c",
                    "size_bytes": 1,
                    "duration_seconds": 20.0,
                    "resolution": "1080x1920",
                    "video_codec": "h264",
                    "audio_codec": "aac",
                    "encoder": "libx264",
                    "created_at": now,
                }
            ],
        )
        wh.write_partition(
            "clip_copy", f"1|{video}", [{"clip_id": clip_id, "title": f"t{i}", "description": "d"}]
        )
    resources = {
        "store": OmnivaStore(home=str(tmp_path)),
        "publish_rules": PublishRules(channel="main-channel"),
        "youtube_api": YouTubeResource(),
    }
    with dg.build_asset_context(resources=resources) as ctx:
        plan = next(o.value for o in publish_plan(ctx) if isinstance(o, dg.Output))
    assert {s.clip_key: s.channel for s in plan.slots} == {
        "1|alice-v": "physics-shorts",
        "1|bob-v": "main-channel",
    }
    assert {r["channel"] for r in wh.query("SELECT channel FROM schedules")} == {
        "physics-shorts",
        "main-channel",
    }


def test_channel_upload_limit_defers_the_upload_with_its_reason(tmp_path, home, instance):
    """YouTube's per-channel uploadLimitExceeded (#27): the run succeeds, the partition waits
    for the channel's next day with the reason, nothing is quarantined, and the next clip of
    that channel is deferred without asking YouTube."""
    clips = Clips(tmp_path / "media", n=3)
    keys = clips.keys()
    with YouTubeEmulator(tmp_path / "em", channel_upload_limit=1) as em:
        api = YouTubeResource(api_root=em.url)
        results = [materialize(clips, key, instance, home, api) for key in keys]
        assert all(r.success for r in results) and len(em.videos()) == 1
        assert instance.get_materialized_partitions(dg.AssetKey("uploads")) == {keys[0]}
        for result in results[1:]:
            [obs] = [
                e.asset_observation_data.asset_observation for e in result.get_asset_observation_events()
            ]
            assert obs.metadata["reason"].value == "uploadLimitExceeded"
            assert obs.metadata["channel"].value == "omniva-demo"
            assert "channel omniva-demo paused until its next day" in obs.metadata["message"].value
        assert em.bucket_used("uploads") == 1 and em.bucket_used("videos.insert") == 1  # asked once
        statuses = sorted(r["status"] for r in warehouse_rows(home, "upload_jobs"))
        assert statuses == ["DEFERRED", "DEFERRED", "SCHEDULED"]
        assert OmnivaStore(home=str(home)).quarantined() == set()
        ledger = api.quota_ledger(None, home, "omniva-demo")
        assert ledger.status()["channels"]["omniva-demo"]["paused"] == "uploadLimitExceeded"


def _seed_ready_clips(wh, creator: str, n: int) -> None:
    """``n`` rendered, titled clips of ``creator`` (one per video), ready to plan."""
    now = "2026-11-26T10:00:00Z"
    for i in range(n):
        video, clip_id, uid = (
            f"{creator}-v{i:02d}",
            f"00000000-0000-0000-0001-{i:012d}",
            f"10000000-0000-0000-0001-{i:012d}",
        )
        wh.write_partition(
            "videos",
            video,
            [
                {
                    "video_id": uid,
                    "post_id": uid,
                    "video_key": video,
                    "creator": creator,
                    "source_url": "u",
                    "file_path": "f",
                    "checksum": "c",
                    "created_at": now,
                }
            ],
        )
        wh.write_partition(
            "clips",
            f"1|{video}",
            [
                {
                    "clip_id": clip_id,
                    "video_id": uid,
                    "video_key": video,
                    "rank": 1,
                    "candidate_id": uid,
                    "start_time": 0.0,
                    "end_time": 20.0,
                    "lattice_priority": 0.9 - i / 100,
                }
            ],
        )
        wh.write_partition(
            "renders",
            f"1|{video}",
            [
                {
                    "clip_id": clip_id,
                    "file_path": "r.mp4",
                    "checksum": "c",
                    "size_bytes": 1,
                    "duration_seconds": 20.0,
                    "resolution": "1080x1920",
                    "video_codec": "h264",
                    "audio_codec": "aac",
                    "encoder": "libx264",
                    "created_at": now,
                }
            ],
        )
        wh.write_partition(
            "clip_copy", f"1|{video}", [{"clip_id": clip_id, "title": f"t{i}", "description": "d"}]
        )


@pytest.mark.parametrize("model", ["buckets", "legacy"])
def test_publish_plan_lets_the_cadence_decide_under_the_buckets(tmp_path, monkeypatch, model):
    """#27 through the asset: 30 ready clips, a cadence of 10 a day, 3 days planned. The
    current buckets: 10 on each of three days, none deferred. The legacy model (configured):
    6 a day, the other 12 deferred with the bucket that filled the days."""
    from collections import Counter

    from omniva.settings import Layout
    from omniva_assets.scheduler.assets import publish_plan
    from omniva_resources import creators
    from omniva_resources.warehouse import Warehouse

    monkeypatch.setenv("OMNIVA_HOME", str(tmp_path))
    lay = Layout(tmp_path)
    creators.add(lay, "carol", "https://example.org/carol.xml")
    wh = Warehouse(lay.warehouse, lay.duckdb_path)
    _seed_ready_clips(wh, "carol", 30)
    # Slots from 00:00 to 09:00 in Los Angeles: each day's ten are one Pacific quota day.
    rules = PublishRules(
        channel="main",
        daily_quota=10,
        slot_times_utc=",".join(f"{h:02d}:00" for h in range(10)),
        plan_days=3,
        time_zone="America/Los_Angeles",
    )
    resources = {
        "store": OmnivaStore(home=str(tmp_path)),
        "publish_rules": rules,
        "youtube_api": YouTubeResource(quota_model=model),
    }
    import datetime as _dt

    from omniva_assets.scheduler import assets as scheduler_assets

    class Fixed(_dt.datetime):  # the plan's "now": 23:00 in Los Angeles, the evening before
        @classmethod
        def now(cls, tz=None):
            return cls(2030, 1, 1, 7, 0, tzinfo=_dt.UTC).astimezone(tz)

    monkeypatch.setattr(scheduler_assets, "datetime", Fixed)
    with dg.build_asset_context(resources=resources) as ctx:
        outputs = list(publish_plan(ctx))
    [output] = [o for o in outputs if isinstance(o, dg.Output)]
    plan = output.value
    [check] = [o for o in outputs if isinstance(o, dg.AssetCheckResult)]
    assert check.passed
    per_day = Counter(s.publish_at[:10] for s in plan.slots)  # 00:00-09:00 PST is 08:00-17:00 UTC
    if model == "buckets":
        assert per_day == {"2030-01-01": 10, "2030-01-02": 10, "2030-01-03": 10} and plan.deferred == ()
    else:
        assert per_day == {"2030-01-01": 6, "2030-01-02": 6, "2030-01-03": 6} and len(plan.deferred) == 12
        deferred_why = output.metadata["deferred_why"].value
        assert len(deferred_why) == 12
        assert all("legacy model, videos.insert 1,600" in d["why"] for d in deferred_why)
        assert output.metadata["quota_limit"].value.startswith(
            "6 a day: quota the project's 10,000-unit pool"
        )
