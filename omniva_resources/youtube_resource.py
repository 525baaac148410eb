"""The ``youtube_api`` resource: where uploads go, as whom, and how they are published."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
import google.oauth2.credentials

from omniva.errors import ConfigError
from omniva.settings import omniva_home
from omniva_resources import youtube
from omniva_resources.youtube.auth import TokenStore

CAPTIONS = ("auto", "always", "never")


class YouTubeResource(dg.ConfigurableResource):
    """Where uploads go, as whom, and how they are published.

    ``api_root`` set (default: the loopback emulator): the real client talks to it with
    the emulator's fixed token, unless ``token_file`` names a token the emulator issued.
    ``api_root`` empty: real YouTube, with the OAuth token of the channel (``omniva
    youtube auth --channel``): ``token_file`` if set, else ``<secrets_dir>/<channel>.json``.
    The two never mix: a real channel's token is refused for any root but Google's, and
    an emulator token for Google (``ConfigError`` saying which setting to change, raised
    before anything is sent). Secrets never enter this config: it holds paths only, and
    the token file is read at run time.

    ``resources_from_env`` fills the fields from ``OMNIVA_YOUTUBE_<FIELD>`` (e.g.
    ``OMNIVA_YOUTUBE_PUBLISH_IMMEDIATELY=1``); README's Settings table lists them.
    """

    api_root: str = "http://127.0.0.1:8089/"
    token_file: str = ""
    secrets_dir: str = ""  # empty: <home>/secrets/youtube
    channel: str = ""  # token name; empty: the publish plan's channel
    chunk_size: int = 1024 * 1024
    # The Google Cloud project's quota (omniva_resources.youtube.quota): "buckets" (since 2026:
    # videos.insert 100 calls, search.list 100 calls, the shared pool 10,000 units a day) or
    # "legacy" (one 10,000-unit pool, videos.insert 1,600). Set the limits a quota extension grants.
    quota_model: str = "buckets"
    daily_quota_units: int | None = None  # the shared pool (the whole project: legacy); None: 10,000
    insert_calls_per_day: int | None = None  # the videos.insert bucket; None: 100
    search_calls_per_day: int | None = None  # the search.list bucket; None: 100
    # YouTube's own per-channel daily upload limit, if the channel knows it (YouTube does not
    # publish it): the publish plan places at most this many uploads a day per channel. 0: unknown
    # (an uploadLimitExceeded answer still pauses the channel until its next day).
    channel_daily_uploads: int = 0
    quota_project: str = ""  # empty: the OAuth client's project number; "emulator-<host>-<port>"
    publish_immediately: bool = False  # False: private, public at the planned publishAt
    made_for_kids: bool = False  # status.selfDeclaredMadeForKids
    contains_synthetic_media: bool | None = None  # status.containsSyntheticMedia; None: not declared
    playlist_id: str = ""  # add every upload to this playlist
    category_id: str = ""  # empty: the clip copy's category
    caption_language: str = "en"  # language of <render>.srt captions
    # Upload the render's SRT as a caption track: "auto" (only when the captions are not
    # burned into the picture: a CC track over burned-in text shows it twice, and costs 400
    # units, a quarter of an upload), "always" or "never".
    captions: str = "auto"

    @property
    def is_emulator(self) -> bool:
        return bool(self.api_root)

    @property
    def effective_api_root(self) -> str:
        return self.api_root or youtube.YOUTUBE_API_ROOT

    def options(self) -> dict:
        """The publishing options in effect (none of them secret)."""
        captions = (self.captions or "auto").lower()
        if captions not in CAPTIONS:
            raise ConfigError(f"YouTube captions option {captions!r} must be auto, always or never")
        return {
            "publish_immediately": self.publish_immediately,
            "made_for_kids": self.made_for_kids,
            "contains_synthetic_media": self.contains_synthetic_media,
            "playlist_id": self.playlist_id or None,
            "category_id": self.category_id,
            "caption_language": self.caption_language or "en",
            "captions": captions,
        }

    def daily_budget(self) -> int:
        return youtube.DEFAULT_DAILY_UNITS if self.daily_quota_units is None else self.daily_quota_units

    def quota_model_in_effect(self) -> youtube.QuotaModel:
        """The quota buckets and limits of the Google Cloud project (``ConfigError`` if unknown)."""
        return youtube.QuotaModel.of(
            self.quota_model,
            shared_units=self.daily_quota_units,
            insert_calls=self.insert_calls_per_day,
            search_calls=self.search_calls_per_day,
        )

    def token_store(self, home: Path | None = None) -> TokenStore:
        if self.secrets_dir:
            return TokenStore(Path(self.secrets_dir).expanduser())
        return TokenStore(Path(home) / "secrets" / "youtube" if home else None)

    def channel_name(self, default: str = "") -> str:
        return self.channel or default or "default"

    def credentials(
        self, channel: str = "", home: Path | None = None
    ) -> google.oauth2.credentials.Credentials:
        """OAuth credentials for ``channel`` (the emulator's fixed token in emulator mode)."""
        store = self.token_store(home)
        if self.token_file:
            return store.load_file(Path(self.token_file).expanduser(), self.channel_name(channel))
        if self.is_emulator:
            return youtube.emulator_credentials()
        return store.load(self.channel_name(channel))

    def quota_ledger(
        self, credentials: object = None, home: Path | None = None, channel: str = ""
    ) -> youtube.QuotaLedger:
        """The ledger of the project ``credentials`` belong to; ``channel``: whose uploads it counts."""
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
        return youtube.QuotaLedger(path, project, model=self.quota_model_in_effect(), channel=channel)

    def uploader(self, channel: str = "", home: Path | None = None) -> youtube.YouTubeUploader:
        """The client for ``channel``, charging its calls to the project's quota ledger under ``home``."""
        creds = self.credentials(channel, home)
        return youtube.YouTubeUploader(
            self.api_root or None,
            creds,
            chunk_size=self.chunk_size,
            quota=self.quota_ledger(creds, home, self.channel_name(channel)),
        )
