"""Read what the pipeline stored about one clip, for HaloLux and ``omniva explain/lineage``."""

from __future__ import annotations

import json
import re

from omniva.errors import OmnivaError
from omniva_resources.warehouse import Warehouse

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _json(value):
    return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value


def resolve_clip(wh: Warehouse, ref: str) -> dict:
    """A clip by id, by partition key ``rank|video``, or as ``video#rank``."""
    if UUID.match(ref):
        rows = wh.query("SELECT * FROM clips WHERE CAST(clip_id AS VARCHAR) = ?", [ref])
    else:
        if "#" in ref:
            video, rank = ref.rsplit("#", 1)
        elif "|" in ref:
            rank, video = ref.split("|", 1)
        else:
            raise OmnivaError(f"clip {ref!r}: give a clip id, 'RANK|VIDEO_KEY' or 'VIDEO_KEY#RANK'")
        rows = wh.query("SELECT * FROM clips WHERE video_key = ? AND rank = ?", [video, int(rank)])
    if not rows:
        raise OmnivaError(
            f"no clip {ref!r} in the warehouse; list clips with "
            "`SELECT clip_id, video_key, rank FROM clips` in DuckDB"
        )
    return rows[0]


def load_bundle(wh: Warehouse, ref: str) -> dict:
    clip = resolve_clip(wh, ref)
    clip_id = str(clip["clip_id"])
    one = lambda sql, params: (wh.query(sql, params) or [{}])[0]  # noqa: E731
    cand = one(
        "SELECT * FROM clip_candidates WHERE CAST(candidate_id AS VARCHAR) = ?", [str(clip["candidate_id"])]
    )
    cand["features"] = _json(cand.get("features"))
    votes = wh.query(
        "SELECT agent, vote, score, confidence, reason FROM pantheon_votes "
        "WHERE CAST(candidate_id AS VARCHAR) = ? ORDER BY agent",
        [str(clip["candidate_id"])],
    )
    edit = one("SELECT operations FROM edit_jobs WHERE CAST(clip_id AS VARCHAR) = ?", [clip_id])
    ops = _json(edit.get("operations")) or []
    schedule = one("SELECT * FROM schedules WHERE CAST(clip_id AS VARCHAR) = ?", [clip_id])
    if schedule:
        schedule["reason"] = (_json(schedule.get("horizon_adjustments")) or {}).get("reason")
    source = one(
        "SELECT p.title, p.url AS source_url, p.posted_at, v.checksum AS source_checksum, v.creator "
        "FROM videos v JOIN posts p ON p.post_id = v.post_id WHERE v.video_key = ? LIMIT 1",
        [clip["video_key"]],
    )
    return {
        "clip": {
            k: (str(v) if k.endswith("_id") else v)
            for k, v in clip.items()
            if k not in ("pantheon_votes", "metadata")
        },
        "candidate": {
            k: v for k, v in cand.items() if k in ("text", "score", "features", "start_time", "end_time")
        },
        "candidate_count": one(
            "SELECT count(*) AS n FROM clip_candidates WHERE video_key = ?", [clip["video_key"]]
        ).get("n"),
        "votes": votes,
        "rejected_sample": wh.query(
            "SELECT start_time, end_time, rejected_because FROM clip_candidates WHERE video_key = ? "
            "AND rejected_because IS NOT NULL ORDER BY consensus DESC LIMIT 3",
            [clip["video_key"]],
        ),
        "cuts": [o for o in ops if o.get("op") == "cut"],
        "render": one(
            "SELECT duration_seconds, resolution, encoder, integrated_lufs, checksum, file_path "
            "FROM renders WHERE CAST(clip_id AS VARCHAR) = ?",
            [clip_id],
        ),
        "copy": one("SELECT title, keywords FROM clip_copy WHERE CAST(clip_id AS VARCHAR) = ?", [clip_id]),
        "schedule": {
            k: str(v) if v is not None else None
            for k, v in schedule.items()
            if k in ("final_scheduled_time", "channel", "reason")
        },
        "upload": one(
            "SELECT yt_video_id, privacy_status, status, scheduled_time FROM upload_jobs "
            "WHERE CAST(clip_id AS VARCHAR) = ?",
            [clip_id],
        ),
        "source": {k: str(v) if v is not None else None for k, v in source.items()},
    }


def lineage(wh: Warehouse, ref: str) -> list[dict]:
    clip = resolve_clip(wh, ref)
    rows = wh.query(
        "SELECT step_order, step, asset_key, entity_id, checksum, location, detail FROM clip_lineage "
        "WHERE CAST(clip_id AS VARCHAR) = ? ORDER BY step_order",
        [str(clip["clip_id"])],
    )
    if not rows:
        raise OmnivaError(
            f"clip {ref!r} has no upload yet, so its lineage is not complete; "
            "run the pipeline through uploads first"
        )
    return rows
