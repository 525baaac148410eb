"""What a media file is: ffprobe's facts, its checksum, its MP4 box order."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from omniva.errors import CorruptMediaError
from omniva_resources.media.run import DEFAULT_TOOLS, FFmpegTools, run, try_run


@dataclass(frozen=True, slots=True)
class MediaFacts:
    """What ffprobe says about a file."""

    path: str
    size_bytes: int
    format_name: str
    duration_s: float
    has_video: bool
    has_audio: bool
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    video_codec: str | None = None
    video_profile: str | None = None
    pix_fmt: str | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None
    channels: int | None = None

    @property
    def resolution(self) -> str | None:
        return f"{self.width}x{self.height}" if self.width and self.height else None

    def as_dict(self) -> dict:
        return asdict(self)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def probe_url_duration(url: str, timeout_s: float = 30.0, tools: FFmpegTools = DEFAULT_TOOLS) -> float | None:
    """Duration of a remote media file from its header (ffprobe reads only what it needs);
    None when ffprobe cannot tell."""
    cmd = [tools.ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", url]
    proc = try_run(cmd, timeout_s)
    return to_float(proc.stdout.strip()) if proc is not None and proc.returncode == 0 else None


def probe(path: Path, tools: FFmpegTools = DEFAULT_TOOLS) -> MediaFacts:
    """ffprobe facts; CorruptMediaError when ffprobe cannot read a single stream."""
    path = Path(path)
    if not path.exists():
        raise CorruptMediaError(f"{path}: file does not exist")
    proc = run(
        [tools.ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        what=f"ffprobe {path.name}",
        check=False,
    )
    data = json.loads(proc.stdout or "{}") if proc.stdout.strip() else {}
    streams = data.get("streams") or []
    fmt = data.get("format") or {}
    if proc.returncode != 0 or not streams:
        reason = (proc.stderr.strip().splitlines() or ["no audio or video stream found"])[-1]
        raise CorruptMediaError(
            f"{path.name}: not a readable media file ({reason}). "
            "Re-download it or remove the post from the source."
        )
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")
        ),
        None,
    )
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    duration = to_float(fmt.get("duration")) or max(
        (to_float(s.get("duration")) or 0.0 for s in streams), default=0.0
    )
    fps = None
    if video and video.get("avg_frame_rate", "0/0") not in ("0/0", ""):
        num, _, den = video["avg_frame_rate"].partition("/")
        fps = float(num) / float(den or 1) if float(den or 1) else None
    return MediaFacts(
        path=str(path),
        size_bytes=path.stat().st_size,
        format_name=fmt.get("format_name", ""),
        duration_s=round(duration, 3),
        has_video=video is not None,
        has_audio=audio is not None,
        width=video.get("width") if video else None,
        height=video.get("height") if video else None,
        fps=round(fps, 3) if fps else None,
        video_codec=video.get("codec_name") if video else None,
        video_profile=video.get("profile") if video else None,
        pix_fmt=video.get("pix_fmt") if video else None,
        audio_codec=audio.get("codec_name") if audio else None,
        sample_rate=int(audio["sample_rate"]) if audio and audio.get("sample_rate") else None,
        channels=audio.get("channels") if audio else None,
    )


def to_float(value: Any) -> float | None:
    """ffprobe's numbers come as strings, sometimes "N/A": a float, or None."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def mp4_top_level_boxes(path: Path) -> list[str]:
    """Types of the top-level boxes of an MP4, in file order (``moov`` before ``mdat``: faststart)."""
    boxes: list[str] = []
    with open(path, "rb") as fh:
        size_total = os.fstat(fh.fileno()).st_size
        pos = 0
        while pos + 8 <= size_total and len(boxes) < 64:
            fh.seek(pos)
            header = fh.read(16)
            size = int.from_bytes(header[:4], "big")
            kind = header[4:8].decode("latin-1")
            if size == 1:
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:
                size = size_total - pos
            if size < 8:
                break
            boxes.append(kind)
            pos += size
    return boxes


def is_faststart(path: Path) -> bool:
    boxes = mp4_top_level_boxes(path)
    return "moov" in boxes and "mdat" in boxes and boxes.index("moov") < boxes.index("mdat")
