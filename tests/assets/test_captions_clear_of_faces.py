"""Captions clear of faces (#30): on a talking head whose chin sits where the captions go, the
caption block moves below the chin or above the head, and the burned captions never cover the
face the crop shows.

The talking head is a real photograph (scikit-image's ``astronaut``: Eileen Collins, NASA,
public domain), large and low in a 1280x720 frame, panning slowly (a moving picture, so the
reframe follows it), with JFK's speech (``jfk.flac``) under it.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from omniva import captions, layout
from omniva.records import EditDecisionList, Word
from omniva_resources import faces, media, shorts

W, H, FPS, SIZE, DURATION = 1280, 720, 30, 900, 6.0


@pytest.fixture(scope="module")
def talking_head(fixtures, tmp_path_factory) -> Path:
    from skimage import data  # the photograph test_reframe and the bench use (requirements.txt)

    img = cv2.resize(data.astronaut(), (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    bg = np.full((H, W, 3), 60, np.uint8)
    top = 260  # the face (rows 116-281 of the 900 px picture) ends low in the frame

    def frames():
        for k in range(int(DURATION * FPS)):
            x = int(100 + 160 * k / (DURATION * FPS))  # a slow pan: a moving picture
            f = bg.copy()
            f[top:H, x : x + SIZE] = img[: H - top, : min(SIZE, W - x)]
            yield f

    work = tmp_path_factory.mktemp("face")
    return media.write_video(work / "talking-head.mp4", frames(), FPS, (W, H), audio=fixtures / "jfk.flac")


def _edl(src: Path) -> EditDecisionList:
    words = ["And", "so", "my", "fellow", "Americans", "ask", "not", "what", "your", "country", "can", "do"]
    timed = tuple(Word(t, 0.2 + 0.5 * i, 0.2 + 0.5 * i + 0.45) for i, t in enumerate(words))
    return EditDecisionList("clip", "video", 1, str(src), ((0.0, DURATION),), (), timed, 0.0, 30.0, {})


def _grey(video: Path, span: tuple[float, float], fps: float = 2.0) -> np.ndarray:
    _, frames, _ = media.sample_frames(video, [span], media.probe(video), 0.0, fps, 1080)
    return frames.astype(np.int16)


@pytest.mark.slow
def test_the_caption_block_never_covers_the_face(talking_head, tmp_path):
    style = captions.CaptionStyle()
    spec = media.RenderSpec(layout="reframe")
    edl = _edl(talking_head)
    with_caps = shorts.render_short(edl, talking_head, tmp_path / "caps.mp4", spec, style)
    plain = shorts.render_short(edl, talking_head, tmp_path / "plain.mp4", spec, style, burn_captions=False)
    assert with_caps.render.layout == "crop", with_caps.reason
    moved = with_caps.render.reframe["caption_margins"]
    assert moved and all(m != style.margin_v for _, _, m in moved), moved

    span = (0.5, DURATION - 0.6)  # captions on screen throughout
    caps, bare = _grey(Path(with_caps.render.path), span), _grey(Path(plain.render.path), span)
    block_h = int(style.size * 1.3 + 2 * style.outline)
    default_block = (1920 - style.margin_v - block_h, 1920 - style.margin_v)
    checked = 0
    for f_caps, f_bare in zip(caps, bare, strict=True):
        ink = np.abs(f_caps - f_bare) > 60
        rows = np.flatnonzero(ink.sum(axis=1) > 3)
        found = faces.detect_faces(f_bare[None].astype(np.uint8))[0]
        if len(rows) == 0 or not found:
            continue
        x, y, w, h = max(found, key=lambda b: b[2] * b[3])
        cols = np.flatnonzero(ink.sum(axis=0) > 3)
        ink_box = (cols[0], rows[0], cols[-1] - cols[0], rows[-1] - rows[0])
        # without the move the captions' block would have sat on this face
        assert default_block[0] < y + h and y < default_block[1], ((x, y, w, h), default_block)
        overlap_x = ink_box[0] < x + w and x < ink_box[0] + ink_box[2]
        overlap_y = ink_box[1] < y + h and y < ink_box[1] + ink_box[3]
        assert not (overlap_x and overlap_y), (ink_box, (x, y, w, h))
        checked += 1
    assert checked >= 0.6 * len(caps), (checked, len(caps))


def test_caption_margins_move_the_block_off_the_face_within_the_safe_area():
    block = 110
    # a face from y 700 to 1420: the default block (1350-1460) sits on its chin
    margins = layout.caption_margins([(0.0, 5.0)], [(1.0, (300, 700, 400, 720))], 460, block)
    (_, _, m) = margins[0]
    assert 1920 - m <= 700 - 24 or 1920 - m - block >= 1420 + 24
    assert 1920 - m - block >= 150 and 1920 - m <= 1510
    # a face high in the frame: the default stays
    assert layout.caption_margins([(0.0, 5.0)], [(1.0, (300, 200, 400, 500))], 460, block)[0][2] == 460
    # per shot: only the shot with the low face moves
    shots = layout.shots_of(10.0, [5.0])
    moved = layout.caption_margins(
        shots, [(1.0, (300, 200, 400, 500)), (6.0, (300, 700, 400, 720))], 460, block
    )
    assert [m for _, _, m in moved][0] == 460 and moved[1][2] != 460
