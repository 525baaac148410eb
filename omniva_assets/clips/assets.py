"""Clip-level assets, one partition per (video, rank): the edit decision list, the
render, and the copy (title, description, tags)."""

import dataclasses
import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

import cv2
import dagster as dg

from cognitive_sensors import chorus, paradox, stardust
from omniva import captions, editing, timeline
from omniva.editing import AutocutRules, plan_edit
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
from omniva_resources import faces, media, projects
from omniva_resources.resources import ClipRules, OmnivaStore


def render_spec_from_env() -> media.RenderSpec:
    """The render parameters, with OMNIVA_RENDER_<FIELD> overrides (e.g. OMNIVA_RENDER_CRF=20)."""
    overrides = {}
    for f in dataclasses.fields(media.RenderSpec):
        raw = os.environ.get(f"OMNIVA_RENDER_{f.name.upper()}")
        if raw is not None:
            kind = type(f.default)
            overrides[f.name] = raw.lower() in ("1", "true", "yes") if kind is bool else kind(raw)
    return media.RenderSpec(**overrides)


RENDER_SPEC = render_spec_from_env()
# The render's code version includes its parameters, so changing one (in code or by
# environment) makes Dagster report renders and everything downstream unsynced, while
# transcripts and the other upstream assets stay fresh.
RENDER_CODE_VERSION = (
    "2-"
    + hashlib.sha256(
        json.dumps(
            [dataclasses.asdict(RENDER_SPEC), os.environ.get("OMNIVA_BURN_CAPTIONS", "1")], sort_keys=True
        ).encode()
    ).hexdigest()[:10]
)
REFRAME_RULES = faces.ReframeRules()
LOUDNESS_TOLERANCE_LU = 0.5
THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024


def _video_in(name: str) -> dg.AssetIn:
    return dg.AssetIn(name, partition_mapping=video_of_clip)


def _burn_captions() -> bool:
    return os.environ.get("OMNIVA_BURN_CAPTIONS", "1").lower() not in ("0", "false", "no")


