"""Review before publish (#28): a project's ``review: required`` holds its uploads until a person
approves each clip; a rejected clip never uploads and its slot goes to the next clip; a person's
edited title is what the upload sends; the calendar moves a clip to another slot.

Real assets on a real Dagster instance (the ``publish_plan`` and ``uploads`` assets, the launch
policy ``LaunchPolicy.plan`` that ``omniva run``, the sensors and the API share) over a small
working folder whose upstream tables (videos, clips, renders, clip copy) are seeded, publishing
to the loopback YouTube emulator; the endpoints through the app itself (FastAPI's test client,
with real keys), scoped per project.
"""

import hashlib
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import dagster as dg
import pytest
from fastapi.testclient import TestClient

from omniva.records import ClipCopy, PublishPlan, Render, stable_id
from omniva.settings import Layout
from omniva_app.api.app import create_app
from omniva_app.api.keys import KeyStore
from omniva_assets.io_manager import record_io_manager
from omniva_assets.partitions import clip_partitions
from omniva_assets.policy import LaunchPolicy
from omniva_assets.scheduler.assets import publish_plan
from omniva_assets.uploader.assets import uploads
from omniva_devkit.youtube_emulator import YouTubeEmulator
from omniva_resources import creators, projects
from omniva_resources.resources import OmnivaStore, PublishRules, YouTubeResource, resources_from_env
from omniva_resources.warehouse import Warehouse

ALPHA, BETA = "alpha-video-0001", "beta-video-0001"
NOW = "2026-11-26T10:00:00Z"


def _clip_id(video: str, rank: int) -> str:
    return stable_id("clip", video, rank)


def _seed(home: Path, video: str, creator: str, ranks: int) -> dict[str, tuple[Render, ClipCopy]]:
    """One video of ``creator`` with ``ranks`` rendered clips (priority falling with the rank)."""
    wh = Warehouse(home / "warehouse", home / "omniva.duckdb")
    uid = stable_id("video", video)
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
                "duration_seconds": 300.0,
                "checksum": "c",
                "created_at": NOW,
            }
        ],
    )
    out = {}
    (home / "renders").mkdir(parents=True, exist_ok=True)
    for rank in range(1, ranks + 1):
        key, clip_id = f"{rank}|{video}", _clip_id(video, rank)
        data = os.urandom(50_000)
        path = home / "renders" / f"{video}-{rank}.mp4"
        path.write_bytes(data)
        wh.write_partition(
            "clips",
            key,
            [
                {
                    "clip_id": clip_id,
                    "video_id": uid,
                    "video_key": video,
                    "rank": rank,
                    "candidate_id": stable_id("candidate", video, rank),
                    "start_time": 10.0 * rank,
                    "end_time": 10.0 * rank + 20,
                    "lattice_priority": 1.0 - rank / 10,
                }
            ],
        )
        render = Render(
            clip_id, str(path), hashlib.sha256(data).hexdigest(), len(data), 20.0, 1080, 1920,
            "h264", "aac", -14.0, -1.5, "libx264", "", (),
        )  # fmt: skip
        wh.write_partition(
            "renders",
            key,
            [
                {
                    "clip_id": clip_id,
                    "file_path": str(path),
                    "checksum": render.sha256,
                    "size_bytes": len(data),
                    "duration_seconds": 20.0,
                    "resolution": "1080x1920",
                    "video_codec": "h264",
                    "audio_codec": "aac",
                    "encoder": "libx264",
                    "created_at": NOW,
                }
            ],
        )
        copy = ClipCopy(clip_id, f"Chorus title {rank}", "A clip.", ("omniva",))
        wh.write_partition("clip_copy", key, [copy.row()])
        out[key] = (render, copy)
    return out


