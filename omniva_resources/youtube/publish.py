"""Publishing a clip exactly once, whatever happened to earlier attempts.

``publish_once`` keeps the upload session URI in the clip's ledger before the first
byte is sent, and a later process asks the server for the confirmed offset and sends
only the rest. A finished upload is never repeated. Before any new session is opened
the clip is looked up on the channel by its marker tag, so neither a lost ledger nor a
second Omniva home publishing the same clip makes a second video.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omniva_resources.private_files import locked, write_private_json
from omniva_resources.youtube.errors import UploadSessionGone, YouTubeError, iso
from omniva_resources.youtube.metadata import UploadRequest, check_request, check_video_id
from omniva_resources.youtube.quota import publication_units
from omniva_resources.youtube.upload import YouTubeUploader

log = logging.getLogger(__name__)


class UploadLedger:
    """One clip's upload record (``$OMNIVA_HOME/uploads/<clip_id>.json``, owner-only).

    ``state``: ``started`` (intent recorded; ``session_uri`` once the server opened a
    session) or ``done`` (``yt_video_id`` known). The session URI lets anyone holding
    it add bytes to the upload, so it lives only here, never in logs or metadata.
    """

    def __init__(self, path: Path):
        self.path = Path(path)

    def read(self) -> dict:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise YouTubeError(
                f"upload ledger {self.path} is not valid JSON ({exc}); inspect it before uploading "
                "again, or the clip may be uploaded twice"
            ) from exc
        return data if isinstance(data, dict) else {}

    def write(self, data: dict) -> None:
        write_private_json(self.path, data)

    def update(self, **fields: Any) -> dict:
        data = self.read() | fields
        self.write(data)
        return data


@dataclass(frozen=True)
class PublishOutcome:
    video_id: str
    privacy_status: str
    publish_at: str | None
    how: str  # "uploaded" | "resumed" | "reused" | "adopted"
    bytes_sent: int = 0
    resumed_from: int = 0
    extras: dict[str, str] = field(default_factory=dict)

    @property
    def reused(self) -> bool:
        return self.how in ("reused", "adopted")


def _now_iso() -> str:
    return iso(dt.datetime.now(dt.UTC))


def publish_once(
    uploader: YouTubeUploader,
    req: UploadRequest,
    ledger: UploadLedger,
    *,
    api_root: str,
    fingerprint: str,
    record: dict[str, Any] | None = None,
) -> PublishOutcome:
    """Put ``req`` on YouTube exactly once, whatever happened to earlier attempts.

    1. ledger ``done`` (same API root): reuse the video id; only extras still pending
       (e.g. a thumbnail deferred by the quota) are tried again. No upload.
    2. ledger ``started`` with a session URI for the same bytes: ask the server for the
       confirmed offset and send the rest (or take the video if it had finished).
    3. otherwise (no ledger, a ledger from another API root, a session that is gone):
       look the clip's marker up on the channel's latest uploads and adopt the video if
       it exists. The ledger is one home's memory; the channel is the truth.
    4. else: record the intent, open a session, persist its URI, upload.

    ``record``: extra fields kept in the ledger (clip id and key, channel). Raises
    ``MetadataError`` before any network call and ``QuotaExceededError`` when the day's
    budget cannot hold the publication. Two processes publishing the same clip take turns
    (a lock beside the ledger, released by the kernel if its holder dies).
    """
    with locked(ledger.path):
        return _publish_once(uploader, req, ledger, api_root, fingerprint, record or {})


def _publish_once(
    uploader: YouTubeUploader,
    req: UploadRequest,
    ledger: UploadLedger,
    api_root: str,
    fingerprint: str,
    record: dict[str, Any],
) -> PublishOutcome:
    entry = ledger.read()
    same_root = entry.get("api_root") == api_root
    if entry.get("state") == "done" and same_root and entry.get("yt_video_id"):
        video_id = check_video_id(entry["yt_video_id"], f"upload ledger {ledger.path}")
        extras = dict(entry.get("extras") or {})
        if any(v.startswith(("deferred", "pending")) for v in extras.values()):
            extras = uploader.apply_extras(video_id, req, extras)
            ledger.update(extras=extras)
        return PublishOutcome(
            video_id, entry.get("privacy_status", ""), entry.get("publish_at"), "reused", extras=extras
        )

    check_request(req)  # before any network call
    uncertain = entry.get("state") == "started" and same_root
    resume_uri = entry.get("session_uri") if uncertain and entry.get("sha256") == fingerprint else None
    if uploader.quota is not None:
        cost = publication_units(
            req, uploader.quota.model, new_session=not resume_uri, lookup=bool(req.marker)
        )
        uploader.quota.ensure(cost, f"publishing {Path(req.path).name}")

    def done(video: dict, how: str, bytes_sent: int = 0, resumed_from: int = 0) -> PublishOutcome:
        video_id = check_video_id(video.get("id"), "YouTube's answer")
        st = video.get("status") or {}
        privacy = st.get("privacyStatus") or ("private" if req.publish_at else req.privacy_status)
        publish_at = st.get("publishAt") or (req.publish_at if req.publish_at else None)
        pending = {k: "pending" for k in ("thumbnail", "captions", "playlist")}
        ledger.write(
            record
            | {
                "state": "done",
                "yt_video_id": video_id,
                "privacy_status": privacy,
                "publish_at": publish_at,
                "title": req.title,
                "api_root": api_root,
                "sha256": fingerprint,
                "how": how,
                "extras": pending,
                "at": _now_iso(),
            }
        )
        extras = uploader.apply_extras(video_id, req, pending)
        ledger.update(extras=extras)
        return PublishOutcome(video_id, privacy, publish_at, how, bytes_sent, resumed_from, extras)

    def adopt() -> PublishOutcome | None:
        if not req.marker:
            return None
        video = uploader.find_by_marker(req.marker, since=entry.get("at") if same_root else None)
        if video is None:
            return None
        log.warning(
            "clip already on YouTube as %s (found by its marker); not uploading again", video.get("id")
        )
        return done(video, "adopted")

    def started(**fields: Any) -> None:
        ledger.write(
            record
            | {
                "state": "started",
                "sha256": fingerprint,
                "size": Path(req.path).stat().st_size,
                "marker": req.marker,
                "api_root": api_root,
                "at": entry.get("at") if uncertain else _now_iso(),
            }
            | fields
        )

    def on_session(uri: str) -> None:
        started(session_uri=uri, session_at=_now_iso())

    if resume_uri:
        try:
            result = uploader.upload(req, resume_uri=resume_uri, extras=False)
            how = "resumed" if result.resumed_from else "uploaded"
            return done(
                {
                    "id": result.video_id,
                    "status": {"privacyStatus": result.privacy_status, "publishAt": result.publish_at},
                },
                how,
                result.bytes_sent,
                result.resumed_from,
            )
        except UploadSessionGone as exc:
            log.warning("%s; looking the clip up on the channel", exc)
            started(session_uri=None)
    adopted = adopt()
    if adopted is not None:
        return adopted
    started(session_uri=None)
    result = uploader.upload(req, on_session=on_session, extras=False)
    return done(
        {
            "id": result.video_id,
            "status": {"privacyStatus": result.privacy_status, "publishAt": result.publish_at},
        },
        "uploaded",
        result.bytes_sent,
    )
