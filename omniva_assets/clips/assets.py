"""Clip-level assets, one partition per (video, rank): the edit decision list, the
render, and the copy (title, description, tags)."""

from dataclasses import asdict
from pathlib import Path

import dagster as dg

from cognitive_sensors import chorus, stardust
from omniva.editing import AutocutRules, plan_keep_spans
from omniva.records import (
    Analysis,
    ClipCopy,
    EditDecisionList,
    Render,
    Selection,
    Transcript,
    Video,
    stable_id,
)
from omniva_assets.common import user_errors
from omniva_assets.partitions import clip_partitions, split_clip_key, video_of_clip
from omniva_resources import media
from omniva_resources.resources import ClipRules, OmnivaStore

RENDER_SPEC = media.RenderSpec()


def _video_in(name: str) -> dg.AssetIn:
    return dg.AssetIn(name, partition_mapping=video_of_clip)


@dg.asset(
    partitions_def=clip_partitions,
    ins={
        "videos": _video_in("videos"),
        "transcripts": _video_in("transcripts"),
        "analyses": _video_in("analyses"),
        "clip_selections": _video_in("clip_selections"),
    },
    group_name="clips",
    kinds={"python"},
    code_version="1",
    output_required=False,
)
def clips(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    clip_rules: ClipRules,
    videos: Video,
    transcripts: Transcript,
    analyses: Analysis,
    clip_selections: Selection,
):
    """The edit decision list of the clip Pantheon ranked here: kept and removed spans, with reasons.

    A rank Pantheon did not fill produces no output (downstream steps are skipped).
    """
    video_key, rank = split_clip_key(context.partition_key)
    chosen = next((c for c in clip_selections.clips if c.rank == rank), None)
    if chosen is None:
        context.log.info(
            f"{video_key}: Pantheon selected {len(clip_selections.clips)} clip(s); "
            f"rank {rank} does not exist, nothing to do"
        )
        return
    cand = chosen.candidate
    rules = AutocutRules(max_gap_s=clip_rules.silence_gap_s)
    keep, removed = plan_keep_spans(
        cand.start_time, cand.end_time, transcripts.words, analyses.silences, rules
    )
    words = tuple(w for w in transcripts.words if w.end > cand.start_time and w.start < cand.end_time)
    edl = EditDecisionList(
        chosen.clip_id, video_key, rank, videos.file_path, tuple(keep), tuple(removed), words
    )
    votes = {v.agent: v.score for v in chosen.votes}
    store.record(
        "clips",
        str(context.partition_key),
        [
            {
                "clip_id": chosen.clip_id,
                "video_id": videos.video_id,
                "video_key": video_key,
                "rank": rank,
                "candidate_id": cand.candidate_id,
                "start_time": cand.start_time,
                "end_time": cand.end_time,
                "confidence": chosen.consensus,
                "semantic_tags": list(cand.semantic_tags),
                "pantheon_votes": votes,
                "lattice_priority": round(chosen.consensus * cand.score, 4),
                "metadata": {
                    "dissent": chosen.dissent,
                    "text": cand.text,
                    "stardust_id": stable_id("stardust", "clips", str(context.partition_key)),
                },
            }
        ],
    )
    operations = [{"op": "trim", "start": s, "end": e} for s, e in keep]
    operations += [{"op": "cut", "start": s, "end": e, "reason": why} for s, e, why in removed]
    operations += [
        {"op": "reframe", "layout": "fit-on-blurred-9:16"},
        {"op": "loudnorm", "target_lufs": RENDER_SPEC.target_lufs},
    ]
    store.record(
        "edit_jobs",
        str(context.partition_key),
        [
            {
                "edit_job_id": stable_id("edit", chosen.clip_id),
                "clip_id": chosen.clip_id,
                "operations": operations,
                "ffmpeg_commands": [],
                "gpu_required": False,
                "estimated_duration_seconds": max(1, int(edl.output_duration_s * 1.5)),
                "status": "PENDING",
                "created_at": stardust.now_iso(),
            }
        ],
    )
    meta, row = stardust.packet(
        context,
        entity_type="clips",
        entity_id=chosen.clip_id,
        trace_id=stardust.trace_id_for(video_key),
        source_url=videos.source_url,
        creator=videos.creator,
        inputs={"video": videos.sha256},
        params=asdict(rules),
        decision=f"rank {rank}, consensus {chosen.consensus:.2f}; kept {len(keep)} span(s), "
        f"cut {len(removed)} silence(s): {edl.output_duration_s:.1f}s of "
        f"{cand.duration_s:.1f}s",
    )
    store.record_stardust(row)
    yield dg.Output(
        edl,
        metadata={
            **meta,
            "clip_id": chosen.clip_id,
            "source_span": f"{cand.start_time:.2f}–{cand.end_time:.2f}s",
            "output_duration_s": round(edl.output_duration_s, 2),
            "cuts": len(removed),
            "edl": dg.MetadataValue.json({"keep": keep, "removed": removed}),
        },
    )


