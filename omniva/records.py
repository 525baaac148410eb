"""Typed records passed between stages (one per asset), mirroring the spec's schemas.

Identifiers are UUIDs derived (uuid5) from stable natural keys, so a rerun of the
same partition produces the same ids and never duplicates a warehouse row.

Each record also knows its warehouse row (``row`` and friends: a plain dict whose keys
are the columns of its table in ``sql/schema.sql``); an asset returns them with
``omniva_assets.common.recorded`` and the record IO manager writes them. Time stamps are passed in, so a row is a pure function of its arguments.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from omniva.delivery import ProsodyTrack
from omniva.picture import PictureTrack

NAMESPACE = uuid.UUID("5f0b6c1e-7a53-4c55-9d0e-0a1c1d5e0a11")


def stable_id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join(str(p) for p in parts)))


@dataclass(frozen=True, slots=True)
class Creator:
    name: str
    url: str
    platform: str = "other"

    @property
    def creator_id(self) -> str:
        return stable_id("creator", self.platform, self.name.lower())

    def row(self, added_at: str, updated_at: str) -> dict[str, Any]:
        """``creators``"""
        return {
            "creator_id": self.creator_id,
            "platform": self.platform,
            "username": self.name,
            "profile_url": self.url,
            "created_at": added_at,
            "updated_at": updated_at,
        }


@dataclass(frozen=True, slots=True)
class Post:
    """One entry of a creator's listing (yt-dlp info dict, flattened)."""

    creator: str
    platform_post_id: str
    url: str
    title: str
    posted_at: str | None  # ISO 8601 UTC
    video_key: str  # the videos partition this post becomes
    raw_metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def post_id(self) -> str:
        return stable_id("post", self.creator, self.platform_post_id)

    def row(self, creator_id: str, listed_on: str) -> dict[str, Any]:
        """``posts``: listed on ``listed_on`` (the posts partition's day)."""
        return {
            "post_id": self.post_id,
            "creator_id": creator_id,
            "creator": self.creator,
            "platform_post_id": self.platform_post_id,
            "url": self.url,
            "title": self.title,
            "posted_at": self.posted_at,
            "listed_on": listed_on,
            "video_key": self.video_key,
            "raw_metadata": self.raw_metadata,
        }


@dataclass(frozen=True, slots=True)
class Video:
    video_key: str
    post_id: str
    creator: str
    source_url: str
    file_path: str
    sha256: str
    facts: dict[str, Any]  # MediaFacts.as_dict()
    downloaded_by: str  # "yt-dlp" or "media-store" (already downloaded)

    @property
    def video_id(self) -> str:
        return stable_id("video", self.video_key)

    @property
    def duration_s(self) -> float:
        return float(self.facts["duration_s"])

    @property
    def resolution(self) -> str | None:
        w, h = self.facts.get("width"), self.facts.get("height")
        return f"{w}x{h}" if w and h else None

    def row(self, created_at: str) -> dict[str, Any]:
        """``videos``"""
        return {
            "video_id": self.video_id,
            "post_id": self.post_id,
            "video_key": self.video_key,
            "creator": self.creator,
            "source_url": self.source_url,
            "file_path": self.file_path,
            "duration_seconds": self.duration_s,
            "resolution": self.resolution,
            "checksum": self.sha256,
            "ffprobe": self.facts,
            "created_at": created_at,
        }


@dataclass(frozen=True, slots=True)
class Word:
    word: str
    start: float
    end: float
    probability: float | None = None


@dataclass(frozen=True, slots=True)
class Transcript:
    language: str
    model: str
    text: str
    words: tuple[Word, ...]
    duration_s: float
    word_timing: str  # which path produced the word times
    backend: str
    language_probability: float | None = None  # the detector's confidence; None when pinned

    def as_json(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "model": self.model,
            "text": self.text,
            "words": [{"word": w.word, "start": w.start, "end": w.end} for w in self.words],
        }

    def row(self, video_key: str, created_at: str) -> dict[str, Any]:
        """``transcripts``: the transcript of the video ``video_key``."""
        return {
            "video_id": stable_id("video", video_key),
            "video_key": video_key,
            "language": self.language,
            "language_probability": self.language_probability,
            "model": self.model,
            "word_timing": self.word_timing,
            "text": self.text,
            "word_count": len(self.words),
            "words": self.as_json()["words"],
            "created_at": created_at,
        }


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    start: float
    end: float
    first_word: int
    last_word: int  # inclusive