def _operations(
    edl: EditDecisionList, layout: str | None = None, extra: list[dict] | None = None
) -> list[dict]:
    ops = [{"op": "trim", "start": s, "end": e} for s, e in edl.keep]
    ops += [{"op": "cut", "start": s, "end": e, "reason": why} for s, e, why in edl.removed]
    if edl.crossfade_s:
        ops.append({"op": "crossfade", "seconds": edl.crossfade_s, "curve": "equal-power"})
    ops.append({"op": "reframe", "layout": layout or "planned at render (faces)"})
    ops.append(
        {
            "op": "loudnorm",
            "target_lufs": RENDER_SPEC.target_lufs,
            "true_peak_dbtp": RENDER_SPEC.true_peak_dbtp,
            "passes": 2,
        }
    )
    return ops + (extra or [])


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
    code_version="3",  # 3: a named filler's cut reaches back over its onset
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
    """The edit decision list of the clip Pantheon ranked here: kept and removed spans, with
    reasons (silences, filler words, filled pauses), exported as an OpenTimelineIO timeline.

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
    fps = float(videos.facts.get("fps") or RENDER_SPEC.fps)
    rules = AutocutRules(max_gap_s=clip_rules.silence_gap_s, frame_rate=fps)
    with user_errors(context, store):
        audio = media.decode_audio(Path(videos.file_path), 16000, cand.start_time, cand.end_time)
    plan = plan_edit(
        cand.start_time,
        cand.end_time,
        transcripts.words,
        analyses.silences,
        rules,
        audio,
        16000,
        cand.start_time,
    )
    keep, removed = plan.keep, plan.removed
    crossfade = 1.0 / fps if len(keep) > 1 and all(b - a > 2.0 / fps for a, b in keep) else 0.0
    words = tuple(w for w in transcripts.words if w.end > cand.start_time and w.start < cand.end_time)
    otio_path = store.layout.media / "edits" / video_key / f"rank-{rank}.otio"
    edl = EditDecisionList(
        chosen.clip_id,
        video_key,
        rank,
        videos.file_path,
        tuple(keep),
        tuple(removed),
        words,
        crossfade_s=round(crossfade, 6),
        frame_rate=fps,
        rules={k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(rules).items()},
        filled_pauses=tuple((p.start, p.end, p.f0_hz) for p in plan.filled_pauses),
        timeline_path=str(otio_path),
    )
    timeline.write_timeline(
        timeline.edl_timeline(
            f"{video_key} rank {rank}",
            videos.file_path,
            keep,
            removed,
            fps,
            edl.crossfade_s,
            videos.duration_s,
            {"clip_id": chosen.clip_id, "rules": edl.rules},
        ),
        otio_path,
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
    store.record(
        "edit_jobs",
        str(context.partition_key),
        [
            {
                "edit_job_id": stable_id("edit", chosen.clip_id),
                "clip_id": chosen.clip_id,
                "operations": _operations(edl),
                "ffmpeg_commands": [],
                "gpu_required": False,
                "estimated_duration_seconds": max(1, int(edl.output_duration_s * 1.5)),
                "status": "PENDING",
                "created_at": stardust.now_iso(),
                "timeline_path": str(otio_path),
                "output_duration_seconds": round(edl.output_duration_s, 3),
                "crossfade_seconds": edl.crossfade_s,
            }
        ],
    )
    n_fill = sum(1 for r in removed if "fill" in r[2])
    n_sil = sum(1 for r in removed if "silence" in r[2])
    meta, row = stardust.packet(
        context,
        entity_type="clips",
        entity_id=chosen.clip_id,
        trace_id=stardust.trace_id_for(video_key),
        source_url=videos.source_url,
        creator=videos.creator,
        inputs={"video": videos.sha256},
        params=edl.rules,
        decision=f"rank {rank}, consensus {chosen.consensus:.2f}; kept {len(keep)} span(s), "
        f"cut {n_sil} silence(s) and {n_fill} filler(s): {edl.output_duration_s:.1f}s of "
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
            "fillers_cut": n_fill,
            "timeline": dg.MetadataValue.path(str(otio_path)),
            "edl": dg.MetadataValue.json({"keep": keep, "removed": removed}),
        },
    )


@dg.asset(
    partitions_def=clip_partitions,
    ins={"videos": _video_in("videos")},
    group_name="clips",
    kinds={"ffmpeg"},
    code_version=RENDER_CODE_VERSION,
    pool="render",
    op_tags={"omniva/resource": "gpu-or-cpu"},
    check_specs=[
        dg.AssetCheckSpec(
            "shorts_spec",
            asset="renders",
            blocking=True,
            description="1080x1920 H.264 High yuv420p + AAC 48 kHz, faststart, 5-120 s, <= 60 MB, "
            "-14 +-0.5 LUFS, true peak <= -1.5 dBTP, thumbnail 1280x720 JPEG < 2 MB",
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
    """The Short: faces followed in a 9:16 crop (else the blurred-background layout), word-timed
    captions (burned in unless OMNIVA_BURN_CAPTIONS=0, plus an SRT sidecar), two-pass loudness to
    -14 LUFS with true peak <= -1.5 dBTP, H.264 High + AAC 48 kHz, faststart, at most 60 MB."""
    out = store.layout.media / "renders" / clips.video_key / f"rank-{clips.rank}.mp4"
    thumb = out.with_suffix(".jpg")
    srt = out.with_suffix(".srt")
    ass = out.with_suffix(".ass")
    src = Path(videos.file_path)
    xfade = clips.crossfade_s
    total = clips.output_duration_s
    style = captions.style_for(videos.creator, store.layout.home)
    burn = style.burn_in and _burn_captions()
    with user_errors(context, store):
        facts = media.probe(src)
        times, frames, scale = media.sample_frames(
            src, clips.keep, facts, xfade, REFRAME_RULES.sample_fps, REFRAME_RULES.sample_width
        )
        plan = faces.plan_reframe(
            times, frames, scale, facts.width or 0, facts.height or 0, total, RENDER_SPEC.fps, REFRAME_RULES
        )
        fillers = clips.rules.get("fillers", editing.DEFAULT_FILLERS)
        spoken = [w for w in clips.words if not editing.is_filler(w, fillers)]
        words_out = editing.words_in_output(spoken, clips.keep, xfade)
        captions_file = None
        if words_out:
            out.parent.mkdir(parents=True, exist_ok=True)
            cuts = editing.segment_starts(clips.keep, xfade)[1:]
            media.write_text_atomic(srt, captions.to_srt(words_out, style, total, cuts))
            if burn:
                ass_text = captions.to_ass(
                    words_out, style, RENDER_SPEC.width, RENDER_SPEC.height, total, cuts
                )
                captions_file = media.write_text_atomic(ass, ass_text)
        result = media.render_vertical(
            src, clips.keep, out, facts, RENDER_SPEC, plan.reframe, captions_file, xfade
        )
        if facts.has_video and plan.thumbnail_t is not None:
            at = editing.source_time(plan.thumbnail_t, clips.keep, xfade)
            media.extract_frame(src, at, thumb, 1280, 720, plan.thumbnail_center_x, THUMBNAIL_MAX_BYTES)
        else:
            media.extract_frame(out, min(1.0, total / 2), thumb, 1280, 720, None, THUMBNAIL_MAX_BYTES)
        rendered = media.probe(out)
        loud = media.measure_loudness(out)
        thumb_facts = media.probe(thumb)
    sha = media.sha256_file(out)
    faststart = media.is_faststart(out)
    reframe_record = plan.record()
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
        layout=result.layout,
        reframe=reframe_record,
        srt_path=str(srt) if words_out else "",
        captions_burned=captions_file is not None,
        faststart=faststart,
        video_profile=rendered.video_profile or "",
        pix_fmt=rendered.pix_fmt or "",
        audio_sample_rate=rendered.sample_rate or 0,
        loudness_corrections=result.audio_corrections,
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
                "layout": result.layout,
                "reframe": reframe_record,
                "srt_path": render.srt_path or None,
                "captions_burned": render.captions_burned,
                "faststart": faststart,
                "video_profile": render.video_profile,
                "pix_fmt": render.pix_fmt,
                "audio_sample_rate": render.audio_sample_rate,
                "loudness_corrections": list(result.audio_corrections),
            }
        ],
    )
    extra = [
        {"op": "captions", "burned": render.captions_burned, "srt": render.srt_path, "style": asdict(style)}
    ]
    store.record(
        "edit_jobs",
        str(context.partition_key),
        [
            {
                "edit_job_id": stable_id("edit", clips.clip_id),
                "clip_id": clips.clip_id,
                "operations": _operations(clips, result.layout, extra),
                "ffmpeg_commands": list(result.commands),
                "gpu_required": result.encoder != "libx264",
                "estimated_duration_seconds": max(1, int(clips.output_duration_s * 1.5)),
                "status": "DONE",
                "created_at": stardust.now_iso(),
                "timeline_path": clips.timeline_path or None,
                "output_duration_seconds": round(clips.output_duration_s, 3),
                "crossfade_seconds": xfade,
            }
        ],
    )
    nvenc = "works" if media.h264_encoder() == "h264_nvenc" else "not available (1-frame test encode failed)"
    meta, row = stardust.packet(
        context,
        entity_type="edit_jobs",
        entity_id=stable_id("edit", clips.clip_id),
        trace_id=stardust.trace_id_for(clips.video_key),
        source_url=videos.source_url,
        creator=videos.creator,
        inputs={"video": videos.sha256},
        outputs={out.name: sha},
        tools={
            "ffmpeg": media.ffmpeg_version(),
            "encoder": result.encoder,
            "h264_nvenc": nvenc,
            "opencv": cv2.__version__,
            "face_detector": "OpenCV Haar haarcascade_frontalface_alt2",
        },
        params={
            **asdict(RENDER_SPEC),
            "keep": clips.keep,
            "crossfade_s": xfade,
            "reframe": {k: v for k, v in reframe_record.items() if k != "keyframes"},
            "captions": asdict(style) | {"burned": render.captions_burned},
        },
        decision=f"layout {result.layout}: {plan.reason}; {loud.integrated_lufs:.1f} LUFS, "
        f"{loud.true_peak_dbtp:.1f} dBTP"
        + (f"; {'; '.join(result.audio_corrections)}" if result.audio_corrections else ""),
    )
    store.record_stardust(row)
    problems = []
    if (rendered.width, rendered.height) != (RENDER_SPEC.width, RENDER_SPEC.height):
        problems.append(f"size {rendered.resolution}")
    if rendered.video_codec != "h264" or rendered.audio_codec != "aac":
        problems.append(f"codecs {rendered.video_codec}/{rendered.audio_codec}")
    if rendered.video_profile != "High" or rendered.pix_fmt != "yuv420p":
        problems.append(f"profile/pix_fmt {rendered.video_profile}/{rendered.pix_fmt}")
    if rendered.sample_rate != 48000:
        problems.append(f"audio {rendered.sample_rate} Hz")
    if not faststart:
        problems.append("moov after mdat (no faststart)")
    if not (clip_rules.min_clip_s - 0.5 <= rendered.duration_s <= clip_rules.max_clip_s):
        problems.append(f"duration {rendered.duration_s:.1f}s")
    if rendered.size_bytes > RENDER_SPEC.max_bytes:
        problems.append(f"{rendered.size_bytes} bytes")
    if abs(loud.integrated_lufs - RENDER_SPEC.target_lufs) > LOUDNESS_TOLERANCE_LU:
        problems.append(f"loudness {loud.integrated_lufs:.1f} LUFS")
    if loud.true_peak_dbtp > RENDER_SPEC.true_peak_dbtp:
        problems.append(f"true peak {loud.true_peak_dbtp:.1f} dBTP")
    if (thumb_facts.width, thumb_facts.height) != (
        1280,
        720,
    ) or thumb_facts.size_bytes >= THUMBNAIL_MAX_BYTES:
        problems.append(f"thumbnail {thumb_facts.resolution}, {thumb_facts.size_bytes} bytes")
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
            "layout": result.layout,
            "reframe": dg.MetadataValue.json({k: v for k, v in reframe_record.items() if k != "keyframes"}),
            "captions": dg.MetadataValue.path(render.srt_path) if render.srt_path else "none",
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
            "true_peak_dbtp": loud.true_peak_dbtp,
            "duration_s": rendered.duration_s,
            "bytes": rendered.size_bytes,
            "faststart": faststart,
        },
    )


def source_rights(store: OmnivaStore, video_key: str) -> dict:
    """The source's rights and provenance (its creator, platform id, URL, licence) from the
    post the video came from; they travel into the upload's description credit."""
    from omniva_resources.scraper import provenance

    try:
        return provenance(store.find_post(video_key))
    except dg.Failure:
        return {}