@dg.asset(
    partitions_def=clip_partitions,
    ins={"videos": _video_in("videos")},
    group_name="clips",
    kinds={"ffmpeg"},
    code_version="1",
    pool="render",
    op_tags={"omniva/resource": "gpu-or-cpu"},
    check_specs=[
        dg.AssetCheckSpec(
            "shorts_spec",
            asset="renders",
            blocking=True,
            description="1080x1920 H.264/AAC, 5-120 s, <= 60 MB, -14 LUFS +-1 LU",
        )
    ],
)
def renders(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    clip_rules: ClipRules,
    videos: Video,
    clips: EditDecisionList,
):
    """The Short: 1080x1920 H.264 High + AAC 48 kHz, two-pass loudness to -14 LUFS, at most 60 MB."""
    out = store.layout.media / "renders" / clips.video_key / f"rank-{clips.rank}.mp4"
    thumb = out.with_suffix(".jpg")
    with user_errors(context, store):
        facts = media.probe(Path(videos.file_path))
        result = media.render_vertical(Path(videos.file_path), clips.keep, out, facts, RENDER_SPEC)
        media.extract_frame(out, min(1.0, clips.output_duration_s / 2), thumb)
        rendered = media.probe(out)
        loud = media.measure_loudness(out)
    sha = media.sha256_file(out)
    render = Render(
        clips.clip_id,
        str(out),
        sha,
        rendered.size_bytes,
        rendered.duration_s,
        rendered.width or 0,
        rendered.height or 0,
        rendered.video_codec or "",
        rendered.audio_codec or "",
        loud.integrated_lufs,
        loud.true_peak_dbtp,
        result.encoder,
        str(thumb),
        result.commands,
    )
    store.record(
        "renders",
        str(context.partition_key),
        [
            {
                "clip_id": clips.clip_id,
                "file_path": str(out),
                "checksum": sha,
                "size_bytes": rendered.size_bytes,
                "duration_seconds": rendered.duration_s,
                "resolution": rendered.resolution,
                "video_codec": render.video_codec,
                "audio_codec": render.audio_codec,
                "integrated_lufs": loud.integrated_lufs,
                "true_peak_dbtp": loud.true_peak_dbtp,
                "encoder": result.encoder,
                "thumbnail_path": str(thumb),
                "created_at": stardust.now_iso(),
            }
        ],
    )
    store.record(
        "edit_jobs",
        str(context.partition_key),
        [
            {
                "edit_job_id": stable_id("edit", clips.clip_id),
                "clip_id": clips.clip_id,
                "operations": [{"op": "trim", "start": s, "end": e} for s, e in clips.keep],
                "ffmpeg_commands": list(result.commands),
                "gpu_required": result.encoder != "libx264",
                "estimated_duration_seconds": max(1, int(clips.output_duration_s * 1.5)),
                "status": "DONE",
                "created_at": stardust.now_iso(),
            }
        ],
    )
    meta, row = stardust.packet(
        context,
        entity_type="edit_jobs",
        entity_id=stable_id("edit", clips.clip_id),
        trace_id=stardust.trace_id_for(clips.video_key),
        source_url=videos.source_url,
        creator=videos.creator,
        inputs={"video": videos.sha256},
        outputs={out.name: sha},
        tools={"ffmpeg": media.ffmpeg_version(), "encoder": result.encoder},
        params={**asdict(RENDER_SPEC), "keep": clips.keep},
    )
    store.record_stardust(row)
    problems = []
    if (rendered.width, rendered.height) != (RENDER_SPEC.width, RENDER_SPEC.height):
        problems.append(f"size {rendered.resolution}")
    if rendered.video_codec != "h264" or rendered.audio_codec != "aac":
        problems.append(f"codecs {rendered.video_codec}/{rendered.audio_codec}")
    if not (clip_rules.min_clip_s - 0.5 <= rendered.duration_s <= clip_rules.max_clip_s):
        problems.append(f"duration {rendered.duration_s:.1f}s")
    if rendered.size_bytes > RENDER_SPEC.max_bytes:
        problems.append(f"{rendered.size_bytes} bytes")
    if abs(loud.integrated_lufs - RENDER_SPEC.target_lufs) > 1.0:
        problems.append(f"loudness {loud.integrated_lufs:.1f} LUFS")
    yield dg.Output(
        render,
        metadata={
            **meta,
            "path": dg.MetadataValue.path(str(out)),
            "sha256": sha,
            "bytes": rendered.size_bytes,
            "duration_s": rendered.duration_s,
            "integrated_lufs": loud.integrated_lufs,
            "true_peak_dbtp": loud.true_peak_dbtp,
            "encoder": result.encoder,
            "thumbnail": dg.MetadataValue.path(str(thumb)),
        },
        data_version=dg.DataVersion(sha),
    )
    yield dg.AssetCheckResult(
        check_name="shorts_spec",
        passed=not problems,
        description="; ".join(problems) or "meets the Shorts spec",
        metadata={
            "integrated_lufs": loud.integrated_lufs,
            "duration_s": rendered.duration_s,
            "bytes": rendered.size_bytes,
        },
    )


