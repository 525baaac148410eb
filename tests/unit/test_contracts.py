"""The spec's contracts: versions, required fields, the wire name of ``_meta_parents``, the
builders from Omniva's records, and the committed JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omniva import contracts
from omniva.contracts import ContractError
from omniva.records import (
    AgentVote,
    Analysis,
    Ballot,
    Candidate,
    ClipCopy,
    Creator,
    EditDecisionList,
    PlannedSlot,
    RankedClip,
    Render,
    Selection,
    Upload,
    Video,
    stable_id,
)

ROOT = Path(__file__).resolve().parents[2]
TRACE = stable_id("trace", "talk-1")
PARENT = stable_id("stardust", "videos", "talk-1")


def schedule_payload(**more: object) -> dict:
    return {
        "trace_id": TRACE,
        "_meta_parents": [PARENT],
        "clip_id": stable_id("clip", "talk-1", 1),
        "recommended_time": "2024-05-12T18:00:00Z",
        "priority": 0.6,
        "horizon_adjustment": -0.1,
        "final_decision_source": "zenith",
        **more,
    }


def test_committed_schemas_are_the_ones_the_models_generate():
    committed = {
        p.name.removesuffix(".schema.json"): json.loads(p.read_text())
        for p in (ROOT / "schemas").glob("*.json")
    }
    assert committed == contracts.json_schemas(), "run: python -m omniva.contracts export schemas/"


def test_every_schema_carries_the_envelope_and_refuses_undeclared_fields():
    for name, schema in contracts.json_schemas().items():
        assert {"schema_version", "trace_id", "_meta_parents"} <= set(schema["properties"]), name
        assert schema["properties"]["schema_version"]["default"] == "1.0.0"
        assert "trace_id" in schema["required"]
        assert schema["additionalProperties"] is False


def test_a_valid_payload_passes_and_keeps_its_values():
    task = contracts.validate("ScheduleTask", schedule_payload())
    assert isinstance(task, contracts.ScheduleTask)
    assert task.schema_version == "1.0.0" and task.priority == 0.6


def test_an_unknown_major_version_is_refused_naming_it():
    with pytest.raises(
        ContractError, match=r"ScheduleTask: schema_version 2\.0\.0 is not supported.*1\.x\.y"
    ):
        contracts.validate("ScheduleTask", schedule_payload(schema_version="2.0.0"))


def test_the_major_version_is_checked_before_the_fields():
    # a 2.x message may have other fields; the answer is about its version, not about them
    with pytest.raises(ContractError, match="2.1.0 is not supported"):
        contracts.validate("UploadJob", {"schema_version": "2.1.0", "renamed": 1})


def test_the_model_itself_refuses_an_unknown_major():
    with pytest.raises(ValueError, match="schema_version 3.0.0 has major version 3"):
        contracts.ScheduleTask.model_validate(schedule_payload(schema_version="3.0.0"))


def test_a_minor_bump_is_accepted():
    assert (
        contracts.validate("ScheduleTask", schedule_payload(schema_version="1.3.0")).schema_version == "1.3.0"
    )


def test_a_version_that_is_not_semver_is_refused():
    with pytest.raises(ContractError, match="not MAJOR.MINOR.PATCH"):
        contracts.validate("ScheduleTask", schedule_payload(schema_version="v1"))


def test_a_missing_trace_id_is_refused_naming_the_field():
    payload = schedule_payload()
    del payload["trace_id"]
    with pytest.raises(ContractError, match="ScheduleTask is invalid: trace_id: Field required"):
        contracts.validate("ScheduleTask", payload)


def test_undeclared_fields_and_bad_values_are_listed():
    with pytest.raises(ContractError) as caught:
        contracts.validate("ScheduleTask", schedule_payload(priority=1.5, colour="red"))
    assert "priority" in str(caught.value) and "colour" in str(caught.value)


def test_an_unknown_contract_is_named():
    with pytest.raises(ContractError, match="no contract 'Clip'"):
        contracts.validate("Clip", {})


def test_meta_parents_round_trip_under_their_wire_name():
    task = contracts.validate("ScheduleTask", schedule_payload())
    assert task.meta_parents == [PARENT]
    wire = contracts.dump(task)
    assert wire["_meta_parents"] == [PARENT] and "meta_parents" not in wire
    assert contracts.validate("ScheduleTask", json.loads(json.dumps(wire))) == task


def test_parents_must_be_packet_ids():
    with pytest.raises(ContractError, match="_meta_parents.0"):
        contracts.validate("ScheduleTask", schedule_payload(_meta_parents=["videos|talk-1"]))


def test_a_clip_must_end_after_it_starts():
    with pytest.raises(ValueError, match="end_time 3.0 must be after start_time 5.0"):
        contracts.ClipCandidate(
            trace_id=TRACE,
            start_time=5.0,
            end_time=3.0,
            confidence=0.5,
            subject_focus="creator",
            faces_detected=0,
            semantic_tags=[],
            pantheon_votes={},
            lattice_priority=0.1,
        )


# ------------------------------------------------------------------ builders from the records
CANDIDATE = Candidate("talk-1", 12.0, 41.5, "the one habit", {"hook": 0.8}, 0.7, ("habit", "habit", "advice"))
OTHER = Candidate("talk-1", 60.0, 85.0, "and then", {}, 0.3, ("story",))
VOTES = (AgentVote("editor", 0.9, "yes", 0.8, "tight"), AgentVote("strategist", 0.6, "yes", 0.7, "on topic"))
CHOSEN = RankedClip(1, CANDIDATE, VOTES, 0.8, ())
SELECTION = Selection(
    "talk-1",
    (CHOSEN,),
    ((OTHER.candidate_id, "below quorum"),),
    0.5,
    ("editor", "strategist"),
    (Ballot(CANDIDATE.candidate_id, VOTES, 0.8), Ballot(OTHER.candidate_id, (), 0.2)),
)
EDL = EditDecisionList(
    CHOSEN.clip_id,
    "talk-1",
    1,
    "/media/talk-1.mp4",
    ((12.0, 20.0), (21.0, 41.5)),
    ((20.0, 21.0, "silence"),),
    (),
)


def roundtrip(model: contracts.Contract) -> None:
    name = type(model).__name__
    assert contracts.validate(name, json.loads(json.dumps(contracts.dump(model)))) == model


def test_scraper_job_covers_the_posts_day_of_the_creator():
    creator = Creator("talk", "https://www.youtube.com/@talk", "youtube_shorts")
    job = contracts.scraper_job(creator, "2024-05-01", TRACE, [PARENT], created_at="2024-05-02T00:00:00Z")
    roundtrip(job)
    wire = contracts.dump(job)
    assert wire["platform"] == "youtube" and wire["creator_id"] == creator.creator_id
    assert wire["requested_range"] == {"since": "2024-05-01T00:00:00Z", "until": "2024-05-02T00:00:00Z"}
    video = Video(
        "talk-1", "p", "talk", "https://youtu.be/x", "/m/talk-1.mp4", "ab", {"duration_s": 90}, "yt-dlp"
    )
    fetched = contracts.video_scraper_job(video, creator, "2024-05-01", TRACE)
    roundtrip(fetched)
    assert fetched.target_url == "https://youtu.be/x" and fetched.job_id != job.job_id


def test_clip_candidates_carry_votes_and_the_clip_id_only_when_selected():
    picked = contracts.clip_candidate(CANDIDATE, SELECTION, TRACE, [PARENT])
    lost = contracts.clip_candidate(OTHER, SELECTION, TRACE, [PARENT])
    for c in (picked, lost):
        roundtrip(c)
    assert picked.clip_id == CHOSEN.clip_id and picked.pantheon_votes == {"editor": 0.9, "strategist": 0.6}
    assert picked.semantic_tags == ["habit", "advice"] and picked.lattice_priority == round(0.8 * 0.7, 4)
    assert lost.clip_id is None and lost.confidence == 0.2
    before_vote = contracts.clip_candidate(CANDIDATE, None, TRACE)
    assert before_vote.confidence == 0.0 and before_vote.pantheon_votes == {}
    assert contracts.selected_clip(CHOSEN, TRACE).clip_id == CHOSEN.clip_id


def test_analysis_result_lists_every_candidate():
    analysis = Analysis("talk-1", (), ("habit", "sleep"), (), (), 0.8, 0.42, 0.77, "spacy")
    result = contracts.analysis_result(
        analysis, "the one habit ...", SELECTION, [CANDIDATE, OTHER], TRACE, [PARENT]
    )
    roundtrip(result)
    assert result.keywords_detected == ["habit", "sleep"] and len(result.clip_candidates) == 2
    assert result.video_id == stable_id("video", "talk-1")


def test_edit_job_planned_then_rendered():
    ops = EDL.operations({"I": -14.0, "TP": -1.5})
    planned = contracts.edit_job(EDL, ops, TRACE, [PARENT])
    roundtrip(planned)
    assert planned.ffmpeg_commands == [] and planned.operations[0] == "trim start=12.0 end=20.0"
    render = Render(
        EDL.clip_id, "/media/r.mp4", "cd", 1, 28.5, 1080, 1920, "h264", "aac", -14.0, -1.6, "h264_nvenc",
        "/media/r.jpg", ("ffmpeg -i a b",),
    )  # fmt: skip
    done = contracts.edit_job(EDL, ops, TRACE, [PARENT], render)
    roundtrip(done)
    assert done.gpu_required and done.ffmpeg_commands == ["ffmpeg -i a b"]
    assert done.expected_outputs == ["file:///media/r.mp4", "file:///media/r.jpg"]


def test_upload_job_before_and_after_the_upload():
    copy = ClipCopy(CHOSEN.clip_id, "One habit", "Why it works", ("habit", "sleep"))
    slot = PlannedSlot(CHOSEN.clip_id, "talk-1|1", "main", "2024-05-10T16:00:00Z", 0.56, "earliest free slot")
    waiting = contracts.upload_job(copy, None, slot, TRACE, [PARENT], status="DEFERRED")
    roundtrip(waiting)
    assert waiting.status == "DEFERRED" and waiting.privacy_status == "private"
    upload = Upload(
        CHOSEN.clip_id, "dQw4w9WgXcQ", "private", "2024-05-10T16:00:00Z", "One habit", "http://e", False
    )
    sent = contracts.upload_job(copy, upload, slot, TRACE, [PARENT])
    roundtrip(sent)
    assert sent.status == "SCHEDULED" and sent.yt_video_id == "dQw4w9WgXcQ"


def test_schedule_task_from_a_planned_slot():
    slot = PlannedSlot(CHOSEN.clip_id, "talk-1|1", "main", "2024-05-10T16:00:00Z", 0.56, "earliest free slot")
    task = contracts.schedule_task(slot, TRACE, [PARENT])
    roundtrip(task)
    assert task.notes == "earliest free slot" and task.final_decision_source == "zenith"


def test_every_mapped_asset_names_a_contract():
    assert set(contracts.CONTRACT_OF_ASSET.values()) <= set(contracts.CONTRACTS)
