"""Captions in any script: script detection, font choice, CJK line breaking by width
with kinsoku, right-to-left lines kept in logical order (pure parts of omniva.captions)."""

import re

import pytest

from omniva import captions
from omniva.records import Word

HL = "{\\c&H0000D4FF}"  # the default highlight FFD400 in ASS's BGR


def _words(tokens: list[str], step: float = 0.2) -> list[Word]:
    return [Word(t, i * step, i * step + step * 0.9) for i, t in enumerate(tokens)]


@pytest.mark.parametrize(
    ("text", "language", "script"),
    [
        ("Hello there, friends", None, "latin"),
        ("Привет, друзья", None, "cyrillic"),
        ("Καλημέρα φίλοι", None, "greek"),
        ("مرحبا بكم في القناة", None, "arabic"),
        ("שלום לכולם", None, "hebrew"),
        ("नमस्ते दोस्तों", None, "devanagari"),
        ("สวัสดีครับ", None, "thai"),
        ("안녕하세요", None, "hangul"),
        ("こんにちは、世界。", None, "japanese"),
        ("日本語", "ja", "japanese"),  # Han only: the language decides
        ("今天天气很好。", None, "chinese"),
        ("今天天氣很好", "zh-TW", "chinese-traditional"),
        ("我用 iPhone 15 拍的视频", None, "chinese"),  # mixed: the most letters (by width) win
        ("iPhone 15 Pro Max 很好", None, "latin"),
        ("iPhone 15 Pro Max 很好", "zh", "chinese"),  # the language's script when present
        ("See you", "ja", "latin"),
        ("123 !?", None, "latin"),
    ],
)
def test_detect_script(text, language, script):
    assert captions.detect_script(text, language) == script


def test_font_per_script_prefers_noto_and_falls_back_to_what_fontconfig_has():
    assert captions.choose_font("japanese") == "Noto Sans CJK JP"
    assert captions.choose_font("chinese") == "Noto Sans CJK SC"
    assert captions.choose_font("arabic") == "Noto Sans Arabic"
    assert captions.choose_font("hebrew") == "Noto Sans Hebrew"
    assert captions.choose_font("devanagari") == "Noto Sans Devanagari"
    assert captions.choose_font("thai") == "Noto Sans Thai"
    assert captions.choose_font("cyrillic") == "DejaVu Sans"
    # only Naskh installed for Arabic: the second choice
    assert captions.choose_font("arabic", ["DejaVu Sans", "Noto Naskh Arabic"]) == "Noto Naskh Arabic"
    # none of the list: any installed family covering the script (not a monospace one)
    assert captions.choose_font("japanese", ["IPAGothic", "Noto Sans Mono CJK JP"]) == "IPAGothic"
    # a creator's font wins when it covers the script, else the script's font
    assert captions.choose_font("latin", ["DejaVu Sans", "Montserrat"], "Montserrat") == "Montserrat"
    assert captions.choose_font("arabic", ["Noto Sans Arabic"], "Montserrat") == "Noto Sans Arabic"
    assert captions.choose_font("arabic", None, "Montserrat") == "Montserrat"  # nothing known
    # nothing at all covers it: the first name (libass asks fontconfig per glyph)
    assert captions.choose_font("thai", []) == "Noto Sans Thai"


def test_parse_fc_list_and_fontconfig_languages():
    out = "DejaVu Sans,DejaVu Sans Condensed\nNoto Sans CJK JP\nDejaVu Sans\n\n"
    assert captions.parse_fc_list(out) == ["DejaVu Sans", "DejaVu Sans Condensed", "Noto Sans CJK JP"]
    assert set(captions.FONTCONFIG_LANG) == set(captions.FONT_FAMILIES)


def test_ass_uses_the_script_font_and_a_style_per_other_script():
    installed = {"ja": ["Noto Sans CJK JP", "Noto Sans CJK SC"], "en": ["DejaVu Sans"]}
    asked = []

    def families_for(lang):
        asked.append(lang)
        return installed.get(lang, [])

    words = _words(list("こんにちは。")) + [
        Word(w, 5 + i * 0.4, 5.3 + i * 0.4) for i, w in enumerate(["see", "you"])
    ]
    ass = captions.to_ass(words, language="ja", families_for=families_for)
    assert "Style: Caption,Noto Sans CJK JP,76," in ass
    assert "Style: Caption latin,DejaVu Sans,76," in ass
    assert set(asked) == {"ja", "en"}
    events = [e for e in ass.splitlines() if e.startswith("Dialogue:")]
    assert all(",Caption," in e for e in events[:6]) and all(",Caption latin," in e for e in events[6:])
    # the default style stays DejaVu Sans for Latin
    assert "Style: Caption,DejaVu Sans,76," in captions.to_ass(_words(["hello", "world"]))


def test_widths():
    assert captions.text_width("abc") == 3
    assert captions.text_width("日本語") == 6
    assert captions.text_width("ＡＢ") == 4  # fullwidth
    assert captions.text_width("、。") == 4
    assert captions.text_width("بِسْمِ") == 3  # harakat have no width
    assert captions.text_width("ที่") == 1  # Thai base and two marks


