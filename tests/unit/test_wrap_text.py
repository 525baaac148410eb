"""Titles and captions wrapped to their block: a long title is cut between words (or CJK
characters), never inside a word, and ends in an ellipsis."""

from omniva.captions import text_width, wrap_text


def test_a_long_title_is_cut_between_words_never_inside_one():

    title = "Work, Energy, and Universal Gravitation: a lecture by Walter Lewin about pendulums"
    lines = wrap_text(title, 22, 2)
    assert len(lines) == 2 and lines[-1].endswith("…")
    words = set(title.replace(",", "").replace(":", "").split())
    for line in lines:
        assert text_width(line) <= 22
        assert all(w.strip(",:…") in words for w in line.split()), line  # whole words only
    assert wrap_text("短い", 10, 1) == ["短い"]
    cut = wrap_text("这是一个很长的标题用来测试中文换行", 10, 2)
    assert len(cut) == 2 and cut[-1].endswith("…") and all(text_width(c) <= 10 for c in cut)


def test_a_cut_never_leaves_a_bracket_open():
    title = "A quick monologue (Montreal Forced Aligner test recording)"
    assert wrap_text(title, 22, 2) == ["A quick monologue…"]  # not "(Montreal Forced…"
    closed = "Work (energy) and Universal Gravitation explained"
    assert wrap_text(closed, 22, 2) == ["Work (energy) and", "Universal Gravitation…"]
    assert wrap_text("The lecture on work (and energy and gravitation)", 22, 2) == ["The lecture on work…"]
