"""Captions: word-timed ASS (active word highlighted), SRT sidecar in the output timeline."""

import json
import os
import re
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from omniva import captions, editing
from omniva.records import Word
from omniva_resources import media


def _words(text: str, start: float = 0.0, step: float = 0.4) -> list[Word]:
    return [Word(t, start + i * step, start + i * step + 0.3) for i, t in enumerate(text.split())]


def test_lines_are_short_and_break_at_sentences_and_pauses():
    words = _words("Hello there. This is a caption test with several words") + _words("after pause", 10.0)
    lines = captions.group_words(words, captions.CaptionStyle(max_words=4, max_chars=22))
    texts = [line.text() for line in lines]
    assert texts[0] == "Hello there."
    assert all(len(line.words) <= 4 and len(line.text()) <= 22 for line in lines)
    assert texts[-1] == "after pause"


def test_ass_highlights_each_word_in_turn():
    words = _words("one two three")
    style = captions.CaptionStyle(highlight="FFD400", font="DejaVu Sans", size=80)
    ass = captions.to_ass(words, style, 1080, 1920)
    assert "PlayResX: 1080" in ass and "PlayResY: 1920" in ass
    assert "Style: Caption,DejaVu Sans,80," in ass
    events = [line for line in ass.splitlines() if line.startswith("Dialogue:")]
    assert len(events) == 3
    hl = "{\\c&H0000D4FF}"  # ASS colours are BGR
    for k, (event, word) in enumerate(zip(events, ["one", "two", "three"], strict=True)):
        assert f"{hl}{word}{{\\r}}" in event
        assert event.count(hl) == 1, event
        start = event.split(",")[1]
        assert start == captions._ass_time(0.0 if k == 0 else words[k].start)
    assert captions._ass_escape("a{b}\\c") == "a(b)\\\\c"


def test_srt_uses_the_output_timeline_after_cuts():
    words = _words("keep these words", 1.0) + _words("also kept", 10.0)
    keep = [(0.9, 2.3), (9.9, 11.0)]
    xf = 1 / 30
    out = editing.words_in_output(words, keep, xf)
    cuts = editing.segment_starts(keep, xf)[1:]
    cues = captions.parse_srt(captions.to_srt(out, duration=editing.output_duration(keep, xf), breaks=cuts))
    assert [c[2] for c in cues] == ["keep these words", "also kept"]
    second_start = cues[1][0]
    assert second_start == pytest.approx((2.3 - 0.9) - xf + (10.0 - 9.9), abs=0.002)
    assert cues[-1][1] <= editing.output_duration(keep, xf) + 0.001


def test_style_per_creator(tmp_path):
    (tmp_path / "caption_styles.json").write_text(
        json.dumps({"lewin": {"size": 60, "uppercase": True, "x": 1}})
    )
    assert captions.style_for("lewin", tmp_path).size == 60
    assert captions.style_for("lewin", tmp_path).uppercase is True
    assert captions.style_for("other", tmp_path) == captions.CaptionStyle()
    ass = captions.to_ass(_words("loud words"), captions.style_for("lewin", tmp_path))
    assert "LOUD" in ass


