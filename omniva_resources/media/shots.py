"""A whole video's picture in one ffmpeg pass: shot boundaries and grey samples.

Twelve frames a second go through ffmpeg's scene-change detector (``scdet``, on a 160 px copy:
a boundary is placed within 1/12 s; the decode is the cost, not the detector) and a few frames a second come out grey, ``width`` wide,
for faces and motion (``omniva_resources.picture_track``). A video without a picture stream
gives no boundary and no sample.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from omniva.errors import MediaError
from omniva_resources.media.picture import escape_path
from omniva_resources.media.probe import MediaFacts
from omniva_resources.media.run import DEFAULT_TOOLS, FFmpegTools, run_binary

SCENE_THRESHOLD = 10.0  # scdet's score (0-100) at which a frame starts a new shot
SCENE_FPS = 12  # frames a second the detector compares (every frame costs a third more time)


def scan_picture(
    source: Path,
    facts: MediaFacts,
    fps: float = 2.0,
    width: int = 320,
    threshold: float = SCENE_THRESHOLD,
    tools: FFmpegTools = DEFAULT_TOOLS,
) -> tuple[tuple[float, ...], np.ndarray]:
    """(shot boundaries in seconds, grey frames [n, h, width] uint8 at ``fps``)."""
    if not facts.has_video or not facts.width or not facts.height:
        return (), np.zeros((0, 0, 0), np.uint8)
    h = max(2, int(round(facts.height * width / facts.width / 2)) * 2)
    with tempfile.TemporaryDirectory(prefix="omniva-shots-") as tmp:
        log = Path(tmp) / "scenes.txt"
        graph = (
            f"[0:v]split=2[s][c];[s]fps={fps},scale={width}:{h},format=gray[out];"
            f"[c]fps={SCENE_FPS},scale=160:-2,scdet=threshold={threshold},"
            f"metadata=mode=print:key=lavfi.scd.time:file='{escape_path(log)}',nullsink"
        )
        cmd = [tools.ffmpeg, "-nostdin", "-v", "error", "-i", str(source), "-filter_complex", graph]
        cmd += ["-map", "[out]", "-an", "-f", "rawvideo", "-pix_fmt", "gray", "-"]
        proc = run_binary(cmd)
        if proc.returncode != 0:
            raise MediaError(
                f"the picture of {Path(source).name} could not be read: {proc.stderr.decode()[-300:]}"
            )
        text = log.read_text() if log.is_file() else ""
    cuts = sorted(
        {round(float(line.split("=", 1)[1]), 3) for line in text.splitlines() if "lavfi.scd.time=" in line}
    )
    raw = np.frombuffer(proc.stdout, np.uint8)
    n = len(raw) // (width * h)
    return tuple(c for c in cuts if c > 0), raw[: n * width * h].reshape(n, h, width)