@dataclass(frozen=True, slots=True)
class Analysis:
    video_key: str
    sentences: tuple[Sentence, ...]
    keywords: tuple[str, ...]
    entities: tuple[tuple[str, str], ...]  # (text, label)
    silences: tuple[tuple[float, float], ...]
    speech_ratio: float
    virality_score: float
    relevance_score: float
    nlp_pipeline: str
    language: str = "en"
    text_model: str = ""  # the sentence embedding model (label with version and checksum)
    sentence_vectors: bytes = field(default=b"", repr=False)  # one row per sentence (omniva.vectors)
    vector_dim: int = 0
    segments: tuple[tuple[int, int], ...] = ()  # topic segments: (first, last) sentence, inclusive
    prosody: ProsodyTrack | None = field(default=None, repr=False)
    scores_basis: str = ""  # what the video's scores were computed from
    picture: PictureTrack | None = field(default=None, repr=False)  # shots, faces, motion (#30)
    picture_note: str = ""  # why the picture was not measured, when it was not

    @property
    def analysis_id(self) -> str:
        return stable_id("analysis", self.video_key)

    def row(self, transcript_text: str, created_at: str) -> dict[str, Any]:
        """``analysis``"""
        return {
            "analysis_id": self.analysis_id,
            "video_id": stable_id("video", self.video_key),
            "video_key": self.video_key,
            "transcript": transcript_text,
            "keywords": list(self.keywords),
            "virality_score": self.virality_score,
            "relevance_score": self.relevance_score,
            "created_at": created_at,
            "raw_ai_output": {
                "sentences": [asdict(s) for s in self.sentences],
                "entities": self.entities,
                "silences": self.silences,
                "speech_ratio": self.speech_ratio,
                "nlp_pipeline": self.nlp_pipeline,
                "language": self.language,
                "text_model": self.text_model,
                "topic_segments": [list(s) for s in self.segments],
                "scores": self.scores_basis,
                "picture": self.picture.record()
                if self.picture
                else {"measured": False, "why": self.picture_note},
            },
        }


@dataclass(frozen=True, slots=True)
class Candidate:
    video_key: str
    start_time: float
    end_time: float
    text: str
    features: dict[str, Any]
    score: float
    semantic_tags: tuple[str, ...]
    vector: bytes = field(default=b"", repr=False)  # the window's embedding (omniva.vectors)

    @property
    def candidate_id(self) -> str:
        return stable_id("candidate", self.video_key, f"{self.start_time:.3f}", f"{self.end_time:.3f}")

    @property
    def duration_s(self) -> float:
        return self.end_time - self.start_time


@dataclass(frozen=True, slots=True)
class AgentVote:
    agent: str
    score: float  # 0..1
    vote: str  # "yes" | "no" | "veto"
    confidence: float
    reason: str


@dataclass(frozen=True, slots=True)
class RankedClip:
    rank: int
    candidate: Candidate
    votes: tuple[AgentVote, ...]
    consensus: float
    dissent: tuple[str, ...]

    @property
    def clip_id(self) -> str:
        return stable_id("clip", self.candidate.video_key, self.rank)

    def row(self, clip_key: str) -> dict[str, Any]:
        """``clips``: ``clip_key`` is the clip's partition key (its Stardust packet's key)."""
        cand = self.candidate
        return {
            "clip_id": self.clip_id,
            "video_id": stable_id("video", cand.video_key),
            "video_key": cand.video_key,
            "rank": self.rank,
            "candidate_id": cand.candidate_id,
            "start_time": cand.start_time,
            "end_time": cand.end_time,
            "confidence": self.consensus,
            "semantic_tags": list(cand.semantic_tags),
            "pantheon_votes": {v.agent: v.score for v in self.votes},
            "lattice_priority": round(self.consensus * cand.score, 4),
            "metadata": {
                "dissent": self.dissent,
                "text": cand.text,
                "stardust_id": stable_id("stardust", "clips", clip_key),
            },
        }


@dataclass(frozen=True, slots=True)
class Ballot:
    """Every agent's vote on one candidate, and the weighted consensus."""

    candidate_id: str
    votes: tuple[AgentVote, ...]
    consensus: float

    @property
    def dissent(self) -> tuple[str, ...]:
        """ "agent: reason" for every agent that did not vote yes."""
        return tuple(f"{v.agent}: {v.reason}" for v in self.votes if v.vote != "yes")


