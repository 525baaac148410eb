"""Typed records passed between stages (one per asset), mirroring the spec's schemas.

Identifiers are UUIDs derived (uuid5) from stable natural keys, so a rerun of the
same partition produces the same ids and never duplicates a warehouse row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

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


@dataclass(frozen=True, slots=True)
class Post:
    """One entry of a creator's listing (yt-dlp info dict, flattened)."""

    creator: str
    platform_post_id: str
    url: str
    title: str
    posted_at: str | None  # ISO 8601 UTC
    video_key: str  # the videos partition this post becomes
    raw_metadata: dict = field(default_factory=dict)

    @property
    def post_id(self) -> str:
        return stable_id("post", self.creator, self.platform_post_id)


@dataclass(frozen=True, slots=True)
class Video:
    video_key: str
    post_id: str
    creator: str
    source_url: str
    file_path: str
    sha256: str
    facts: dict  # MediaFacts.as_dict()
    downloaded_by: str  # "yt-dlp" or "media-store" (already downloaded)

    @property
    def video_id(self) -> str:
        return stable_id("video", self.video_key)

    @property
    def duration_s(self) -> float:
        return float(self.facts["duration_s"])


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

    def as_json(self) -> dict:
        return {
            "language": self.language,
            "model": self.model,
            "text": self.text,
            "words": [{"word": w.word, "start": w.start, "end": w.end} for w in self.words],
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

    @property
    def analysis_id(self) -> str:
        return stable_id("analysis", self.video_key)


@dataclass(frozen=True, slots=True)
class Candidate:
    video_key: str
    start_time: float
    end_time: float
    text: str
    features: dict
    score: float
    semantic_tags: tuple[str, ...]

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


@dataclass(frozen=True, slots=True)
class Ballot:
    """Every agent's vote on one candidate, and the weighted consensus."""

    candidate_id: str
    votes: tuple[AgentVote, ...]
    consensus: float


@dataclass(frozen=True, slots=True)
class Selection:
    video_key: str
    clips: tuple[RankedClip, ...]
    rejected: tuple[tuple[str, str], ...]  # (candidate_id, why)
    quorum: float
    agents: tuple[str, ...]
    ballots: tuple[Ballot, ...] = ()  # one per candidate, selected or not


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
    rules: dict = field(default_factory=dict)  # the autocut rules used
    filled_pauses: tuple[tuple[float, float, float], ...] = ()  # (start, end, F0 Hz) found acoustically
    timeline_path: str = ""  # OpenTimelineIO export of this EDL

    @property
    def output_duration_s(self) -> float:
        return sum(e - s for s, e in self.keep) - self.crossfade_s * max(0, len(self.keep) - 1)


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
    reframe: dict = field(default_factory=dict)  # faces seen, crop path keyframes, jitter
    srt_path: str = ""  # SRT sidecar, output timeline
    captions_burned: bool = False
    faststart: bool = False
    video_profile: str = ""
    pix_fmt: str = ""
    audio_sample_rate: int = 0
    loudness_corrections: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ClipCopy:
    clip_id: str
    title: str
    description: str
    tags: tuple[str, ...]
    category_id: str = "22"


@dataclass(frozen=True, slots=True)
class PlannedSlot:
    clip_id: str
    clip_key: str  # "<video_key>|<rank>"
    channel: str
    publish_at: str  # ISO 8601 UTC
    priority: float
    reason: str


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