@pytest.mark.slow
def test_captions_are_burned_in_and_the_sidecar_matches(fixtures, tmp_path):
    src = fixtures / "example.mp4"
    facts = media.probe(src)
    words = [Word("This", 1.0, 1.4), Word("is", 1.4, 1.6), Word("a", 1.6, 1.7), Word("caption", 1.7, 2.4)]
    keep = [(0.4833, 3.0167), (4.0167, 6.0167)]
    xf = 1 / facts.fps
    out_words = editing.words_in_output(words, keep, xf)
    total = editing.output_duration(keep, xf)
    ass = media.write_text_atomic(tmp_path / "c.ass", captions.to_ass(out_words, duration=total))
    srt = media.write_text_atomic(tmp_path / "c.srt", captions.to_srt(out_words, duration=total))
    with_caps = tmp_path / "with.mp4"
    without = tmp_path / "without.mp4"
    media.render_vertical(src, keep, with_caps, facts, captions_ass=ass, crossfade_s=xf)
    media.render_vertical(src, keep, without, facts, crossfade_s=xf)
    t = out_words[-1].start + 0.1  # "caption" is highlighted now
    band = slice(1920 - 460 - 140, 1920 - 460 + 20)

    def frame(path):
        f = media.probe(path)
        _, frames, _ = media.sample_frames(path, [(t, t + 0.3)], f, 0.0, 5.0, 1080)
        return frames[0].astype(int)

    diff = np.abs(frame(with_caps) - frame(without))
    assert diff[band].mean() > 8 * max(diff[:600].mean(), 0.5), (diff[band].mean(), diff[:600].mean())
    cues = captions.parse_srt(srt.read_text())
    assert cues and re.sub(r"\W", "", cues[0][2]).lower() == "thisisacaption"
    assert 0.4 < cues[0][0] < 0.6  # 1.0 s in the source is 0.517 s into the clip


# --- captions in other scripts: glyphs drawn, not tofu; right-to-left laid out -------------
#
# The check: a caption's "ink" is where the captioned frame differs from the same frame
# rendered without captions (inside the caption band). Two different texts with the same
# number of characters and the same word highlighted give two ink masks; with real glyphs
# they overlap little (each character has its own shape), with tofu (every missing glyph
# is the font's same .notdef box) they coincide. The ink must also be a real caption's area
# (DejaVu's boxes are small; another font's could be glyph-sized, so area alone is no check). ``test_tofu_is_what_the_check_catches``
# shows the measure on a tofu render (fontconfig limited to DejaVu, which has no CJK), so
# the threshold is not a guess.

JA_A, JA_B = list("字幕の表示テスト"), list("日本語で話します")  # 8 characters each
AR_A = ["مرحبا", "بكم", "في", "القناة"]
AR_B = ["شكرا", "لكم", "على", "المتابعة"]
BAND = slice(1920 - 460 - 200, 1920 - 460 + 40)
DISTINCT_IOU = 0.5  # ink overlap of two different texts below this: distinct glyphs


def _timed(tokens: list[str], start: float, first: float = 0.6, step: float = 0.12) -> list[Word]:
    """The first word held ``first`` s (highlighted while the frame is sampled), then ``step``."""
    out, t = [], start
    for i, tok in enumerate(tokens):
        d = first if i == 0 else step
        out.append(Word(tok, round(t, 3), round(t + d - 0.02, 3)))
        t += d
    return out


def _ink(with_caps: np.ndarray, without: np.ndarray) -> np.ndarray:
    """The caption's fill in the band: changed by the captions and bright (the white or
    yellow letters, not their black outline, which blurs dense CJK strokes into blocks)."""
    changed = np.abs(with_caps - without).max(axis=2)[BAND] > 60
    return changed & (with_caps[BAND].max(axis=2) > 180)


def _rgb(png: Path) -> np.ndarray:
    img = cv2.imread(str(png))
    assert img is not None, png
    return img[:, :, ::-1].astype(int)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def _yellow_x(frame: np.ndarray) -> float:
    """Mean x of the highlight colour (FFD400) in the caption band."""
    band = frame[BAND]
    m = (band[..., 0] > 190) & (band[..., 1] > 160) & (band[..., 2] < 100)
    assert m.sum() > 150, m.sum()
    return float(np.nonzero(m)[1].mean())


