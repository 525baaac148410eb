"""A Short from an edit decision list: faces followed in a 9:16 crop (else the blurred
background), or the audiogram for a still picture (``omniva.layout``), word-timed captions (burned in, plus an SRT sidecar), two-pass loudness, a
thumbnail; and the YouTube Shorts spec it must meet.

``render_short`` is the whole render step (the ``renders`` asset only stores what it
returns); ``shorts_spec_problems`` is the check, a pure function of the result.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from omniva import captions, editing, layout
from omniva.records import EditDecisionList, Render
from omniva_resources import faces, media
from omniva_resources.media import audiogram

REFRAME_RULES = faces.ReframeRules()
THUMBNAIL_SIZE = (1280, 720)
THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024
FACE_DETECTOR = "OpenCV Haar haarcascade_frontalface_alt2"


@dataclass(frozen=True)
class ShortRender:
    """The render, and what its provenance and its check need beside it."""

    render: Render
    reason: str  # why this layout (the reframe plan's words)
    thumbnail: media.MediaFacts
    style: captions.CaptionStyle


@cache
def installed_families(fontconfig_lang: str) -> list[str]:
    """Font families fontconfig says cover a language (``fc-list :lang=ja family``); empty when
    fontconfig is not there (then the preferred family is named and libass falls back)."""
    try:
        out = subprocess.run(
            ["fc-list", f":lang={fontconfig_lang}", "family"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return captions.parse_fc_list(out)


def render_short(
    edl: EditDecisionList,
    source: Path,
    out: Path,
    spec: media.RenderSpec,
    style: captions.CaptionStyle,
    burn_captions: bool = True,
    tools: media.FFmpegTools = media.DEFAULT_TOOLS,
    reframe_rules: faces.ReframeRules = REFRAME_RULES,
    *,
    title: str = "",
    creator_name: str = "",
    creator_layout: str = "auto",
    project_layout: str = "auto",
    watermark: Path | None = None,
) -> ShortRender:
    """Render ``edl`` from ``source`` to ``out`` (thumbnail ``.jpg`` and captions ``.srt``
    beside it). Captions are burned in when ``burn_captions`` and the style allow it.

    The picture: ``layout.choose_layout`` from ``spec.layout``, ``creator_layout``,
    ``project_layout`` and the stillness of the frames the reframe samples; the audiogram shows ``title`` and
    ``creator_name``."""
    thumb, srt, ass = out.with_suffix(".jpg"), out.with_suffix(".srt"), out.with_suffix(".ass")
    xfade, total = edl.crossfade_s, edl.output_duration_s
    facts = media.probe(source, tools)
    times, frames, scale = media.sample_frames(
        source, edl.keep, facts, xfade, reframe_rules.sample_fps, reframe_rules.sample_width, tools
    )
    plan = faces.plan_reframe(
        times, frames, scale, facts.width or 0, facts.height or 0, total, spec.fps, reframe_rules
    )
    stillness = layout.measure_stillness(frames, spec.still_threshold) if facts.has_video else None
    choice = layout.choose_layout(spec.layout, creator_layout, stillness, project_layout)
    fillers = edl.rules.get("fillers", editing.DEFAULT_FILLERS)
    spoken = [w for w in edl.words if not editing.is_filler(w, fillers)]
    words_out = editing.words_in_output(spoken, edl.keep, xfade)
    cuts = editing.segment_starts(edl.keep, xfade)[1:]
    language = edl.rules.get("language") or None
    out.parent.mkdir(parents=True, exist_ok=True)
    if words_out:
        media.write_text_atomic(srt, captions.to_srt(words_out, style, total, cuts))
    burn = bool(words_out) and burn_captions and style.burn_in
    with tempfile.TemporaryDirectory(prefix="omniva-audiogram-") as work:
        picture: audiogram.AudiogramPicture | None = None
        blocks: list[captions.TextBlock] = []
        ass_style = style
        if choice.layout == "audiogram":
            picture = audiogram_picture(source, edl, facts, times, frames, spec, Path(work), tools)
            ass_style, blocks = audiogram_text(picture, style, title, creator_name)
        margins: list[tuple[float, float, int]] = []
        if burn and picture is None and plan.reframe.mode == "crop" and plan.reframe.paths:
            margins = clear_of_faces(plan, times, frames, scale, spec, style, total)
        captions_file = None
        if burn or blocks:
            ass_text = captions.to_ass(
                words_out if burn else [],
                ass_style,
                spec.width,
                spec.height,
                total,
                cuts,
                language=language,
                families_for=installed_families,
                blocks=blocks,
                margins=margins,
            )
            captions_file = media.write_text_atomic(ass, ass_text)
        result = media.render_vertical(
            source, edl.keep, out, facts, spec, plan.reframe, captions_file, xfade, tools, picture, watermark
        )
    w, h = THUMBNAIL_SIZE
    if result.layout != "audiogram" and facts.has_video and plan.thumbnail_t is not None:
        at = editing.source_time(plan.thumbnail_t, edl.keep, xfade)
        media.extract_frame(source, at, thumb, w, h, plan.thumbnail_center_x, THUMBNAIL_MAX_BYTES, tools)
    else:
        media.extract_frame(out, min(1.0, total / 2), thumb, w, h, None, THUMBNAIL_MAX_BYTES, tools)
    rendered = media.probe(out, tools)
    loud = media.measure_loudness(out, tools)
    render = Render(
        edl.clip_id,
        str(out),
        media.sha256_file(out),
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
        reframe=_reframe_record(plan, result.layout)
        | {"layout_choice": choice.record(), **_cover_record(picture)}
        | ({"caption_margins": [[round(a, 3), round(b, 3), m] for a, b, m in margins]} if margins else {}),
        srt_path=str(srt) if words_out else "",
        captions_burned=burn,
        faststart=media.is_faststart(out),
        video_profile=rendered.video_profile or "",
        pix_fmt=rendered.pix_fmt or "",
        audio_sample_rate=rendered.sample_rate or 0,
        loudness_corrections=result.audio_corrections,
    )
    reason = plan.reason if result.layout != "audiogram" else choice.reason
    return ShortRender(render, reason, media.probe(thumb, tools), style)


def audiogram_picture(
    source: Path,
    edl: EditDecisionList,
    facts: media.MediaFacts,
    times: np.ndarray,
    frames: np.ndarray,
    spec: media.RenderSpec,
    work: Path,
    tools: media.FFmpegTools = media.DEFAULT_TOOLS,
) -> audiogram.AudiogramPicture:
    """The audiogram's still, composed in ``work``: the post's thumbnail kept beside the
    source, else the clip's sharpest sampled frame (full size), else a plain card."""
    look = spec.audiogram_style()
    geometry = look.geometry(spec.width, spec.height)
    cover = audiogram.thumbnail_beside(source)
    cover_from = f"thumbnail {cover.name}" if cover else "none"
    best = layout.sharpest(frames)
    if cover is None and best is not None and facts.width and facts.height:
        at = editing.source_time(float(times[best]), edl.keep, edl.crossfade_s)
        cover = media.extract_frame(
            source, at, work / "frame.jpg", facts.width, facts.height, None, 50 * 2**20, tools
        )
        cover_from = f"sharpest frame, {at:.2f} s into the source"
    base = work / "audiogram.png"
    box = audiogram.compose_base(cover, geometry, look, base, tools)
    return audiogram.AudiogramPicture(base, geometry, look, box, cover_from)