@dataclass(frozen=True, slots=True)
class Selection:
    video_key: str
    clips: tuple[RankedClip, ...]
    rejected: tuple[tuple[str, str], ...]  # (candidate_id, why)
    quorum: float
    agents: tuple[str, ...]
    ballots: tuple[Ballot, ...] = ()  # one per candidate, selected or not

    def candidate_rows(self, candidates: Sequence[Candidate]) -> list[dict[str, Any]]:
        """``clip_candidates``: every candidate with its consensus, rank or why it lost."""
        ranks = {c.candidate.candidate_id: c.rank for c in self.clips}
        rejected = dict(self.rejected)
        consensus = {b.candidate_id: b.consensus for b in self.ballots}
        dissent = {b.candidate_id: b.dissent for b in self.ballots}
        return [
            {
                "candidate_id": c.candidate_id,
                "video_id": stable_id("video", self.video_key),
                "video_key": self.video_key,
                "start_time": c.start_time,
                "end_time": c.end_time,
                "score": c.score,
                "consensus": consensus[c.candidate_id],
                "selected_rank": ranks.get(c.candidate_id),
                "rejected_because": rejected.get(c.candidate_id),
                "semantic_tags": list(c.semantic_tags),
                "features": c.features,
                "text": c.text,
                "dissent": list(dissent[c.candidate_id]),
            }
            for c in candidates
        ]

    def vote_rows(self, candidates: Sequence[Candidate]) -> list[dict[str, Any]]:
        """``pantheon_votes``: every agent's vote on every candidate."""
        ballots = {b.candidate_id: b for b in self.ballots}
        return [
            {"candidate_id": c.candidate_id, "video_key": self.video_key, **asdict(v)}
            for c in candidates
            for v in ballots[c.candidate_id].votes
        ]


@dataclass(frozen=True, slots=True)
class EditDecisionList:
    """Kept and removed spans of the source, in source seconds."""

    clip_id: str
    video_key: str
    rank: int
    source_path: str
    keep: tuple[tuple[float, float], ...]
    removed: tuple[tuple[float, float, str], ...]  # (start, end, reason)
    words: tuple[Word, ...]  # words inside the clip, source times
    crossfade_s: float = 0.0  # audio crossfade at each cut (the picture drops as much)
    frame_rate: float = 30.0  # the source frame grid the cuts are snapped to
    rules: dict[str, Any] = field(default_factory=dict)  # the autocut rules used
    filled_pauses: tuple[tuple[float, float, float], ...] = ()  # (start, end, F0 Hz) found acoustically
    timeline_path: str = ""  # OpenTimelineIO export of this EDL

    @property
    def output_duration_s(self) -> float:
        return sum(e - s for s, e in self.keep) - self.crossfade_s * max(0, len(self.keep) - 1)

    def operations(
        self, loudnorm: dict[str, Any], layout: str | None = None, extra: Sequence[dict[str, Any]] = ()
    ) -> list[dict[str, Any]]:
        """The spec's ``edit_jobs.operations``: trims, cuts with reasons, crossfade, reframe,
        loudness (``loudnorm``: its target), then ``extra`` (captions)."""
        ops: list[dict[str, Any]] = [{"op": "trim", "start": s, "end": e} for s, e in self.keep]
        ops += [{"op": "cut", "start": s, "end": e, "reason": why} for s, e, why in self.removed]
        if self.crossfade_s:
            ops.append({"op": "crossfade", "seconds": self.crossfade_s, "curve": "equal-power"})
        ops.append({"op": "reframe", "layout": layout or "planned at render (faces)"})
        ops.append({"op": "loudnorm", **loudnorm, "passes": 2})
        return ops + list(extra)

    def edit_job_row(
        self,
        operations: list[dict[str, Any]],
        created_at: str,
        *,
        status: str = "PENDING",
        ffmpeg_commands: Sequence[str] = (),
        gpu_required: bool = False,
    ) -> dict[str, Any]:
        """``edit_jobs``: PENDING when planned, DONE with the ffmpeg commands once rendered."""
        return {
            "edit_job_id": stable_id("edit", self.clip_id),
            "clip_id": self.clip_id,
            "operations": operations,
            "ffmpeg_commands": list(ffmpeg_commands),
            "gpu_required": gpu_required,
            "estimated_duration_seconds": max(1, int(self.output_duration_s * 1.5)),
            "status": status,
            "created_at": created_at,
            "timeline_path": self.timeline_path or None,
            "output_duration_seconds": round(self.output_duration_s, 3),
            "crossfade_seconds": self.crossfade_s,
        }