def _seed_clip_page(home: Path, video: str, rank: int) -> None:
    """A transcript (a word before, three in and one after the span 20-40 s), the clip's edit
    decision list cutting the filler, its candidate's features and two agents' votes."""
    wh = Warehouse(home / "warehouse", home / "omniva.duckdb")
    uid, clip_id = stable_id("video", video), _clip_id(video, rank)
    words = [
        ("before", 5.0, 5.5),
        ("so", 21.0, 21.4),
        ("um", 22.0, 22.5),
        ("gravity", 23.0, 23.6),
        ("after", 45, 46),
    ]
    wh.write_partition(
        "transcripts",
        video,
        [
            {
                "video_id": uid,
                "video_key": video,
                "language": "en",
                "model": "test",
                "word_timing": "asr",
                "text": " ".join(w for w, _, _ in words),
                "word_count": len(words),
                "words": [{"word": w, "start": a, "end": b} for w, a, b in words],
                "created_at": NOW,
            }
        ],
    )
    wh.write_partition(
        "edit_jobs",
        f"{rank}|{video}",
        [
            {
                "edit_job_id": stable_id("edit", clip_id),
                "clip_id": clip_id,
                "operations": [{"op": "cut", "start": 21.9, "end": 22.6, "reason": "filler"}],
                "status": "DONE",
                "created_at": NOW,
            }
        ],
    )
    candidate = stable_id("candidate", video, rank)
    wh.write_partition(
        "clip_candidates",
        video,
        [
            {
                "candidate_id": candidate,
                "video_id": uid,
                "video_key": video,
                "start_time": 20.0,
                "end_time": 40.0,
                "score": 0.8,
                "selected_rank": rank,
                "features": {"hook": 0.9},
            }
        ],
    )
    wh.write_partition(
        "pantheon_votes",
        video,
        [
            {"candidate_id": candidate, "video_key": video, "agent": agent, "score": score, "vote": vote,
             "confidence": 0.9, "reason": why}
            for agent, score, vote, why in (("hook", 0.9, "yes", "strong opening"), ("brand", 0.2, "no", "too loud"))
        ],
    )  # fmt: skip