@dg.asset(
    partitions_def=clip_partitions,
    ins={
        "videos": _video_in("videos"),
        "analyses": _video_in("analyses"),
        "clip_selections": _video_in("clip_selections"),
    },
    group_name="clips",
    kinds={"python"},
    code_version="1",
)
def clip_copy(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    videos: Video,
    analyses: Analysis,
    clip_selections: Selection,
    clips: EditDecisionList,
) -> ClipCopy:
    """Chorus: a title, description (with source credit) and tags within YouTube's limits."""
    chosen = next(c for c in clip_selections.clips if c.rank == clips.rank)
    tags = tuple(dict.fromkeys((*chosen.candidate.semantic_tags, *analyses.keywords)))
    text = chosen.candidate.text
    reasons = [v.reason for v in chosen.votes if v.vote == "yes"][:3]
    copy = ClipCopy(
        clip_id=clips.clip_id,
        title=chorus.make_title(text, tags, videos.creator),
        description=chorus.make_description(text, videos.creator, videos.source_url, reasons),
        tags=chorus.make_tags(tags, videos.creator),
    )
    store.record(
        "clip_copy",
        str(context.partition_key),
        [
            {
                "clip_id": copy.clip_id,
                "title": copy.title,
                "description": copy.description,
                "keywords": list(copy.tags),
                "category_id": copy.category_id,
            }
        ],
    )
    meta, row = stardust.packet(
        context,
        entity_type="upload_jobs",
        entity_id=stable_id("copy", clips.clip_id),
        trace_id=stardust.trace_id_for(clips.video_key),
        source_url=videos.source_url,
        creator=videos.creator,
        decision=f"title from the clip's first sentence; {len(copy.tags)} tags",
    )
    store.record_stardust(row)
    context.add_output_metadata({**meta, "title": copy.title, "tags": ", ".join(copy.tags)})
    return copy