@pytest.mark.slow
def test_japanese_and_arabic_captions_are_drawn_in_their_scripts(fixtures, tmp_path):
    src = fixtures / "example.mp4"
    facts = media.probe(src)
    keep = [(0.5, 8.0)]
    # separated by pauses > 0.6 s, so each text is its own caption line
    ja_a, ja_b = _timed(JA_A, 0.2), _timed(JA_B, 2.5)
    ar_a, ar_b = _timed(AR_A, 4.5, step=0.15), _timed(AR_B, 6.3, step=0.15)
    words = ja_a + ja_b + ar_a + ar_b
    ass_text = captions.to_ass(words, duration=7.5, language="ja")
    assert "Style: Caption,Noto Sans CJK JP," in ass_text
    assert "Style: Caption arabic,Noto Sans Arabic," in ass_text
    ass = media.write_text_atomic(tmp_path / "c.ass", ass_text)
    with_caps, without = tmp_path / "with.mp4", tmp_path / "without.mp4"
    media.render_vertical(src, keep, with_caps, facts, captions_ass=ass)
    media.render_vertical(src, keep, without, facts)

    def frame(path, t):  # in colour (sample_frames gives grey): the highlight is checked
        png = tmp_path / f"{path.stem}-{t:.2f}.png"
        cmd = [media.DEFAULT_TOOLS.ffmpeg, "-v", "error", "-y", "-ss", f"{t:.3f}", "-i", str(path)]
        subprocess.run([*cmd, "-frames:v", "1", str(png)], check=True)
        return _rgb(png)

    at = {
        name: ws[0].start + 0.3
        for name, ws in [("ja_a", ja_a), ("ja_b", ja_b), ("ar_a", ar_a), ("ar_b", ar_b)]
    }
    shot = {name: frame(with_caps, t) for name, t in at.items()}
    ink = {name: _ink(shot[name], frame(without, t)) for name, t in at.items()}
    for name, mask in ink.items():  # a real caption drawn: thousands of pixels of ink
        assert mask.sum() > 2500, (name, mask.sum())
    # distinct characters: the two Japanese lines (same length, first character
    # highlighted) share little ink; tofu boxes would coincide (see the test below)
    assert _iou(ink["ja_a"], ink["ja_b"]) < DISTINCT_IOU, _iou(ink["ja_a"], ink["ja_b"])
    assert _iou(ink["ar_a"], ink["ar_b"]) < DISTINCT_IOU, _iou(ink["ar_a"], ink["ar_b"])
    # right to left: the first spoken Arabic word (highlighted) is drawn at the right,
    # the first Japanese character at the left
    assert _yellow_x(shot["ar_a"]) > 540 + 100
    assert _yellow_x(shot["ar_b"]) > 540 + 100
    assert _yellow_x(shot["ja_a"]) < 540 - 150


def _still(tmp_path: Path, tokens: list[str], name: str, env: dict[str, str] | None) -> np.ndarray:
    """One 1080x1920 frame of a plain background with the caption of ``tokens`` (or none)."""
    vf = "null"
    if tokens:
        ass = tmp_path / f"{name}.ass"
        ass.write_text(captions.to_ass(_timed(tokens, 0.0), language="ja"))
        vf = f"ass=filename='{ass}'"
    png = tmp_path / f"{name}.png"
    cmd = [
        media.DEFAULT_TOOLS.ffmpeg,
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        "color=c=0x204060:s=1080x1920:d=1",
    ]
    subprocess.run([*cmd, "-vf", vf, "-ss", "0.3", "-frames:v", "1", str(png)], check=True, env=env)
    return _rgb(png)


@pytest.mark.slow
def test_tofu_is_what_the_check_catches(tmp_path):
    conf = tmp_path / "fonts.conf"  # fontconfig that knows only DejaVu: no CJK glyphs at all
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{tmp_path / 'fc'}</cachedir></fontconfig>"
    )
    tofu_env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
    blank = _still(tmp_path, [], "blank", None)
    real = [_ink(_still(tmp_path, t, f"real{i}", None), blank) for i, t in enumerate((JA_A, JA_B))]
    tofu = [_ink(_still(tmp_path, t, f"tofu{i}", tofu_env), blank) for i, t in enumerate((JA_A, JA_B))]
    assert min(m.sum() for m in real) > 2500
    assert min(m.sum() for m in tofu) > 50  # the boxes are drawn, all alike
    assert _iou(*real) < DISTINCT_IOU, _iou(*real)
    assert _iou(*tofu) > 0.9, _iou(*tofu)
