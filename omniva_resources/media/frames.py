"""Pictures out of a video: grey frames of an edited clip (faces, thumbnail choice) and
single JPEG frames (thumbnails)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from omniva.errors import RenderError
from omniva_resources.media.edit import Spans, input_args, relative, seek_window, video_edit
from omniva_resources.media.files import partial_path
from omniva_resources.media.probe import MediaFacts
from omniva_resources.media.run import DEFAULT_TOOLS, FFmpegTools, run, run_binary


def sample_frames(
    source: Path,
    spans: Spans,
    facts: MediaFacts,
    crossfade_s: float = 0.0,
    fps: float = 5.0,
    width: int = 480,
    tools: FFmpegTools = DEFAULT_TOOLS,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Grey frames of the edited clip at ``fps``, ``width`` wide, in output-timeline order.

    Returns (times in output seconds, frames [n, h, w] uint8, scale from these frames
    to source pixels). Used for face detection and thumbnail choice.
    """
    if not facts.has_video or not facts.width or not facts.height:
        return np.zeros(0), np.zeros((0, 0, 0), np.uint8), 1.0
    src_fps = facts.fps or 30.0
    xfade = crossfade_s if len(spans) > 1 else 0.0
    ss, dur = seek_window(spans, src_fps)
    rel = relative(spans, ss)
    h = int(round(facts.height * width / facts.width / 2)) * 2
    graph = video_edit(rel, xfade) + f";[vc]fps={fps},scale={width}:{h},format=gray[out]"
    cmd = [tools.ffmpeg, "-nostdin", "-v", "error", *input_args(source, ss, dur), "-filter_complex", graph]
    cmd += ["-map", "[out]", "-f", "rawvideo", "-pix_fmt", "gray", "-"]
    proc = run_binary(cmd)
    if proc.returncode != 0:
        raise RenderError(f"frame sampling of {Path(source).name} failed: {proc.stderr.decode()[-300:]}")
    raw = np.frombuffer(proc.stdout, np.uint8)
    n = len(raw) // (width * h)
    frames = raw[: n * width * h].reshape(n, h, width)
    return np.arange(n) / fps, frames, facts.width / width


def extract_frame(
    source: Path,
    at_s: float,
    out_path: Path,
    width: int = 1280,
    height: int = 720,
    center_x: float | None = None,
    max_bytes: int = 2 * 1024 * 1024,
    tools: FFmpegTools = DEFAULT_TOOLS,
) -> Path:
    """One JPEG frame at ``at_s`` (thumbnails), width x height, under ``max_bytes``.

    With ``center_x`` (0..1 of the source width) the frame is scaled to cover the box and
    cropped around that point (a face); without, it is letterboxed.
    """
    out_path = Path(out_path)
    tmp = partial_path(out_path)
    if center_x is None:
        vf = (
            f"scale={width}:{height}:force_original_aspect_ratio=decrease,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2"
        )
    else:
        vf = (
            f"scale={width}:{height}:force_original_aspect_ratio=increase,"
            f"crop={width}:{height}:x='max(0,min(iw-{width},{center_x:.4f}*iw-{width / 2}))':y=(ih-{height})/2"
        )
    for quality in (2, 4, 8, 15):
        cmd = [tools.ffmpeg, "-nostdin", "-v", "error", "-y", "-ss", f"{max(0.0, at_s):.3f}"]
        cmd += ["-i", str(source), "-frames:v", "1", "-vf", vf, "-q:v", str(quality), str(tmp)]
        run(cmd, what=f"thumbnail of {Path(source).name}")
        if tmp.stat().st_size <= max_bytes:
            break
    os.replace(tmp, out_path)
    return out_path
