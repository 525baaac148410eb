"""Measure a video's ``PictureTrack`` (``omniva.picture``): shot boundaries from ffmpeg's
scene-change detector, the largest face per sample from OpenCV's cascade (the reframe's), and
the grey change between samples.

Cost, on the 2-core development machine: one decode of the video (the scene detector runs on a
160 px copy, 12 frames a second) plus the face cascade on 2 samples a second at 480 px, skipped
after 12 probe samples without a face: 204 s of busy 720p30 (ffmpeg's ``testsrc2``) took 8.6-8.8 s,
1.23-1.32x a plain decode of the same file (6.6-7.0 s), three runs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from omniva.picture import PictureTrack
from omniva_resources import faces, media
from omniva_resources.media.shots import scan_picture

SAMPLE_FPS = 2.0
SAMPLE_WIDTH = 480  # as the reframe samples: a face a tenth of the frame high is found


def picture_track(
    path: Path, facts: media.MediaFacts | None = None, tools: media.FFmpegTools = media.DEFAULT_TOOLS
) -> PictureTrack | None:
    """The video's picture track; None for a file without a picture stream."""
    facts = facts or media.probe(path, tools)
    if not facts.has_video:
        return None
    cuts, frames = scan_picture(Path(path), facts, SAMPLE_FPS, SAMPLE_WIDTH, tools=tools)
    if len(frames) == 0:
        return None
    height = frames.shape[1]
    found = faces.detect_faces(frames)
    largest = tuple(round(max((b[3] for b in boxes), default=0.0) / height, 4) for boxes in found)
    small = frames.astype(np.int16)
    change = np.abs(np.diff(small, axis=0)).mean(axis=(1, 2)) / 255.0 if len(frames) > 1 else np.zeros(0)
    motion = (0.0, *(round(float(x), 5) for x in change))
    return PictureTrack(SAMPLE_FPS, cuts, largest, motion)
