"""The spec's message contracts (module interfaces, section 3) as pydantic models.

ScraperJob, AnalysisResult, ClipCandidate, EditJob, UploadJob and ScheduleTask, each with the
envelope every message carries: ``schema_version`` (semver; a receiver rejects a major it does
not know), ``trace_id`` (one per source video's workflow) and ``_meta_parents`` (the ids of the
Stardust packets the message was made from). Undeclared fields are refused, as the spec's
schemas say. Builders turn Omniva's records into contracts at a stage's boundary;
``python -m omniva.contracts export schemas/`` writes the JSON Schemas (docs/contracts.md).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from omniva.errors import OmnivaError
from omniva.records import (
    Analysis,
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

#: The version every contract is written at, and the majors this code can read.
SCHEMA_VERSION = "1.0.0"
SUPPORTED_MAJORS = frozenset({1})
SEMVER = r"^\d+\.\d+\.\d+$"
UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class ContractError(OmnivaError):
    """A message that does not satisfy its contract (wrong major version, missing or invalid
    fields). Not retryable: the sender has to change what it sends."""


def _known_major(version: str) -> str:
    if int(version.split(".")[0]) not in SUPPORTED_MAJORS:
        raise PydanticCustomError(
            "schema_version_unsupported",
            "schema_version {received} has major version {major}; this Omniva reads {supported}",
            {"received": version, "major": version.split(".")[0], "supported": supported_versions()},
        )
    return version


def supported_versions() -> str:
    return ", ".join(f"{m}.x.y" for m in sorted(SUPPORTED_MAJORS))


SchemaVersion = Annotated[
    str,
    Field(pattern=SEMVER, description="Semantic version of the contract; unknown majors are refused."),
    AfterValidator(_known_major),
]
Uuid = Annotated[str, Field(pattern=UUID, json_schema_extra={"format": "uuid"})]
Unit = Annotated[float, Field(ge=0, le=1)]
Status = Literal["PENDING", "RUNNING", "DONE", "ERROR", "CANCELLED"]


class Contract(BaseModel):
    """The envelope every contract carries."""

    model_config = ConfigDict(extra="forbid", frozen=True, serialize_by_alias=True)

    schema_version: SchemaVersion = SCHEMA_VERSION
    trace_id: Uuid = Field(description="Links the emissions of one workflow (one source video).")
    meta_parents: list[Uuid] = Field(
        default_factory=list,
        validation_alias=AliasChoices("_meta_parents", "meta_parents"),
        serialization_alias="_meta_parents",
        description="Ids of the Stardust packets this message was made from.",
    )


class RequestedRange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    since: AwareDatetime
    until: AwareDatetime


class ScraperJob(Contract):
    """A scrape of one creator over a time window (Omniva: the ``posts`` partitions)."""

    job_id: Uuid = Field(description="Stable identifier for the scrape request.")
    creator_id: Uuid = Field(description="The creator whose posts are listed.")
    platform: Literal["tiktok", "instagram", "youtube", "other"]
    target_url: str = Field(min_length=1, json_schema_extra={"format": "uri"})
    requested_range: RequestedRange
    status: Status
    created_at: AwareDatetime
    updated_at: AwareDatetime


class ClipCandidate(Contract):
    """A span of a source video proposed as a clip, with Pantheon's votes; ``clip_id`` once
    Pantheon selected it."""

    video_id: Uuid | None = None
    start_time: float = Field(ge=0, description="Seconds from the video's start.")
    end_time: float = Field(gt=0, description="Seconds from the video's start; after start_time.")
    confidence: Unit = Field(description="Pantheon's consensus.")
    subject_focus: str = Field(description="High-level subject label (creator, guest, product, ...).")
    faces_detected: int = Field(ge=0, description="Face tracks found (counted when the clip is reframed).")
    semantic_tags: list[str] = Field(json_schema_extra={"uniqueItems": True})
    pantheon_votes: dict[Annotated[str, Field(pattern=r"^[a-z_]+$")], Unit]
    lattice_priority: Unit
    clip_id: Uuid | None = Field(default=None, description="Filled in when the candidate is selected.")

    @model_validator(mode="after")
    def _ends_after_start(self) -> ClipCandidate:
        if self.end_time <= self.start_time:
            raise ValueError(f"end_time {self.end_time} must be after start_time {self.start_time}")
        return self


class AnalysisResult(Contract):
    """One video's analysis: transcript, keywords, scores and its clip candidates."""

    video_id: Uuid
    transcript: str
    keywords_detected: list[str]
    virality_score: Unit
    relevance_score: Unit
    clip_candidates: list[ClipCandidate]
    generated_at: AwareDatetime | None = None