def audiogram_text(
    picture: audiogram.AudiogramPicture, style: captions.CaptionStyle, title: str, creator: str
) -> tuple[captions.CaptionStyle, list[captions.TextBlock]]:
    """The caption style of an audiogram (the creator's font and colours, larger, the spoken
    word in the brand colour, in the lower third) and its title and creator blocks."""
    g, look = picture.geometry, picture.style
    caption_style = replace(
        style,
        size=g.caption_size,
        margin_v=g.caption_margin_v,
        max_chars=min(style.max_chars, g.caption_chars),
        max_words=min(style.max_words, 3),
        highlight=look.colour,
    )
    blocks = []
    if title.strip():
        x, y = g.title_xy
        blocks.append(
            captions.TextBlock(
                "Title",
                title.strip(),
                x,
                y,
                g.title_size,
                look.text_colour,
                True,
                g.text_chars,
                g.title_lines,
            )
        )
    if creator.strip():
        x, y = g.creator_xy
        blocks.append(
            captions.TextBlock(
                "Creator", creator.strip(), x, y, g.creator_size, look.colour, True, 2 * g.text_chars, 1, 2.0
            )
        )
    return caption_style, blocks


def clear_of_faces(
    plan: faces.ReframePlan,
    times: np.ndarray,
    frames: np.ndarray,
    scale: float,
    spec: media.RenderSpec,
    style: captions.CaptionStyle,
    total: float,
) -> list[tuple[float, float, int]]:
    """Per shot, where the captions go so they cover no face the crop shows (#30): the faces
    of the sampled frames mapped through the crop path into the output, then
    ``layout.caption_margins``."""
    path = plan.reframe.paths[0]
    k = spec.height / path.height  # source px -> output px (the crop is full height)
    seen: list[layout.FaceSample] = []
    for t, boxes in zip(times, faces.detect_faces(frames), strict=False):
        x0 = float(path.x_at(float(t)))
        for fx, fy, fw, fh in boxes:
            ox, oy = (fx * scale - x0) * k, (fy * scale - path.y) * k
            ow, oh = fw * scale * k, fh * scale * k
            if ox + ow > 0 and ox < spec.width:  # inside the crop
                seen.append((float(t), (ox, oy, ow, oh)))
    block_h = int(style.size * 1.3 + 2 * style.outline)
    shots = layout.shots_of(total, plan.speaker_switches)
    return layout.caption_margins(shots, seen, style.margin_v, block_h, spec.height)


