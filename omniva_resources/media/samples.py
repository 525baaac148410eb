"""Synthetic media: videos made from frames or from a still colour and a sound file
(the bundled sample creator, test feeds and benchmarks)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from omniva.errors import RenderError
from omniva_resources.media.files import partial_path
from omniva_resources.media.run import DEFAULT_TOOLS, FFmpegTools, run, run_with_input


def write_video(
    out_path: Path,
    frames: Iterable[np.ndarray],
    fps: float,
    size: tuple[int, int],
    audio: Path | None = None,
    tools: FFmpegTools = DEFAULT_TOOLS,
) -> Path:
    """Encode RGB frames (an iterable of HxWx3 uint8 arrays) to H.264 MP4, with an
    optional audio file (test and benchmark media)."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(out_path)
    w, h = size
    cmd = [tools.ffmpeg, "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24"]
    cmd += ["-s", f"{w}x{h}", "-r", str(fps), "-i", "-"]
    if audio is not None:
        cmd += ["-i", str(audio), "-map", "0:v", "-map", "1:a", "-shortest", "-c:a", "aac", "-b:a", "128k"]
    cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
    cmd += ["-movflags", "+faststart", "-f", "mp4", str(tmp)]
    code, err = run_with_input(cmd, frames)
    if code != 0:
        raise RenderError(f"writing {out_path.name} failed: {err[-300:]}")
    os.replace(tmp, out_path)
    return out_path


def make_sample_video(
    out_path: Path,
    audio: Path | None,
    duration_s: float | None = None,
    color: str = "0x24466b",
    size: str = "1280x720",
    silent_audio: bool = False,
    tools: FFmpegTools = DEFAULT_TOOLS,
    picture: Path | None = None,
) -> Path:
    """Build a small H.264/AAC MP4 (for the bundled sample creator and test feeds): ``audio``
    over a still ``color`` card, or over ``picture`` (a podcast's cover) scaled to ``size``."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(out_path)
    cmd = [
        tools.ffmpeg,
        "-nostdin",
        "-v",
        "error",
        "-y",
        *(["-loop", "1", "-framerate", "30"] if picture else ["-f", "lavfi"]),
        "-i",
        str(picture) if picture else f"color=c={color}:s={size}:r=30",
    ]
    if audio is not None:
        cmd += ["-i", str(audio), "-map", "0:v", "-map", "1:a", "-shortest"]
    elif silent_audio:
        cmd += ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo", "-map", "0:v", "-map", "1:a"]
    if picture is not None:
        cmd += ["-vf", f"scale={size.replace('x', ':')},setsar=1"]
    if duration_s:
        cmd += ["-t", f"{duration_s:.3f}"]
    cmd += [
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-tune",
        "stillimage",
        "-crf",
        "30",
        "-pix_fmt",
        "yuv420p",
    ]
    if audio is not None or silent_audio:
        cmd += ["-c:a", "aac", "-b:a", "96k", "-ac", "2"]
    cmd += ["-movflags", "+faststart", "-f", "mp4", str(tmp)]
    run(cmd, what=f"building {out_path.name}")
    os.replace(tmp, out_path)
    return out_path