class EditJob(Contract):
    """The editing of one clip: its steps, the ffmpeg commands run, and the files made."""

    edit_job_id: Uuid | None = None
    clip_id: Uuid
    operations: list[str] = Field(description="Ordered logical editing steps.")
    ffmpeg_commands: list[str] = Field(description="Commands the render ran (empty while planned).")
    gpu_required: bool
    estimated_duration: int = Field(ge=1, description="Seconds of wall time predicted.")
    expected_outputs: list[Annotated[str, Field(json_schema_extra={"format": "uri"})]] = Field(
        default_factory=list
    )


class UploadJob(Contract):
    """One clip's upload: its copy, slot and privacy; ``yt_video_id`` once uploaded."""

    upload_job_id: Uuid | None = None
    clip_id: Uuid
    title: str = Field(max_length=120)
    description: str = Field(max_length=5000)
    keywords: list[str] = Field(max_length=15)
    scheduled_time: AwareDatetime
    privacy_status: Literal["public", "unlisted", "private"]
    yt_video_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{11}$")
    distribution_targets: list[str] = Field(default_factory=list)
    status: Literal["PENDING", "SCHEDULED", "UPLOADED", "LIVE", "DEFERRED", "ERROR"] | None = None


class ScheduleTask(Contract):
    """A clip's publish slot as the Scheduler (Horizon) recommends it."""

    schedule_id: Uuid | None = None
    clip_id: Uuid
    recommended_time: AwareDatetime
    priority: Unit
    horizon_adjustment: float = Field(ge=-1, le=1, description="Offset from Horizon's weighting.")
    final_decision_source: Literal["zenith", "operator_override", "automation"]
    notes: str | None = Field(default=None, max_length=512)


CONTRACTS: dict[str, type[Contract]] = {
    m.__name__: m for m in (ScraperJob, AnalysisResult, ClipCandidate, EditJob, UploadJob, ScheduleTask)
}

#: The contract each asset's record is emitted as at its boundary (assets not listed have none).
CONTRACT_OF_ASSET: dict[str, str] = {
    "posts": "ScraperJob",
    "videos": "ScraperJob",
    "analyses": "AnalysisResult",
    "clip_candidates": "ClipCandidate",
    "clip_selections": "AnalysisResult",
    "clips": "EditJob",
    "renders": "EditJob",
    "clip_copy": "UploadJob",
    "uploads": "UploadJob",
    "publish_plan": "ScheduleTask",
}