def _cover_record(picture: audiogram.AudiogramPicture | None) -> dict:
    """For an audiogram: its cover, and the layout the reframe alone would have drawn."""
    if picture is None:
        return {}
    return {"audiogram": {"cover": picture.cover_from, "cover_box": list(picture.cover_box)}}


def _reframe_record(plan: faces.ReframePlan, layout_drawn: str) -> dict:
    """The reframe plan's record; the layout is the one drawn (the plan's own stays as
    ``reframe_layout`` when the audiogram replaced it)."""
    record = plan.record()
    if layout_drawn != record["layout"] and layout_drawn == "audiogram":
        record |= {"layout": layout_drawn, "reframe_layout": record["layout"]}
    return record


def render_tools(encoder: str, tools: media.FFmpegTools = media.DEFAULT_TOOLS) -> dict[str, str]:
    """The tools a render used, for its provenance."""
    nvenc = media.h264_encoder(tools) == "h264_nvenc"
    return {
        "ffmpeg": media.ffmpeg_version(tools),
        "encoder": encoder,
        "h264_nvenc": "works" if nvenc else "not available (1-frame test encode failed)",
        "opencv": cv2.__version__,
        "face_detector": FACE_DETECTOR,
    }


def shorts_spec_problems(
    render: Render,
    thumbnail: media.MediaFacts,
    spec: media.RenderSpec,
    min_s: float,
    max_s: float,
) -> list[str]:
    """What keeps ``render`` from the Shorts spec (empty: it meets it): ``spec``'s size, codecs
    and loudness, faststart, a length in [``min_s`` - 0.5, ``max_s``], and the thumbnail."""
    problems = []
    if (render.width, render.height) != (spec.width, spec.height):
        problems.append(f"size {render.resolution}")
    if render.video_codec != "h264" or render.audio_codec != "aac":
        problems.append(f"codecs {render.video_codec}/{render.audio_codec}")
    if render.video_profile != "High" or render.pix_fmt != "yuv420p":
        problems.append(f"profile/pix_fmt {render.video_profile}/{render.pix_fmt}")
    if render.audio_sample_rate != 48000:
        problems.append(f"audio {render.audio_sample_rate} Hz")
    if not render.faststart:
        problems.append("moov after mdat (no faststart)")
    if not (min_s - 0.5 <= render.duration_s <= max_s):
        problems.append(f"duration {render.duration_s:.1f}s")
    if render.size_bytes > spec.max_bytes:
        problems.append(f"{render.size_bytes} bytes")
    if abs(render.integrated_lufs - spec.target_lufs) > spec.loudness_tolerance_lu:
        problems.append(f"loudness {render.integrated_lufs:.1f} LUFS")
    if render.true_peak_dbtp > spec.true_peak_dbtp:
        problems.append(f"true peak {render.true_peak_dbtp:.1f} dBTP")
    if (thumbnail.width, thumbnail.height) != THUMBNAIL_SIZE or thumbnail.size_bytes >= THUMBNAIL_MAX_BYTES:
        problems.append(f"thumbnail {thumbnail.resolution}, {thumbnail.size_bytes} bytes")
    return problems