@dataclass(frozen=True, slots=True)
class Render:
    clip_id: str
    path: str
    sha256: str
    size_bytes: int
    duration_s: float
    width: int
    height: int
    video_codec: str
    audio_codec: str
    integrated_lufs: float
    true_peak_dbtp: float
    encoder: str
    thumbnail_path: str
    ffmpeg_commands: tuple[str, ...]
    layout: str = "fit-on-blurred"  # crop | split | fit-on-blurred | waveform
    reframe: dict[str, Any] = field(default_factory=dict)  # faces seen, crop path keyframes, jitter
    srt_path: str = ""  # SRT sidecar, output timeline
    captions_burned: bool = False
    faststart: bool = False
    video_profile: str = ""
    pix_fmt: str = ""
    audio_sample_rate: int = 0
    loudness_corrections: tuple[str, ...] = ()

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}"

    def row(self, created_at: str) -> dict[str, Any]:
        """``renders``"""
        return {
            "clip_id": self.clip_id,
            "file_path": self.path,
            "checksum": self.sha256,
            "size_bytes": self.size_bytes,
            "duration_seconds": self.duration_s,
            "resolution": self.resolution if self.width and self.height else None,
            "video_codec": self.video_codec,
            "audio_codec": self.audio_codec,
            "integrated_lufs": self.integrated_lufs,
            "true_peak_dbtp": self.true_peak_dbtp,
            "encoder": self.encoder,
            "thumbnail_path": self.thumbnail_path,
            "created_at": created_at,
            "layout": self.layout,
            "reframe": self.reframe,
            "srt_path": self.srt_path or None,
            "captions_burned": self.captions_burned,
            "faststart": self.faststart,
            "video_profile": self.video_profile,
            "pix_fmt": self.pix_fmt,
            "audio_sample_rate": self.audio_sample_rate,
            "loudness_corrections": list(self.loudness_corrections),
        }


@dataclass(frozen=True, slots=True)
class ClipCopy:
    clip_id: str
    title: str
    description: str
    tags: tuple[str, ...]
    category_id: str = "22"
    language: str = ""  # ISO 639-1 of the clip's speech (and so of its copy); "" unknown

    def row(self) -> dict[str, Any]:
        """``clip_copy``"""
        return {
            "clip_id": self.clip_id,
            "title": self.title,
            "description": self.description,
            "keywords": list(self.tags),
            "category_id": self.category_id,
            "language": self.language or None,
        }

    def upload_job_row(self, created_at: str, **fields: object) -> dict[str, Any]:
        """The clip's one ``upload_jobs`` row (rewritten on every outcome: uploaded or deferred);
        ``fields``: status, scheduled_time, privacy_status, yt_video_id, api_root."""
        return {
            "upload_job_id": stable_id("upload", self.clip_id),
            "clip_id": self.clip_id,
            "title": self.title,
            "description": self.description,
            "keywords": list(self.tags),
            "created_at": created_at,
            **fields,
        }


@dataclass(frozen=True, slots=True)
class PlannedSlot:
    clip_id: str
    clip_key: str  # "<video_key>|<rank>"
    channel: str
    publish_at: str  # ISO 8601 UTC
    priority: float
    reason: str

    def row(self) -> dict[str, Any]:
        """``schedules``"""
        return {
            "schedule_id": stable_id("schedule", self.clip_id),
            "clip_id": self.clip_id,
            "clip_key": self.clip_key,
            "channel": self.channel,
            "recommended_time": self.publish_at,
            "final_scheduled_time": self.publish_at,
            "horizon_adjustments": {"priority": self.priority, "reason": self.reason},
            "status": "SCHEDULED",
        }


@dataclass(frozen=True, slots=True)
class PublishPlan:
    slots: tuple[PlannedSlot, ...]
    daily_quota: int
    slot_times_utc: tuple[str, ...]
    deferred: tuple[tuple[str, str], ...] = ()  # (clip_key, why)

    def slot_for(self, clip_key: str) -> PlannedSlot | None:
        return next((s for s in self.slots if s.clip_key == clip_key), None)


@dataclass(frozen=True, slots=True)
class Upload:
    clip_id: str
    yt_video_id: str
    privacy_status: str
    publish_at: str | None
    title: str
    api_root: str
    reused: bool  # an earlier run had already uploaded this clip