def test_japanese_breaks_by_width_without_spaces_and_keeps_each_word_highlighted():
    # whisper's words for Japanese: characters and short runs
    tokens = [
        "今日",
        "は",
        "とても",
        "いい",
        "天気",
        "です",
        "ね",
        "、",
        "散歩",
        "に",
        "行き",
        "ましょう",
        "か",
        "。",
    ]
    words = _words(tokens)
    style = captions.CaptionStyle(max_chars=14)  # 7 CJK characters
    lines = captions.group_words(words, style)
    texts = [line.text() for line in lines]
    assert "".join(texts) == "".join(tokens)  # no spaces added, nothing lost or reordered
    assert " " not in "".join(texts)
    assert max(len(line.words) for line in lines) > style.max_words  # max_words is for spaced words
    for line in lines:
        assert captions.text_width(line.text()) <= 14 or line.text()[-1] in captions.NO_BREAK_BEFORE
        assert line.text()[0] not in captions.NO_BREAK_BEFORE  # kinsoku: 、 never starts a line
    assert texts == ["今日はとても", "いい天気ですね、", "散歩に行き", "ましょうか。"]
    # "、" hangs past the width on "ね"'s line rather than starting the next one
    assert captions.text_width(texts[1]) == 16
    ass = captions.to_ass(words, style, language="ja")
    events = [e for e in ass.splitlines() if e.startswith("Dialogue:")]
    assert len(events) == len(tokens)
    for event, token in zip(events, tokens, strict=True):
        text = event.split(",,0,0,0,,", 1)[1]
        assert f"{HL}{token}{{\\r}}" in text and text.count(HL) == 1
        assert " " not in text


def test_closing_punctuation_hangs_instead_of_starting_a_line():
    tokens = ["あいうえおかきく", "」", "と", "言った", "。"]
    lines = captions.group_words(_words(tokens), captions.CaptionStyle(max_chars=16))
    assert [line.text() for line in lines] == ["あいうえおかきく」", "と言った。"]
    # and an opening bracket never ends a line
    tokens = ["あいうえおかき", "「", "本", "」"]
    lines = captions.group_words(_words(tokens), captions.CaptionStyle(max_chars=16))
    assert all(not line.text().endswith("「") for line in lines)


def test_chinese_sentences_end_at_full_stops():
    tokens = ["我们", "开始", "吧", "。", "今天", "讲", "字幕", "。"]
    lines = captions.group_words(_words(tokens))
    assert [line.text() for line in lines] == ["我们开始吧。", "今天讲字幕。"]


def test_mixed_latin_inside_cjk_keeps_its_spaces():
    assert captions.join_words(["我", "用", "iPhone", "15", "拍", "的"]) == "我用iPhone 15拍的"
    assert captions.join_words(["Hello", "world"]) == "Hello world"


def test_latin_lines_unchanged():
    words = _words(["Hello", "there.", "This", "is", "a", "caption", "test", "with", "several", "words"])
    lines = captions.group_words(words, captions.CaptionStyle(max_words=4, max_chars=22))
    assert lines[0].text() == "Hello there."
    assert all(len(line.words) <= 4 and len(line.text()) <= 22 for line in lines)


@pytest.mark.parametrize(
    ("tokens", "language", "font"),
    [
        (["مرحبا", "بكم", "في", "القناة", "اليوم؟"], "ar", "Noto Sans Arabic"),
        (["שלום", "לכולם", "וברוכים", "הבאים"], "he", "Noto Sans Hebrew"),
    ],
)
def test_rtl_lines_stay_in_logical_order_with_the_spoken_word_highlighted(tokens, language, font):
    words = _words(tokens, 0.4)
    style = captions.CaptionStyle(max_words=8, max_chars=60)
    [line] = captions.group_words(words, style)
    assert line.text() == " ".join(tokens)  # logical order: libass lays it out right to left
    ass = captions.to_ass(words, style, language=language)
    caption_style = next(r for r in ass.splitlines() if r.startswith("Style: Caption,"))
    assert caption_style.startswith(f"Style: Caption,{font},")
    assert caption_style.endswith(",-1")  # Encoding -1: base direction from the text
    events = [e for e in ass.splitlines() if e.startswith("Dialogue:")]
    assert len(events) == len(tokens)
    for k, event in enumerate(events):
        text = event.split(",,0,0,0,,", 1)[1]
        plain = re.sub(r"\{[^}]*\}", "", text)
        assert plain == " ".join(tokens)  # no reversal, no split word
        assert f"{HL}{tokens[k]}{{\\r}}" in text and text.count(HL) == 1
    srt = captions.parse_srt(captions.to_srt(words, style))
    assert srt[0][2] == " ".join(tokens)
    # left-to-right styles keep Encoding 1
    assert next(r for r in captions.to_ass(_words(["hi"])).splitlines() if r.startswith("Style:")).endswith(
        ",1"
    )


def test_style_file_can_name_a_font(tmp_path):
    (tmp_path / "caption_styles.json").write_text('{"amal": {"font": "Noto Kufi Arabic"}}')
    style = captions.style_for("amal", tmp_path)
    ass = captions.to_ass(_words(["مرحبا", "بكم"]), style, language="ar")
    assert "Style: Caption,Noto Kufi Arabic," in ass
    ass = captions.to_ass(
        _words(["مرحبا", "بكم"]), style, language="ar", families_for=lambda lang: ["Noto Sans Arabic"]
    )
    assert "Style: Caption,Noto Sans Arabic," in ass  # not installed for Arabic: the script's font
