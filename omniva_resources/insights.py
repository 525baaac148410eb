"""Read what the pipeline stored about one clip, for HaloLux and ``omniva explain/lineage``."""

from __future__ import annotations

import json
import re
from typing import Any

from omniva.errors import OmnivaError
from omniva.records import stable_id
from omniva_resources.warehouse import Warehouse

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value


def _first(wh: Warehouse, query: str, params: list) -> dict:
    """The named query's first row; empty when it has none."""
    return (wh.query_file(query, params) or [{}])[0]


def resolve_clip(wh: Warehouse, ref: str) -> dict:
    """A clip by id, by partition key ``rank|video``, or as ``video#rank``."""
    if UUID.match(ref):
        rows = wh.query_file("clip_by_id", [ref])
    else:
        if "#" in ref:
            video, rank = ref.rsplit("#", 1)
        elif "|" in ref:
            rank, video = ref.split("|", 1)
        else:
            raise OmnivaError(f"clip {ref!r}: give a clip id, 'RANK|VIDEO_KEY' or 'VIDEO_KEY#RANK'")
        rows = wh.query_file("clip_by_rank", [video, int(rank)])
    if not rows:
        raise OmnivaError(
            f"no clip {ref!r} in the warehouse; list clips with "
            "`SELECT clip_id, video_key, rank FROM clips` in DuckDB"
        )
    return rows[0]


def load_bundle(wh: Warehouse, ref: str) -> dict:
    clip = resolve_clip(wh, ref)
    clip_id = str(clip["clip_id"])
    candidate_id = str(clip["candidate_id"])
    video_key = clip["video_key"]
    cand = _first(wh, "clip_candidate", [candidate_id])
    cand["features"] = _json(cand.get("features"))
    votes = wh.query_file("candidate_votes", [candidate_id])
    ops = _json(_first(wh, "clip_edit_operations", [clip_id]).get("operations")) or []
    schedule = _first(wh, "clip_schedule", [clip_id])
    if schedule:
        schedule["reason"] = (_json(schedule.get("horizon_adjustments")) or {}).get("reason")
    source = _first(wh, "video_source", [video_key])
    return {
        "clip": {
            k: (str(v) if k.endswith("_id") else v)
            for k, v in clip.items()
            if k not in ("pantheon_votes", "metadata")
        },
        "candidate": {
            k: v for k, v in cand.items() if k in ("text", "score", "features", "start_time", "end_time")
        },
        "candidate_count": _first(wh, "video_candidate_count", [video_key]).get("n"),
        "votes": votes,
        "rejected_sample": wh.query_file("video_rejected_candidates", [video_key]),
        "cuts": [o for o in ops if o.get("op") == "cut"],
        "render": _first(wh, "clip_render", [clip_id]),
        "copy": _first(wh, "clip_copy", [clip_id]),
        "schedule": {
            k: str(v) if v is not None else None
            for k, v in schedule.items()
            if k in ("final_scheduled_time", "channel", "reason")
        },
        "upload": _first(wh, "clip_upload", [clip_id]),
        "source": {k: str(v) if v is not None else None for k, v in source.items()},
    }


def lineage(wh: Warehouse, ref: str, query: str = "clip_lineage") -> list[dict]:
    """The clip's chain back to its source: from Dagster's mirrored event log
    (``clip_lineage``, the default) or from the warehouse's hand joins (``clip_lineage_joins``)."""
    clip = resolve_clip(wh, ref)
    rows = wh.query_file(query, [str(clip["clip_id"])])
    if not rows:
        raise OmnivaError(
            f"clip {ref!r} has no upload yet, so its lineage is not complete; "
            "run the pipeline through uploads first"
        )
    return rows


def packet_walk(wh: Warehouse, ref: str) -> list[dict]:
    """The clip's upload packet and every packet it descends from, by ``_meta_parents``
    alone (no other table): breadth first, each packet once, with its depth."""
    clip = resolve_clip(wh, ref)
    start = stable_id("stardust", "uploads", f"{clip['rank']}|{clip['video_key']}")
    packets = {r["stardust_id"]: r for r in wh.query_file("stardust_packets")}
    if start not in packets:
        raise OmnivaError(f"clip {ref!r} has no upload packet yet; run the pipeline through uploads first")
    out, seen, queue = [], set(), [(0, start)]
    while queue:
        depth, pid = queue.pop(0)
        if pid in seen or pid not in packets:
            continue
        seen.add(pid)
        row = packets[pid]
        lineage = _json(row["lineage"]) or {}
        parents = list(lineage.get("_meta_parents") or [])
        out.append(
            {
                "depth": depth,
                "stardust_id": pid,
                "asset_key": row["asset_key"],
                "partition_key": row["partition_key"],
                "entity_type": row["entity_type"],
                "run_id": row["run_id"],
                "source_url": lineage.get("source_url"),
                "outputs": lineage.get("outputs") or {},
                "inputs": lineage.get("inputs") or {},
                "_meta_parents": parents,
            }
        )
        queue += [(depth + 1, p) for p in parents]
    return out