# ------------------------------------------------------------------------ validate and dump
def _fields_of(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(message)'}: {e['msg']}" for e in exc.errors())


def check_version(name: str, version: object) -> None:
    """Refuse a major version this code does not read, before anything else is looked at."""
    text = str(version)
    if not isinstance(version, str) or not text[:1].isdigit() or text.count(".") != 2:
        raise ContractError(
            f"{name}: schema_version {text!r} is not MAJOR.MINOR.PATCH; send e.g. {SCHEMA_VERSION}"
        )
    if int(text.split(".")[0]) not in SUPPORTED_MAJORS:
        raise ContractError(
            f"{name}: schema_version {text} is not supported (this Omniva reads {supported_versions()}); "
            f"send the message at {SCHEMA_VERSION} or upgrade the receiver"
        )


def validate(name: str, payload: Mapping[str, Any]) -> Contract:
    """The payload as contract ``name``; ContractError naming the version or the fields wrong."""
    model = CONTRACTS.get(name)
    if model is None:
        raise ContractError(f"no contract {name!r}; known: {', '.join(CONTRACTS)}")
    check_version(name, payload.get("schema_version", SCHEMA_VERSION))
    try:
        return model.model_validate(dict(payload))
    except ValidationError as exc:
        raise ContractError(
            f"{name} is invalid: {_fields_of(exc)}; fix these fields and send it again"
        ) from exc


def dump(model: BaseModel) -> dict[str, Any]:
    """The message as JSON-ready data, with ``_meta_parents`` under its wire name."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def json_schema(model: type[Contract]) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True)
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": f"{model.__name__}.schema.json", **schema}


def json_schemas() -> dict[str, dict[str, Any]]:
    return {name: json_schema(model) for name, model in CONTRACTS.items()}


def export(folder: Path) -> list[Path]:
    """Write ``<Contract>.schema.json`` for every contract into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in json_schemas().items():
        path = folder / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
        written.append(path)
    return written


# ------------------------------------------------------------------------ builders from records
def platform_of(platform: str) -> str:
    """The spec's platform for Omniva's (youtube_shorts is youtube, rss and web are other)."""
    for known in ("tiktok", "instagram", "youtube"):
        if platform.startswith(known):
            return known
    return "other"


def scraper_job(
    creator: Creator,
    day: str,
    trace_id: str,
    parents: Sequence[str] = (),
    *,
    status: str = "DONE",
    created_at: str | None = None,
    job_id: str | None = None,
) -> ScraperJob:
    """The listing of ``creator``'s posts on ``day`` (a posts partition: one UTC day)."""
    since = datetime.fromisoformat(day).replace(tzinfo=UTC)
    now = created_at or datetime.now(UTC).isoformat()
    return ScraperJob(
        trace_id=trace_id,
        meta_parents=list(parents),
        job_id=job_id or stable_id("scrape", creator.creator_id, day),
        creator_id=creator.creator_id,
        platform=platform_of(creator.platform),  # type: ignore[arg-type]
        target_url=creator.url,
        requested_range=RequestedRange(since=since, until=since + timedelta(days=1)),
        status=status,  # type: ignore[arg-type]
        created_at=now,  # type: ignore[arg-type]
        updated_at=now,  # type: ignore[arg-type]
    )


def video_scraper_job(
    video: Video, creator: Creator, day: str, trace_id: str, parents: Sequence[str] = (), **more: Any
) -> ScraperJob:
    """The scrape that fetched ``video`` (listed on ``day``), done: it targets the post's URL."""
    job = scraper_job(creator, day, trace_id, parents, job_id=stable_id("scrape", video.video_key), **more)
    return job.model_copy(update={"target_url": video.source_url})


def clip_candidate(
    candidate: Candidate,
    selection: Selection | None,
    trace_id: str,
    parents: Sequence[str] = (),
    *,
    faces_detected: int = 0,
    subject_focus: str = "creator",
) -> ClipCandidate:
    """A candidate with its votes and consensus (``selection``: Pantheon's ballots; None before
    the vote) and its clip id when it was selected."""
    ballot = (
        next((b for b in selection.ballots if b.candidate_id == candidate.candidate_id), None)
        if selection
        else None
    )
    chosen = (
        next((c for c in selection.clips if c.candidate.candidate_id == candidate.candidate_id), None)
        if selection
        else None
    )
    consensus = ballot.consensus if ballot else (chosen.consensus if chosen else 0.0)
    votes = ballot.votes if ballot else (chosen.votes if chosen else ())
    return ClipCandidate(
        trace_id=trace_id,
        meta_parents=list(parents),
        video_id=stable_id("video", candidate.video_key),
        start_time=candidate.start_time,
        end_time=candidate.end_time,
        confidence=consensus,
        subject_focus=subject_focus,
        faces_detected=faces_detected,
        semantic_tags=list(dict.fromkeys(candidate.semantic_tags)),
        pantheon_votes={v.agent: v.score for v in votes},
        lattice_priority=round(consensus * candidate.score, 4),
        clip_id=chosen.clip_id if chosen else None,
    )


def selected_clip(
    chosen: RankedClip, trace_id: str, parents: Sequence[str] = (), **more: Any
) -> ClipCandidate:
    """A clip Pantheon selected, as the ClipCandidate Zenith promoted (``clip_id`` filled)."""
    selection = Selection(chosen.candidate.video_key, (chosen,), (), 0.0, ())
    return clip_candidate(chosen.candidate, selection, trace_id, parents, **more)


def analysis_result(
    analysis: Analysis,
    transcript: str,
    selection: Selection | None,
    candidates: Sequence[Candidate],
    trace_id: str,
    parents: Sequence[str] = (),
    *,
    generated_at: str | None = None,
) -> AnalysisResult:
    """The video's analysis and its ``candidates`` (with votes once ``selection`` exists)."""
    return AnalysisResult(
        trace_id=trace_id,
        meta_parents=list(parents),
        video_id=stable_id("video", analysis.video_key),
        transcript=transcript,
        keywords_detected=list(analysis.keywords),
        virality_score=analysis.virality_score,
        relevance_score=analysis.relevance_score,
        clip_candidates=[clip_candidate(c, selection, trace_id, parents) for c in candidates],
        generated_at=generated_at,  # type: ignore[arg-type]
    )


def operation_text(op: Mapping[str, Any]) -> str:
    """One editing step in words: its name, then its settings (``trim start=1.2 end=4.5``)."""
    args = " ".join(f"{k}={v}" for k, v in op.items() if k != "op" and not isinstance(v, dict | list))
    return f"{op['op']} {args}".strip()


def edit_job(
    edl: EditDecisionList,
    operations: Sequence[Mapping[str, Any]],
    trace_id: str,
    parents: Sequence[str] = (),
    render: Render | None = None,
) -> EditJob:
    """The clip's edit: planned (no ``render``: no commands yet) or done (the render's ffmpeg
    commands, whether it used a GPU encoder, and the files it wrote as file URIs)."""
    outputs = [render.path, render.thumbnail_path, render.srt_path] if render else [edl.timeline_path]
    return EditJob(
        trace_id=trace_id,
        meta_parents=list(parents),
        edit_job_id=stable_id("edit", edl.clip_id),
        clip_id=edl.clip_id,
        operations=[operation_text(op) for op in operations],
        ffmpeg_commands=list(render.ffmpeg_commands) if render else [],
        gpu_required=bool(render and render.encoder != "libx264"),
        estimated_duration=max(1, int(edl.output_duration_s * 1.5)),
        expected_outputs=[Path(p).absolute().as_uri() for p in outputs if p],
    )


def upload_job(
    copy: ClipCopy,
    upload: Upload | None,
    slot: PlannedSlot,
    trace_id: str,
    parents: Sequence[str] = (),
    *,
    status: str | None = None,
) -> UploadJob:
    """The clip's upload: its Chorus copy and planned slot, and once ``upload`` exists the
    video id, privacy and publish time YouTube has."""
    if status is None and upload is not None:
        status = (
            "SCHEDULED"
            if upload.publish_at
            else ("LIVE" if upload.privacy_status != "private" else "UPLOADED")
        )
    return UploadJob(
        trace_id=trace_id,
        meta_parents=list(parents),
        upload_job_id=stable_id("upload", copy.clip_id),
        clip_id=copy.clip_id,
        title=copy.title,
        description=copy.description,
        keywords=list(copy.tags),
        scheduled_time=(upload and upload.publish_at) or slot.publish_at,  # type: ignore[arg-type]
        privacy_status=upload.privacy_status if upload else "private",  # type: ignore[arg-type]
        yt_video_id=upload.yt_video_id if upload else None,
        status=status or "PENDING",  # type: ignore[arg-type]
    )


def schedule_task(
    slot: PlannedSlot,
    trace_id: str,
    parents: Sequence[str] = (),
    *,
    horizon_adjustment: float = 0.0,
    final_decision_source: str = "zenith",
) -> ScheduleTask:
    """A publish slot of the plan, with Horizon's reason as its notes."""
    return ScheduleTask(
        trace_id=trace_id,
        meta_parents=list(parents),
        schedule_id=stable_id("schedule", slot.clip_id),
        clip_id=slot.clip_id,
        recommended_time=slot.publish_at,  # type: ignore[arg-type]
        priority=slot.priority,
        horizon_adjustment=horizon_adjustment,
        final_decision_source=final_decision_source,  # type: ignore[arg-type]
        notes=slot.reason[:512] or None,
    )


def main(argv: Sequence[str]) -> int:
    if len(argv) != 2 or argv[0] != "export":
        print("usage: python -m omniva.contracts export FOLDER", file=sys.stderr)
        return 2
    for path in export(Path(argv[1])):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
