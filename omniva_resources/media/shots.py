"""A whole video's picture in one ffmpeg pass: shot boundaries and grey samples.

Twelve frames a second go through ffmpeg's scene-change detector (``scdet``, on a 160 px copy:
a boundary is placed within 1/12 s; the decode is the cost, not the detector) and a few frames a
second come out grey, ``width`` wide, one at a time (memory stays one frame whatever the video's
length), for faces and motion (``omniva_resources.picture_track``). A video without a picture stream
gives no boundary and no sample.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from omniva.errors import MediaError, RenderError
from omniva_resources.media.picture import escape_path
from omniva_resources.media.probe import MediaFacts
from omniva_resources.media.run import DEFAULT_TOOLS, FFmpegTools, stream_frames

SCENE_THRESHOLD = 10.0  # scdet's score (0-100) at which a frame starts a new shot
SCENE_FPS = 12  # frames a second the detector compares (every frame costs a third more time)


def scan_picture(
    source: Path,
    facts: MediaFacts,
    fps: float = 2.0,
    width: int = 320,
    threshold: float = SCENE_THRESHOLD,
    tools: FFmpegTools = DEFAULT_TOOLS,
) -> tuple[list[float], Iterator[np.ndarray]]:
    """(shot boundaries in seconds, grey frames [h, width] uint8 at ``fps``, one at a time).

    The boundaries list fills once the frames are all read (ffmpeg writes them as it goes);
    an unreadable picture raises ``MediaError`` while reading."""
    cuts: list[float] = []
    if not facts.has_video or not facts.width or not facts.height:
        return cuts, iter(())
    h = max(2, int(round(facts.height * width / facts.width / 2)) * 2)

    def frames() -> Iterator[np.ndarray]:
        with tempfile.TemporaryDirectory(prefix="omniva-shots-") as tmp:
            log = Path(tmp) / "scenes.txt"
            graph = (
                f"[0:v]split=2[s][c];[s]fps={fps},scale={width}:{h},format=gray[out];"
                f"[c]fps={SCENE_FPS},scale=160:-2,scdet=threshold={threshold},"
                f"metadata=mode=print:key=lavfi.scd.time:file='{escape_path(log)}',nullsink"
            )
            cmd = [tools.ffmpeg, "-nostdin", "-v", "error", "-i", str(source), "-filter_complex", graph]
            cmd += ["-map", "[out]", "-an", "-f", "rawvideo", "-pix_fmt", "gray", "-"]
            try:
                for raw in stream_frames(cmd, width * h):
                    yield np.frombuffer(raw, np.uint8).reshape(h, width)
            except RenderError as exc:
                raise MediaError(f"the picture of {Path(source).name} could not be read: {exc}") from exc
            text = log.read_text() if log.is_file() else ""
        found = {
            round(float(line.split("=", 1)[1]), 3) for line in text.splitlines() if "lavfi.scd.time=" in line
        }
        cuts.extend(sorted(c for c in found if c > 0))

    return cuts, frames()
