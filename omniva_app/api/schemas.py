"""Request bodies of the spec's endpoints, as strict pydantic models (unknown fields refused),
and the answers whose data are the spec's contracts (``omniva.contracts``). Every body carries
the contracts' ``schema_version``: a major this Omniva does not read is refused with 400."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from omniva.contracts import SCHEMA_VERSION, ClipCandidate, SchemaVersion, ScraperJob

Platform = Literal[
    "youtube", "youtube_shorts", "tiktok", "instagram", "instagram_reels", "rss", "web", "other"
]
EditOperation = Literal["autocut", "reframe", "captions", "audio", "thumbnail"]


def _default_platforms() -> list[Platform]:
    return ["youtube_shorts"]


def _all_operations() -> list[EditOperation]:
    return ["autocut", "reframe", "captions", "audio", "thumbnail"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    schema_version: SchemaVersion = SCHEMA_VERSION


class ProjectCreate(Strict):
    name: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=2000)
    channel: str | None = Field(
        default=None, min_length=1, max_length=80, description="target channel (token name)"
    )
    default_platforms: list[Platform] = Field(default_factory=_default_platforms, max_length=8)
    scrape_window_days: int = Field(default=7, ge=1, le=90)
    daily_quota: int = Field(default=5, ge=1, le=50)
    keywords: list[str] = Field(default_factory=list, max_length=50)


class ProjectAction(Strict):
    reason: str = Field(default="api", min_length=1, max_length=200)


class CreatorCreate(Strict):
    platform: Platform
    handle: str = Field(min_length=1, max_length=80)
    profile_url: str | None = Field(default=None, max_length=2000)
    scrape_window_days: int | None = Field(default=None, ge=1, le=90)


class ScrapeRequest(Strict):
    creator_ids: list[str] | None = Field(default=None, max_length=200)
    since: datetime | date | None = None
    until: datetime | date | None = None
    force: bool = False


class EditRequest(Strict):
    operations: list[EditOperation] = Field(default_factory=_all_operations, min_length=1)
    priority: Literal["low", "normal", "high"] = "normal"
    gpu_required: bool = False


class UploadRequest(Strict):
    """Overrides of the clip's copy and slot (the spec's UploadJob fields; the title limit is
    YouTube's 100, stricter than the schema's 120). The pipeline takes its copy from Chorus
    (``clip_copy``) and its slot from the publish plan, so overrides are validated
    against YouTube's limits and then refused with 422 (see docs/api.md)."""

    title: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=5000)
    keywords: list[str] | None = Field(default=None, max_length=15)  # the spec's UploadJob: at most 15
    scheduled_time: datetime | None = None
    privacy_status: Literal["private", "unlisted", "public"] | None = None

    @field_validator("title")
    @classmethod
    def _no_angle_brackets(cls, v: str | None) -> str | None:
        if v is not None and ("<" in v or ">" in v):
            raise ValueError("YouTube titles may not contain '<' or '>'")
        return v


class ScheduleRequest(Strict):
    reason: str = Field(default="api", min_length=1, max_length=200)
    target_day: date | None = None


# ---------------------------------------------------------------- the response wrapper (OpenAPI)
class Meta(BaseModel):
    request_id: str
    generated_at: str


class ErrorBody(BaseModel):
    message: str
    code: str = Field(description="stable code, e.g. CLIP_NOT_FOUND (docs/api.md lists them)")
    details: list[dict] | None = Field(default=None, description="one entry per invalid field")


class Envelope(BaseModel):
    """Every success: the endpoint's payload in ``data``."""

    status: Literal["success"]
    data: Any
    error: None
    meta: Meta


class ErrorEnvelope(BaseModel):
    status: Literal["error"]
    data: None
    error: ErrorBody
    meta: Meta


# ------------------------------------------------------------ answers that carry the contracts
class Pagination(BaseModel):
    limit: int
    offset: int
    total: int


class ScrapeAnswer(BaseModel):
    job_id: str
    status: str
    queued_creators: int
    since: str
    until: str
    run_ids: list[str]
    runs: list[dict]
    decisions: list[dict]
    scraper_jobs: list[ScraperJob] = Field(description="one ScraperJob per creator scraped")


class ScrapeEnvelope(Envelope):
    data: ScrapeAnswer


class ClipItem(BaseModel):
    clip_id: str
    video_id: str
    video_key: str
    rank: int
    creator: str
    status: str
    confidence: float | None
    start_time: float
    end_time: float
    semantic_tags: list[str]
    pantheon_votes: dict[str, float]
    lattice_priority: float | None
    clip_candidate: ClipCandidate = Field(description="the clip as the spec's ClipCandidate")


class ClipsPage(BaseModel):
    items: list[ClipItem]
    pagination: Pagination


class ClipsEnvelope(Envelope):
    data: ClipsPage


# ------------------------------------------------------------ the dashboard (#28)
class SessionCreate(BaseModel):
    """``POST /v1/session``: sign in with an API key (``omv_...``)."""

    model_config = ConfigDict(extra="forbid")

    api_key: str = Field(min_length=1, max_length=200)


class SessionInfo(BaseModel):
    csrf_token: str = Field(description="send it as X-CSRF-Token with every POST/PUT/PATCH/DELETE")
    key_id: str
    project_id: str = Field(description='the key\'s project, or "*" for an admin key')
    admin: bool


class SessionEnvelope(Envelope):
    data: SessionInfo


class FunnelStage(BaseModel):
    name: Literal[
        "posts", "videos", "candidates", "selected", "rendered", "approved", "uploaded", "published"
    ]
    count: int


class Funnel(BaseModel):
    project_id: str
    review_mode: str
    stages: list[FunnelStage]


class FunnelEnvelope(Envelope):
    data: Funnel


class LogEntry(BaseModel):
    log_id: str
    created_at: str
    source: str
    level: str
    message: str
    partition: str | None
    clip_id: str | None
    run_id: str | None
    worker: str | None
    dagster_ui: str | None
    stardust_id: str | None
    metadata: dict[str, Any]


class LogEntriesPage(BaseModel):
    items: list[LogEntry]
    pagination: Pagination


class LogEntriesEnvelope(Envelope):
    data: LogEntriesPage


class QuarantineRelease(Strict):
    partition: str = Field(min_length=1, max_length=300)
