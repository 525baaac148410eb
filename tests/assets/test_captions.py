"""Captions: word-timed ASS (active word highlighted), SRT sidecar in the output timeline."""

import json
import re

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
