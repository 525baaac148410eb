"""A project's logo watermark (#29): the channel's logo over the top-right corner of a render,
at the place and size the renderer documents; a render without it has none there. Real
ffmpeg on the fixture video; the logo is a made PNG of one colour, looked for by its pixels."""

import subprocess

import numpy as np
import pytest
from PIL import Image

from omniva_resources import media
from omniva_resources.media.render import WATERMARK_MARGIN_X, WATERMARK_MARGIN_Y, WATERMARK_W

pytestmark = pytest.mark.slow

MAGENTA = (230, 20, 200)


def _frame(path, t=1.0):
    """The picture at ``t`` in colour (RGB, 1920 rows of 1080)."""
    png = path.with_suffix(".png")
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-ss",
            str(t),
            "-i",
            str(path),
            "-frames:v",
            "1",
            str(png),
        ],
        check=True,
    )
    return np.asarray(Image.open(png).convert("RGB")).astype(int)


def test_the_logo_sits_in_the_top_right_corner_only_when_asked(fixtures, tmp_path):
    src = fixtures / "example.mp4"
    facts = media.probe(src)
    logo = tmp_path / "logo.png"
    Image.new("RGB", (200, 200), MAGENTA).save(logo)
    keep = [(0.5, 3.5)]
    marked, plain = tmp_path / "marked.mp4", tmp_path / "plain.mp4"
    media.render_vertical(src, keep, marked, facts, watermark=logo)
    media.render_vertical(src, keep, plain, facts)
    x0 = 1080 - WATERMARK_MARGIN_X - WATERMARK_W
    box = (
        slice(WATERMARK_MARGIN_Y + 20, WATERMARK_MARGIN_Y + WATERMARK_W - 20),
        slice(x0 + 20, x0 + WATERMARK_W - 20),
    )
    with_logo, without = _frame(marked), _frame(plain)
    target = np.array(MAGENTA)
    # 85% opacity over the picture: close to the logo's colour, far from what was there
    assert np.abs(with_logo[box] - target).mean() < 60, with_logo[box].mean(axis=(0, 1))
    assert np.abs(without[box] - target).mean() > 80, without[box].mean(axis=(0, 1))
    # nothing else changed much: the rest of the frame matches the plain render
    rest = with_logo.copy()
    rest[: WATERMARK_MARGIN_Y + WATERMARK_W + 10, x0 - 10 :] = without[
        : WATERMARK_MARGIN_Y + WATERMARK_W + 10, x0 - 10 :
    ]
    assert np.abs(rest - without).mean() < 3
    assert media.probe(marked).width == 1080 and media.probe(marked).height == 1920