@dg.asset(
    partitions_def=clip_partitions,
    ins={
        "videos": _video_in("videos"),
        "analyses": _video_in("analyses"),
        "clip_selections": _video_in("clip_selections"),
    },
    group_name="clips",
    kinds={"python"},
    code_version="3",
    check_specs=[
        dg.AssetCheckSpec(
            "title_not_used_on_channel",
            asset="clip_copy",
            blocking=True,
            description="Paradox: no other clip on the channel carries the same title",
        )
    ],
)
def clip_copy(
    context: dg.AssetExecutionContext,
    store: OmnivaStore,
    videos: Video,
    analyses: Analysis,
    clip_selections: Selection,
    clips: EditDecisionList,
):
    """Chorus: a title, description (with source credit) and tags within YouTube's limits."""
    chosen = next(c for c in clip_selections.clips if c.rank == clips.rank)
    tags = tuple(dict.fromkeys((*chosen.candidate.semantic_tags, *analyses.keywords)))
    text = chosen.candidate.text
    reasons = [v.reason for v in chosen.votes if v.vote == "yes"][:3]
    goals = projects.goals_for(videos.creator, store.layout)  # the project's tone, if it has its own
    rights = source_rights(store, videos.video_key)
    title, description, tag_list, author = chorus.compose(
        text,
        tags,
        videos.creator,
        videos.source_url,
        reasons,
        goals.tone,
        chorus.load_hook(os.environ.get("OMNIVA_CHORUS_HOOK")),
        source_creator=rights.get("source_creator"),
        license=rights.get("license"),
    )
    copy = ClipCopy(clip_id=clips.clip_id, title=title, description=description, tags=tag_list)
    used = {
        r["clip_id"]: r["title"]
        for r in store.warehouse.query(
            "SELECT CAST(clip_id AS VARCHAR) AS clip_id, title FROM clip_copy WHERE CAST(clip_id AS VARCHAR) <> ?",
            [clips.clip_id],
        )
    }
    clashes = paradox.titles_in_use(copy.title, used)
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
        params={"provenance": rights},
        decision=f"{author}, tone {goals.tone}: title from the clip's first sentence; {len(copy.tags)} tags",
    )
    store.record_stardust(row)
    yield dg.Output(
        copy, metadata={**meta, "title": copy.title, "tags": ", ".join(copy.tags), "author": author}
    )
    yield dg.AssetCheckResult(
        check_name="title_not_used_on_channel",
        passed=not clashes,
        description=f"title already used by clip(s) {', '.join(clashes)}" if clashes else "title is new",
    )
