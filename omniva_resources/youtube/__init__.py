"""The one place in Omniva that talks to YouTube (Data API v3).

- ``errors``: the typed errors and how a failure is sorted (retry, quota, credentials).
- ``metadata``: the upload request, YouTube's limits, the snippet/status body.
- ``quota``: the quota buckets and their costs (one table), and the per-project,
  per-Pacific-day ``QuotaLedger``.
- ``client``: the google-api-python-client service (re-rooted for the emulator), the
  credentials and where they may go (``check_destination``), the one retry loop, and
  reads (videos, channel, marker look-up).
- ``upload``: the resumable, chunked upload and the extras (thumbnail, captions, playlist).
- ``publish``: ``publish_once``, exactly once across crashes (the clip's ledger).
- ``auth``: connecting channels (the OAuth installed-app flow) and the token store.

The names below are what the rest of Omniva uses: ``from omniva_resources import youtube``.
"""

from omniva_resources.youtube.client import (
    MINIMAL_SCOPES,
    YOUTUBE_API_ROOT,
    YOUTUBE_SCOPES,
    YouTubeClient,
    check_destination,
    discovery_document,
    emulator_credentials,
    load_user_credentials,
)
from omniva_resources.youtube.errors import (
    AuthenticationError,
    MetadataError,
    MissingCredentialsError,
    QuotaExceededError,
    UploadSessionGone,
    YouTubeError,
    next_quota_reset,
)
from omniva_resources.youtube.metadata import (
    UploadRequest,
    check_request,
    check_video_id,
    clip_marker,
    metadata_violations,
)
from omniva_resources.youtube.publish import PublishOutcome, UploadLedger, publish_once
from omniva_resources.youtube.quota import (
    DEFAULT_DAILY_UNITS,
    QUOTA_CHECKED,
    QUOTA_COSTS,
    QUOTA_SOURCE,
    QUOTA_TABLE,
    QuotaLedger,
    QuotaModel,
    publication_cost,
    publication_units,
)
from omniva_resources.youtube.upload import UploadResult, YouTubeUploader

__all__ = [
    "DEFAULT_DAILY_UNITS",
    "MINIMAL_SCOPES",
    "QUOTA_CHECKED",
    "QUOTA_COSTS",
    "QUOTA_SOURCE",
    "QUOTA_TABLE",
    "YOUTUBE_API_ROOT",
    "YOUTUBE_SCOPES",
    "AuthenticationError",
    "MetadataError",
    "MissingCredentialsError",
    "PublishOutcome",
    "QuotaExceededError",
    "QuotaLedger",
    "QuotaModel",
    "UploadLedger",
    "UploadRequest",
    "UploadResult",
    "UploadSessionGone",
    "YouTubeClient",
    "YouTubeError",
    "YouTubeUploader",
    "check_destination",
    "check_request",
    "check_video_id",
    "clip_marker",
    "discovery_document",
    "emulator_credentials",
    "load_user_credentials",
    "metadata_violations",
    "next_quota_reset",
    "publication_cost",
    "publication_units",
    "publish_once",
]
