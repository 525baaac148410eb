"""HaloLux: why a clip was chosen, edited, scheduled and gated, module by module."""

from __future__ import annotations

from fastapi import APIRouter, Request

from cognitive_sensors import halolux, stardust
from omniva_app.api.context import ctx_of
from omniva_app.api.envelope import ApiError
from omniva_app.api.routes.common import clip_of, ok, partition_of
from omniva_app.api.schemas import Envelope
from omniva_resources.insights import lineage, load_bundle, packet_walk
from omniva_resources.lineage import sync_lineage

router = APIRouter()


@router.get("/clips/{clip_id}/insights", response_model=Envelope)
def insights(request: Request, clip_id: str):
    """HaloLux: the same explanation as `omniva explain CLIP --json`, plus each module's part."""
    ctx = ctx_of(request)
    clip, project_id = clip_of(request, clip_id)
    bundle = load_bundle(ctx.warehouse, clip_id)
    if not bundle["votes"]:
        raise ApiError(409, "HALOLUX_PENDING", f"clip {clip_id} has no Pantheon votes recorded yet")
    partition = partition_of(clip)
    checks = ctx.warehouse.query_file("clip_checks", [clip["video_key"], partition])
    zenith = ctx.warehouse.query_file("latest_zenith", [[partition]])
    return ok(
        request,
        {
            "clip_id": clip_id,
            "project_id": project_id,
            "trace_id": stardust.trace_id_for(clip["video_key"]),
            "explanation": halolux.explain_markdown(bundle),
            "insights": {
                "paradox": {
                    "conflicts": [c for c in checks if not c["passed"]],
                    "checks": [
                        {k: c[k] for k in ("asset_key", "check_name", "passed", "description")}
                        for c in checks
                    ],
                },
                "lattice": {"priority": clip["lattice_priority"]},
                "pantheon": [
                    {"agent": v["agent"], "vote": v["vote"], "score": v["score"], "comment": v["reason"]}
                    for v in bundle["votes"]
                ],
                "horizon": {
                    "slot": bundle["schedule"].get("final_scheduled_time"),
                    "reason": bundle["schedule"].get("reason"),
                },
                "zenith": {
                    "decision": zenith[0]["action"] if zenith else None,
                    "reason": zenith[0]["reason"] if zenith else None,
                    "stage": zenith[0]["stage"] if zenith else None,
                },
            },
            "raw_payload": bundle,
        },
    )


@router.get("/clips/{clip_id}/lineage", response_model=Envelope)
def clip_lineage(request: Request, clip_id: str):
    """The clip's chain back to its source from Dagster's event log (each step a materialization:
    run, event, data version, checksums, its Stardust packet), and the walk over the Stardust
    packets' ``_meta_parents`` (the same answers as `omniva lineage CLIP [--packets] --json`)."""
    ctx = ctx_of(request)
    clip, project_id = clip_of(request, clip_id)
    sync_lineage(ctx.actions.instance, ctx.warehouse)  # mirror what finished since the last look
    if not clip["upload_job_id"]:
        raise ApiError(409, "LINEAGE_PENDING", f"clip {clip_id} has no upload yet; its chain is not complete")
    return ok(
        request,
        {
            "clip_id": clip_id,
            "project_id": project_id,
            "steps": lineage(ctx.warehouse, clip_id),
            "packets": packet_walk(ctx.warehouse, clip_id),
        },
    )
