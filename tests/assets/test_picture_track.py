"""The picture track of a real video (#30): ffmpeg's scene detector finds the shot change,
OpenCV's cascade the face, the grey change the motion; a sound-only file has no picture, and a
broken picture stream is named, not fatal.

The video: a real photograph of a face (scikit-image's ``astronaut``: Eileen Collins, NASA,
public domain) panning for 4 s, then a hard cut to a real recording's picture (``example.mp4``,
auto-editor's green card, Unlicense), with JFK's speech under it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from omniva.picture import span_picture
from omniva_resources import media
from omniva_resources.judgement import read_picture
from omniva_resources.picture_track import picture_track

W, H, FPS, CUT = 640, 360, 25, 4.0


@pytest.fixture(scope="module")
def two_shots(fixtures, tmp_path_factory) -> Path:
    from skimage import data

    face = cv2.resize(data.astronaut(), (300, 300), interpolation=cv2.INTER_AREA)
    card = media.sample_frames(
        fixtures / "example.mp4", [(0.0, 4.0)], media.probe(fixtures / "example.mp4"), fps=FPS, width=W
    )[1]

    def frames():
        for k in range(int(CUT * FPS)):  # the face, panning: a moving picture
            f = np.full((H, W, 3), 40, np.uint8)
            x = 80 + int(160 * k / (CUT * FPS))
            f[30:330, x : x + 300] = face
            yield f
        for g in card[: int(4.0 * FPS)]:  # cut to the other recording's picture
            yield np.repeat(cv2.resize(g, (W, H))[:, :, None], 3, axis=2)

    work = tmp_path_factory.mktemp("shots")
    return media.write_video(work / "two-shots.mp4", frames(), FPS, (W, H), audio=fixtures / "jfk.flac")


@pytest.mark.slow
def test_the_shot_change_the_face_and_the_motion_are_found(two_shots):
    track = picture_track(two_shots)
    assert track is not None and not track.is_still
    assert len(track.cuts) == 1 and abs(track.cuts[0] - CUT) <= 0.1, track.cuts
    face = span_picture(track, 0.0, CUT - 0.2)
    card = span_picture(track, CUT + 0.2, 7.8)
    assert face["face_share"] >= 0.8 and 0.1 <= face["face_size"] <= 0.4, face
    assert card["face_share"] == 0.0, card
    assert face["motion"] > 5 * card["motion"], (face, card)
    assert face["visual"] > card["visual"]
    both = span_picture(track, 2.0, 6.0)
    assert both["shot_cuts"] == 1 and "edge_cut_s" not in both


@pytest.mark.slow
def test_sound_only_and_broken_pictures(fixtures, tmp_path):
    assert read_picture(fixtures / "jfk.flac") == (None, "no picture stream")
    broken = tmp_path / "broken.mp4"
    data = (fixtures / "example.mp4").read_bytes()
    broken.write_bytes(data[: len(data) // 3])  # the picture stream ends mid-file
    track, note = read_picture(broken)
    # ffmpeg reads what is there or names the file; either way the analysis goes on
    assert (track is not None and note == "") or ("broken.mp4" in note and track is None)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    assert subprocess.run(["ffprobe", "-v", "error", str(garbage)], capture_output=True).returncode != 0
    track, note = read_picture(garbage)
    assert track is None and note


def test_frames_come_one_at_a_time_and_a_failure_is_named():
    from omniva.errors import RenderError
    from omniva_resources.media.run import stream_frames

    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=32x32:rate=10"]
    frames = stream_frames([*cmd, "-t", "3", "-f", "rawvideo", "-pix_fmt", "gray", "-"], 32 * 32)
    first = next(frames)  # a generator: the first frame before the command has finished
    assert len(first) == 32 * 32 and sum(1 for _ in frames) == 29
    with pytest.raises(RenderError, match="nosuchfile"):
        list(
            stream_frames(["ffmpeg", "-nostdin", "-v", "error", "-i", "nosuchfile.mp4", "-f", "null", "-"], 4)
        )