@pytest.fixture
def farm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Projects alpha (review required) and beta (auto), one creator and one video each."""
    for name in list(os.environ):
        if name.startswith(("OMNIVA_YOUTUBE_", "OMNIVA_SLOT", "OMNIVA_DAILY")):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("OMNIVA_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    lay = Layout(home)
    clips = {}
    for name, video, n in (("alpha", ALPHA, 4), ("beta", BETA, 1)):
        creators.add(lay, name, f"https://example.org/{name}.xml")
        projects.add_project(name, f"{name}-channel", lay=lay)
        projects.add_creator(name, name, lay)
        clips.update(_seed(home, video, name, n))
    assert projects.get_project("alpha", lay).review == "auto"  # the default
    projects.set_review("alpha", "required", lay)
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as inst:
        inst.add_dynamic_partitions("videos", [ALPHA, BETA])
        inst.add_dynamic_partitions("clips", list(clips))
        for video, n in ((ALPHA, 4), (BETA, 1)):
            inst.report_runless_asset_event(
                dg.AssetMaterialization(
                    "clip_selections", partition=video, metadata={"ranks": list(range(1, n + 1))}
                )
            )
        yield {"home": home, "lay": lay, "instance": inst, "clips": clips, "tmp": tmp_path}


def _plan(home: Path) -> PublishPlan:
    resources = {
        "store": OmnivaStore(home=str(home)),
        "publish_rules": PublishRules(channel="main-channel"),
        "youtube_api": YouTubeResource(),
    }
    with dg.build_asset_context(resources=resources) as ctx:
        outputs = cast(Iterator[object], publish_plan(ctx))  # a generator asset, called directly
        return next(o.value for o in outputs if isinstance(o, dg.Output))


def _upload(farm, plan: PublishPlan, key: str, api: YouTubeResource) -> dg.ExecuteInProcessResult:
    clips = farm["clips"]

    @dg.asset(name="renders", partitions_def=clip_partitions)
    def renders_stub(context: dg.AssetExecutionContext) -> Render:
        return clips[context.partition_key][0]

    @dg.asset(name="clip_copy", partitions_def=clip_partitions)
    def copy_stub(context: dg.AssetExecutionContext) -> ClipCopy:
        return clips[context.partition_key][1]

    @dg.asset(name="publish_plan")
    def plan_stub() -> PublishPlan:
        return plan

    return dg.materialize(
        [renders_stub, copy_stub, plan_stub, uploads],
        partition_key=key,
        instance=farm["instance"],
        resources={
            "store": OmnivaStore(home=str(farm["home"])),
            "youtube_api": api,
            "publish_rules": PublishRules(channel="main-channel"),
            "io_manager": record_io_manager(),
        },
        raise_on_error=False,
    )


def _policy(farm) -> LaunchPolicy:
    return LaunchPolicy.of(farm["instance"], resources_from_env())


def _wh(farm) -> Warehouse:
    return Warehouse(farm["home"] / "warehouse", farm["home"] / "omniva.duckdb")


def test_review_required_uploads_only_the_approved_clip_with_its_edited_title(farm):
    store = OmnivaStore(home=str(farm["home"]))
    k1, k2, k3, k4 = (f"{r}|{ALPHA}" for r in range(1, 5))
    # A person rejects clip 1 before the plan, approves clip 2 and edits its title.
    store.record_review(_clip_id(ALPHA, 1), k1, "reject", "off-brand joke", "key-reviewer")
    store.record_review(_clip_id(ALPHA, 2), k2, "approve", None, "key-reviewer")
    store.record_copy_edit(_clip_id(ALPHA, 2), k2, "A person's title", "Edited.", ["physics"], "key-editor")

    plan = _plan(farm["home"])
    planned = {s.clip_key: s.publish_at for s in plan.slots}
    assert k1 not in planned  # rejected: never planned
    # its slot goes to the next clip: clip 2 (the next by priority) has the first slot
    assert planned[k2] == min(planned.values())
    assert {k3, k4} <= set(planned)  # unreviewed clips are planned; Zenith holds their upload

    decided = _policy(farm).plan("upload", [k1, k2, k3, k4, f"1|{BETA}"], "omniva-cli")
    why = {d.partition_key: (d.action, d.reason) for d in decided.decisions}
    assert [la.partition_key for la in decided.launches] == [k2, f"1|{BETA}"] or {
        la.partition_key for la in decided.launches
    } == {k2, f"1|{BETA}"}  # beta's project is auto: no review needed
    assert why[k1] == ("refuse", "rejected by key-reviewer: off-brand joke")
    assert why[k3] == ("defer", "waiting for review (project proj_alpha requires approval)")
    zenith = _wh(farm).query("SELECT partition_key, action FROM zenith_decisions WHERE stage = 'upload'")
    assert {(r["partition_key"], r["action"]) for r in zenith} >= {(k1, "refuse"), (k3, "defer")}

    with YouTubeEmulator(farm["tmp"] / "em") as em:
        api = YouTubeResource(api_root=em.url)
        for la in decided.launches:
            if la.partition_key.endswith(ALPHA):
                assert _upload(farm, plan, la.partition_key, api).success
        # A run asked for the rejected clip anyway uploads nothing.
        assert _upload(farm, plan, k1, api).success
        [video] = em.videos()
        assert video["snippet"]["title"] == "A person's title"
        assert video["snippet"]["description"] == "Edited."
    [job] = _wh(farm).query("SELECT title, status FROM upload_jobs")
    assert job == {"title": "A person's title", "status": "SCHEDULED"}
    [packet] = _wh(farm).query("SELECT lineage FROM stardust_metadata WHERE asset_key = 'uploads'")
    assert "key-editor" in json.dumps(packet["lineage"])

    # Rejected after it was planned: clip 3's slot is given up and goes to the next clip.
    slot3 = planned[k3]
    store.record_review(_clip_id(ALPHA, 3), k3, "reject", "blurry", "key-reviewer")
    _seed(farm["home"], "alpha-video-0002", "alpha", 1)
    again = {s.clip_key: s.publish_at for s in _plan(farm["home"]).slots}
    assert k3 not in again and again["1|alpha-video-0002"] == slot3
    assert not _wh(farm).query("SELECT * FROM schedules WHERE clip_key = $1", [k3])


def test_auto_mode_uploads_without_review(farm):
    projects.set_review("alpha", "auto", farm["lay"])
    keys = [f"{r}|{ALPHA}" for r in range(1, 5)]
    plan = _plan(farm["home"])
    decided = _policy(farm).plan("upload", keys, "omniva-cli")
    assert {la.partition_key for la in decided.launches} == set(keys)
    with YouTubeEmulator(farm["tmp"] / "em") as em:
        assert _upload(farm, plan, keys[0], YouTubeResource(api_root=em.url)).success
        [video] = em.videos()
        assert video["snippet"]["title"] == "Chorus title 1"


# ------------------------------------------------------------------ the endpoints
@pytest.fixture
def client(farm):
    keys = KeyStore(farm["home"] / "api" / "keys.json")
    tokens = {name: keys.create(f"proj_{name}", name)[0] for name in ("alpha", "beta")}
    app = create_app()
    with TestClient(app) as c:
        c.headers["Authorization"] = f"Bearer {tokens['alpha']}"
        yield c, {"Authorization": f"Bearer {tokens['beta']}"}, tokens["alpha"].split("_")[1]


def _data(resp) -> dict:
    body = resp.json()
    assert resp.status_code in (200, 202) and body["status"] == "success", body
    return body["data"]


def _error(resp, status: int, code: str) -> dict:
    body = resp.json()
    assert resp.status_code == status and body["error"]["code"] == code, body
    return body["error"]


def test_review_copy_calendar_and_move_through_the_api(farm, client):
    c, beta, key_id = client
    c1, c2, c3 = (_clip_id(ALPHA, r) for r in (1, 2, 3))

    # review mode
    assert _data(c.put("/v1/projects/proj_alpha/review-mode", json={"review": "auto"}))["review"] == "auto"
    assert _data(c.put("/v1/projects/proj_alpha/review-mode", json={"review": "required"}))["review"] == (
        "required"
    )
    _error(c.put("/v1/projects/proj_alpha/review-mode", json={"review": "maybe"}), 400, "VALIDATION_ERROR")

    # review
    _error(c.post(f"/v1/clips/{c1}/review", json={"decision": "reject"}), 400, "VALIDATION_ERROR")
    rejected = _data(c.post(f"/v1/clips/{c1}/review", json={"decision": "reject", "reason": "too long"}))
    assert rejected["decision"] == "reject" and rejected["reason"] == "too long"
    assert rejected["author"] == key_id and rejected["clip_id"] == c1 and rejected["created_at"]
    assert _data(c.post(f"/v1/clips/{c2}/review", json={"decision": "approve"}))["decision"] == "approve"

    # copy: YouTube's limits, the field named
    err = _error(c.put(f"/v1/clips/{c2}/copy", json={"title": "a <b>", "tags": []}), 400, "INVALID_COPY")
    assert err["details"][0]["field"] == "title"
    err = _error(c.put(f"/v1/clips/{c2}/copy", json={"title": "ok", "tags": ["x" * 31]}), 400, "INVALID_COPY")
    assert err["details"][0]["field"] == "tags"
    err = _error(
        c.put(f"/v1/clips/{c2}/copy", json={"title": "ok", "description": "é" * 2501}), 400, "INVALID_COPY"
    )
    assert err["details"][0]["field"] == "description"
    edited = _data(
        c.put(f"/v1/clips/{c2}/copy", json={"title": "New title", "description": "d", "tags": ["a b", "c"]})
    )
    assert edited["edited_by"] == key_id and edited["tags"] == ["a b", "c"]
    store = OmnivaStore(home=str(farm["home"]))
    assert (store.copy_edit(f"2|{ALPHA}") or {}).get("title") == "New title"

    # the clips list and the clip page show the review and the copy
    items = {i["clip_id"]: i for i in _data(c.get("/v1/projects/proj_alpha/clips"))["items"]}
    assert items[c1]["review"] == "rejected" and items[c3]["review"] == "pending"
    assert items[c2]["title"] == "New title" and items[c3]["title"] == "Chorus title 3"
    page = _data(c.get(f"/v1/clips/{c2}"))
    assert page["review"] == "approved" and page["edited_by"] == key_id and page["tags"] == ["a b", "c"]
    assert page["source_duration_s"] == 300.0 and page["source_span"] == [20.0, 40.0]
    assert page["lineage_url"] == f"/v1/clips/{c2}/lineage" and page["video_url"] == f"/v1/clips/{c2}/video"
    assert page["words"] == [] and page["votes"] == []  # no transcript or votes seeded
    beta_items = _data(c.get("/v1/projects/proj_beta/clips", headers=beta))["items"]
    assert [i["review"] for i in beta_items] == ["auto"]

    # the clip page's transcript (words cut by the edit decision list struck), votes and dissent
    _seed_clip_page(farm["home"], ALPHA, 2)
    page = _data(c.get(f"/v1/clips/{c2}"))
    assert [(w["text"], w["cut"]) for w in page["words"]] == [("so", False), ("um", True), ("gravity", False)]
    assert page["features"] == {"hook": 0.9}
    assert {v["agent"]: v["vote"] for v in page["votes"]} == {"hook": "yes", "brand": "no"}
    assert page["dissent"] == ["brand: too loud"]

    # recut: the span is checked before anything runs
    _error(c.post(f"/v1/clips/{c2}/recut", json={"start": 10, "end": 12}), 400, "INVALID_SPAN")
    _error(c.post(f"/v1/clips/{c2}/recut", json={"start": 290, "end": 310}), 400, "INVALID_SPAN")

    # the API's upload: a rejected clip is refused, an unreviewed one waits
    err = _error(c.post(f"/v1/clips/{c1}/upload"), 409, "REJECTED")
    assert "rejected by" in err["message"] and "too long" in err["message"]
    _plan(farm["home"])
    waits = _data(c.post(f"/v1/clips/{c3}/upload"))
    assert waits["status"] == "DEFERRED" and waits["run_id"] is None
    assert waits["reason"] == "waiting for review (project proj_alpha requires approval)"

    # calendar
    today = datetime.now(UTC).date()
    cal = _data(c.get(f"/v1/projects/proj_alpha/calendar?from={today}&to={today + timedelta(days=6)}"))
    by_clip = {s["clip_id"]: s for s in cal["slots"]}
    assert c1 not in by_clip  # rejected: no slot
    assert by_clip[c2]["review"] == "approved" and by_clip[c2]["status"] == "scheduled"
    assert by_clip[c2]["title"] == "New title"
    assert by_clip[c3]["review"] == "pending" and by_clip[c3]["status"] == "held"
    assert cal["free_slots"] and not set(cal["free_slots"]) & {s["publish_at"] for s in cal["slots"]}

    # move to a free slot, then swap with clip 3
    free = cal["free_slots"][-1]
    moved = _data(c.post("/v1/projects/proj_alpha/calendar/move", json={"clip_id": c2, "publish_at": free}))
    assert moved["publish_at"] == free and moved["swapped_with"] is None
    [row] = _wh(farm).query(
        "SELECT strftime(final_scheduled_time AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS at "
        "FROM schedules WHERE clip_key = $1",
        [f"2|{ALPHA}"],
    )
    assert row["at"] == free
    at3 = by_clip[c3]["publish_at"]
    swap = _data(c.post("/v1/projects/proj_alpha/calendar/move", json={"clip_id": c2, "publish_at": at3}))
    assert swap["swapped_with"] == c3
    after = {s["clip_id"]: s["publish_at"] for s in _data(c.get("/v1/projects/proj_alpha/calendar"))["slots"]}
    assert after[c2] == at3 and after[c3] == free
    # the plan keeps the moved slots
    replanned = {s.clip_key: s.publish_at for s in _plan(farm["home"]).slots}
    assert replanned[f"2|{ALPHA}"] == at3 and replanned[f"3|{ALPHA}"] == free
    _error(
        c.post(
            "/v1/projects/proj_alpha/calendar/move",
            json={"clip_id": c2, "publish_at": "2031-01-01T03:17:00Z"},
        ),
        422,
        "INVALID_SLOT",
    )

    # another project's key: 404 for alpha's clips, 403 for alpha's project
    for method, path, body in (
        ("post", f"/v1/clips/{c2}/review", {"decision": "approve"}),
        ("put", f"/v1/clips/{c2}/copy", {"title": "mine now"}),
        ("post", f"/v1/clips/{c2}/recut", {"start": 10, "end": 30}),
    ):
        _error(getattr(c, method)(path, json=body, headers=beta), 404, "CLIP_NOT_FOUND")
    _error(c.get("/v1/projects/proj_alpha/calendar", headers=beta), 403, "FORBIDDEN")
    _error(
        c.post(
            "/v1/projects/proj_beta/calendar/move", json={"clip_id": c2, "publish_at": free}, headers=beta
        ),
        404,
        "CLIP_NOT_FOUND",
    )
    assert (store.copy_edit(f"2|{ALPHA}") or {}).get("title") == "New title"

    # audited
    logs = [r["message"] for r in _wh(farm).query("SELECT message FROM logs WHERE source = 'api'")]
    assert any("rejected" in m or "reject" in m for m in logs) and any("moved" in m for m in logs)
    assert any("review mode of proj_alpha set to required" in m for m in logs)


def test_an_approval_makes_the_plan_sensor_replan_so_the_held_upload_goes(farm):
    from omniva_assets.scheduler.sensors import publish_plan_sensor

    inst = farm["instance"]
    inst.report_runless_asset_event(dg.AssetMaterialization("renders", partition=f"1|{ALPHA}"))
    first = publish_plan_sensor(dg.build_sensor_context(instance=inst, cursor="0"))
    assert isinstance(first, dg.SensorResult) and len(first.run_requests or []) == 1
    idle = publish_plan_sensor(dg.build_sensor_context(instance=inst, cursor=first.cursor))
    assert isinstance(idle, dg.SkipReason)
    OmnivaStore(home=str(farm["home"])).record_review(_clip_id(ALPHA, 3), f"3|{ALPHA}", "approve", None, "k")
    after = publish_plan_sensor(dg.build_sensor_context(instance=inst, cursor=first.cursor))
    assert isinstance(after, dg.SensorResult) and len(after.run_requests or []) == 1
    assert isinstance(
        publish_plan_sensor(dg.build_sensor_context(instance=inst, cursor=after.cursor)), dg.SkipReason
    )
