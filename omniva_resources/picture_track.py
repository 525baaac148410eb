"""Measure a video's ``PictureTrack`` (``omniva.picture``): shot boundaries from ffmpeg's
scene-change detector, the largest face per sample from OpenCV's cascade (the reframe's), and
the grey change between samples.

Cost, on the 2-core development machine: one decode of the video (the scene detector runs on a
160 px copy, 12 frames a second) plus the face cascade on 1 sample a second at 480 px (1 every 2 s
after 16 look-ups without a face): 204 s of busy 720p30 (ffmpeg's ``testsrc2``) took 8.7-9.2 s,
1.26-1.34x a plain decode of the same file (6.8-6.9 s), three runs; the process peaked at 57 MB
(frames are read one at a time, so an hour costs no more memory than a minute).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from omniva.picture import PictureTrack
from omniva_resources import faces, media
from omniva_resources.media.shots import scan_picture

SAMPLE_FPS = 2.0
SAMPLE_WIDTH = 480  # as the reframe samples: a face a tenth of the frame high is found
LOOK_EVERY = 2  # samples between face look-ups (1 a second) while faces are seen or early on
LOOK_EVERY_IDLE = 4  # ... and after 16 look-ups in a row without a face (1 every 2 s)


def picture_track(
    path: Path, facts: media.MediaFacts | None = None, tools: media.FFmpegTools = media.DEFAULT_TOOLS
) -> PictureTrack | None:
    """The video's picture track; None for a file without a picture stream. Frames are read one
    at a time (memory stays a frame and three numbers a sample, whatever the length)."""
    facts = facts or media.probe(path, tools)
    if not facts.has_video:
        return None
    cuts, frames = scan_picture(Path(path), facts, SAMPLE_FPS, SAMPLE_WIDTH, tools=tools)
    largest: list[float] = []
    motion: list[float] = []
    previous: np.ndarray | None = None
    misses = 0
    for k, frame in enumerate(frames):
        grey = frame.astype(np.int16)
        motion.append(0.0 if previous is None else round(float(np.abs(grey - previous).mean()) / 255.0, 5))
        previous = grey
        every = LOOK_EVERY_IDLE if misses >= 16 else LOOK_EVERY
        if k % every == 0:
            boxes = faces.detect_faces(frame[None])[0]
            misses = 0 if boxes else misses + 1
            largest.append(round(max((b[3] for b in boxes), default=0.0) / frame.shape[0], 4))
        else:
            largest.append(largest[-1])
    if not motion:
        return None
    return PictureTrack(SAMPLE_FPS, tuple(cuts), tuple(largest), tuple(motion))
