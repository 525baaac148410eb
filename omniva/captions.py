"""Word-timed captions: burned-in ASS (the spoken word highlighted) and an SRT sidecar.

Both take words already in the output timeline (``editing.words_in_output``), so
captions follow the cuts. Words are grouped into short lines (a few words, broken at
pauses and sentence ends); the ASS file has one event per word, showing the line with
that word in the highlight colour, so libass (ffmpeg's ``ass`` filter) draws a karaoke
style caption. The style can differ per creator: ``style_for`` reads
``<OMNIVA_HOME>/caption_styles.json`` (``{"creator": {"font": ..., "size": ...}}``).

Any script: the font is chosen from the script of the caption text (``detect_script``,
``choose_font``: the Noto family for Arabic, Hebrew, Devanagari, Thai and CJK, Noto
Sans or DejaVu Sans for Latin, Cyrillic and Greek), checked against the families
fontconfig says cover that script when the caller passes ``families_for`` (a function
of a fontconfig language code, e.g. the families of ``fc-list :lang=ja family``); a
creator's ``font`` is kept when it covers the script. Japanese, Chinese and Thai lines
are joined without spaces and broken by display width (East Asian wide characters count
two, combining marks none), never before closing punctuation or after opening
punctuation. Right-to-left lines (Arabic, Hebrew) stay in logical order in the file:
libass reorders them (FriBidi), its base direction detected from the text (style
``Encoding`` -1), so the highlighted word is still the spoken one.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path

from omniva.records import Word


@dataclass(frozen=True, slots=True)
class CaptionStyle:
    font: str = ""  # empty: chosen by the caption text's script (FONT_FAMILIES)
    size: int = 76
    bold: bool = True
    colour: str = "FFFFFF"  # RRGGBB
    highlight: str = "FFD400"  # the word being spoken
    outline_colour: str = "000000"
    outline: float = 5.0
    shadow: float = 0.0
    margin_v: int = 460  # from the bottom of a 1920-high frame
    max_words: int = 4  # words of a spaced script per line (not CJK / Thai characters)
    max_chars: int = 22  # display width per line: a CJK character counts two
    uppercase: bool = False
    burn_in: bool = True


def style_for(creator: str | None, home: Path | None) -> CaptionStyle:
    """The creator's caption style from ``caption_styles.json`` in ``home``, else the default."""
    style = CaptionStyle()
    if not home or not creator:
        return style
    path = Path(home) / "caption_styles.json"
    if not path.exists():
        return style
    data = json.loads(path.read_text()).get(creator) or {}
    known = {f.name for f in fields(CaptionStyle)}
    return replace(style, **{k: v for k, v in data.items() if k in known})


# --- scripts and fonts -------------------------------------------------------------------

# (first, last, script) code point ranges; anything else is "common" (digits, punctuation).
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x005A, "latin"),
    (0x0061, 0x007A, "latin"),
    (0x00C0, 0x024F, "latin"),
    (0x1E00, 0x1EFF, "latin"),
    (0x0370, 0x03FF, "greek"),
    (0x1F00, 0x1FFF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0590, 0x05FF, "hebrew"),
    (0xFB1D, 0xFB4F, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x08A0, 0x08FF, "arabic"),
    (0xFB50, 0xFDFF, "arabic"),
    (0xFE70, 0xFEFF, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0xA8E0, 0xA8FF, "devanagari"),
    (0x0E00, 0x0E7F, "thai"),
    (0x1100, 0x11FF, "hangul"),
    (0x3130, 0x318F, "hangul"),
    (0xAC00, 0xD7AF, "hangul"),
    (0x3040, 0x30FF, "kana"),
    (0x31F0, 0x31FF, "kana"),
    (0xFF66, 0xFF9F, "kana"),
    (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"),
    (0xF900, 0xFAFF, "han"),
    (0x20000, 0x3FFFF, "han"),
)

SCRIPTS = (
    "latin",
    "cyrillic",
    "greek",
    "arabic",
    "hebrew",
    "devanagari",
    "thai",
    "hangul",
    "japanese",
    "chinese",
)
RTL_SCRIPTS = frozenset({"arabic", "hebrew"})

# Font families per script, best first (the Debian packages fonts-noto-core, fonts-noto-cjk
# and fonts-dejavu-core install them; scripts/setup.sh lists them).
FONT_FAMILIES: dict[str, tuple[str, ...]] = {
    "latin": ("DejaVu Sans", "Noto Sans"),
    "cyrillic": ("DejaVu Sans", "Noto Sans"),
    "greek": ("DejaVu Sans", "Noto Sans"),
    "arabic": ("Noto Sans Arabic", "Noto Naskh Arabic", "DejaVu Sans"),
    "hebrew": ("Noto Sans Hebrew", "DejaVu Sans"),
    "devanagari": ("Noto Sans Devanagari", "Noto Serif Devanagari"),
    "thai": ("Noto Sans Thai", "Noto Serif Thai"),
    "hangul": ("Noto Sans CJK KR", "Noto Sans KR"),
    "japanese": ("Noto Sans CJK JP", "Noto Sans JP", "Noto Sans CJK SC"),
    "chinese": ("Noto Sans CJK SC", "Noto Sans SC", "Noto Sans CJK JP"),
    "chinese-traditional": ("Noto Sans CJK TC", "Noto Sans CJK HK", "Noto Sans CJK SC"),
}

# The fontconfig language that asks for a script's coverage: ``fc-list :lang=<code> family``.
FONTCONFIG_LANG: dict[str, str] = {
    "latin": "en",
    "cyrillic": "ru",
    "greek": "el",
    "arabic": "ar",
    "hebrew": "he",
    "devanagari": "hi",
    "thai": "th",
    "hangul": "ko",
    "japanese": "ja",
    "chinese": "zh-cn",
    "chinese-traditional": "zh-tw",
}


# The script a language is written in (where it is not Latin), for a language code as
# whisper gives it.
LANGUAGE_SCRIPTS: dict[str, str] = {
    "ja": "japanese",
    "zh": "chinese",
    "yue": "chinese",
    "ko": "hangul",
    "ar": "arabic",
    "fa": "arabic",
    "ur": "arabic",
    "ps": "arabic",
    "he": "hebrew",
    "yi": "hebrew",
    "hi": "devanagari",
    "mr": "devanagari",
    "ne": "devanagari",
    "sa": "devanagari",
    "th": "thai",
    "ru": "cyrillic",
    "uk": "cyrillic",
    "bg": "cyrillic",
    "sr": "cyrillic",
    "be": "cyrillic",
    "mk": "cyrillic",
    "kk": "cyrillic",
    "el": "greek",
}


def char_script(ch: str) -> str:
    """The script of one character: a name of ``_RANGES`` ("kana", "han", ...) or "common"."""
    cp = ord(ch)
    for first, last, script in _RANGES:
        if first <= cp <= last:
            return script
    return "common"


def detect_script(text: str, language: str | None = None) -> str:
    """The main script of ``text``, one of ``SCRIPTS`` (or "chinese-traditional" when the
    language says so); "latin" when it has no letters. Han characters are Japanese when
    kana are among them or the language is Japanese, Korean with Hangul, else Chinese. The
    language's script wins when the text has any of it; else the script with the most
    letters (weighed by display width)."""
    counts: dict[str, int] = {}
    for ch in text:
        s = char_script(ch)
        if s != "common":  # weighed by width: a CJK character says as much as a short word
            counts[s] = counts.get(s, 0) + char_width(ch)
    lang = (language or "").lower().replace("_", "-")
    if not counts:
        return "latin"
    kana, han, hangul = counts.pop("kana", 0), counts.pop("han", 0), counts.get("hangul", 0)
    if kana or han:
        if kana or lang.startswith("ja"):
            cjk = "japanese"
        elif hangul or lang.startswith("ko"):
            cjk = "hangul"
        elif lang in {"zh-tw", "zh-hk", "zh-hant", "yue"}:
            cjk = "chinese-traditional"
        else:
            cjk = "chinese"
        counts[cjk] = counts.get(cjk, 0) + kana + han
    spoken = LANGUAGE_SCRIPTS.get(lang.split("-")[0])
    for s in counts:  # the language's own script, when the text has it, is the main one
        if spoken and s.split("-")[0] == spoken:
            return s
    order = [*SCRIPTS, "chinese-traditional"]
    return max(counts, key=lambda s: (counts[s], -order.index(s)))


def parse_fc_list(output: str) -> list[str]:
    """Family names in ``fc-list : family`` output (one font a line, aliases after commas)."""
    seen: dict[str, None] = {}
    for row in output.splitlines():
        for name in row.split(","):
            name = name.strip()
            if name:
                seen.setdefault(name, None)
    return list(seen)


def choose_font(script: str, installed: Collection[str] | None = None, preferred: str = "") -> str:
    """The font family for ``script``. ``installed``: the families fontconfig has that cover
    the script (``fc-list :lang=FONTCONFIG_LANG[script] family``), None when unknown.
    ``preferred`` (a creator's font) wins when it is installed for the script (or nothing is
    known); else the first of ``FONT_FAMILIES[script]`` installed; else any installed family
    covering the script; else the first of the list (libass then asks fontconfig for a
    fallback per glyph)."""
    families = FONT_FAMILIES.get(script, FONT_FAMILIES["latin"])
    if installed is None:
        return preferred or families[0]
    have = {f.casefold(): f for f in installed}
    if preferred and preferred.casefold() in have:
        return preferred
    for family in families:
        if family.casefold() in have:
            return have[family.casefold()]
    plain = sorted(f for f in installed if "mono" not in f.casefold())
    if plain:
        return plain[0]
    return preferred or families[0]


# --- widths and line breaking -------------------------------------------------------------

# Kinsoku: never at the start of a line (closing punctuation, small kana, the long vowel
# mark), never at the end (opening brackets).
NO_BREAK_BEFORE = frozenset(
    "、。，．,.・：；:;？！?!）)]］｝}〕〉》」』】〙〗〟’”»ゝゞーァィゥェォッャュョヮヵヶぁぃぅぇぉっゃゅょゎゕゖㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ々〻‐゠–〜～…‥"
)
NO_BREAK_AFTER = frozenset("（([［｛{〔〈《「『【〘〖〝‘“«")  # opening brackets and quotes
CLOSING = frozenset("）)]］｝}〕〉》」』】〙〗〟’”»")  # ... and what closes them
_SENTENCE_END = re.compile(r"[.!?。！？…؟।۔]$")


def char_width(ch: str) -> int:
    """Display width of a character: 2 for East Asian wide/fullwidth, 0 for combining marks
    and format characters (Arabic harakat, Thai vowel signs, joiners), else 1."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_width(text: str) -> int:
    return sum(char_width(c) for c in text)


def _unspaced(ch: str) -> bool:
    """A character of a script written without spaces between words (or CJK punctuation)."""
    s = char_script(ch)
    if s in ("han", "kana", "thai"):
        return True
    return s == "common" and unicodedata.east_asian_width(ch) in ("W", "F")


def _clean(text: str) -> str:
    return text.strip().replace("\n", " ")


def join_words(tokens: Sequence[str]) -> str:
    """Tokens joined in logical (spoken) order: with a space, except where either side of
    the join is CJK or Thai (those scripts put no spaces between words)."""
    out = ""
    for t in (_clean(x) for x in tokens):
        if not t:
            continue
        if out and not (_unspaced(out[-1]) or _unspaced(t[0])):
            out += " "
        out += t
    return out


@dataclass(frozen=True, slots=True)
class Line:
    words: tuple[Word, ...]

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end

    def text(self) -> str:
        return join_words([w.word for w in self.words])


def group_words(
    words: Sequence[Word],
    style: CaptionStyle = CaptionStyle(),
    pause_s: float = 0.6,
    breaks: Sequence[float] = (),
) -> list[Line]:
    """Short caption lines: at most ``max_words`` (of a spaced script) and ``max_chars``
    of display width, broken at pauses, at sentence ends and at ``breaks`` (the edit's
    cuts, in output time), never before closing or after opening punctuation (which then
    hangs past the width). Words are never split or reordered."""
    lines: list[Line] = []
    cur: list[Word] = []
    for w in words:
        word = _clean(w.word)
        if not word:
            continue
        if cur:
            last = _clean(cur[-1].word)
            unspaced = any(_unspaced(c) for x in (*cur, w) for c in x.word)
            cut = any(cur[-1].end <= b <= w.start + 1e-3 for b in breaks)
            soft = (
                (len(cur) >= style.max_words and not unspaced)
                or text_width(join_words([x.word for x in (*cur, w)])) > style.max_chars
                or w.start - cur[-1].end > pause_s
                or bool(_SENTENCE_END.search(last))
            )
            kinsoku = word[0] in NO_BREAK_BEFORE or last[-1] in NO_BREAK_AFTER
            if cut or (soft and not kinsoku):
                lines.append(Line(tuple(cur)))
                cur = []
        cur.append(w)
    if cur:
        lines.append(Line(tuple(cur)))
    return lines


# --- ASS and SRT ---------------------------------------------------------------------------


def _ass_time(t: float) -> str:
    cs = int(round(max(0.0, t) * 100))
    h, rem = divmod(cs, 360000)
    m, rem = divmod(rem, 6000)
    s, cs = divmod(rem, 100)
    return f"{h}:{m:02d}:{s:02d}.{cs:02d}"


def _srt_time(t: float) -> str:
    ms = int(round(max(0.0, t) * 1000))
    h, rem = divmod(ms, 3600000)
    m, rem = divmod(rem, 60000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def _ass_colour(rrggbb: str) -> str:
    rr, gg, bb = rrggbb[0:2], rrggbb[2:4], rrggbb[4:6]
    return f"&H00{bb}{gg}{rr}".upper()


def _ass_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("{", "(").replace("}", ")")


def _timed_lines(lines: list[Line], duration: float | None) -> list[tuple[Line, float, float]]:
    """Each line shown from its first word until the next line starts (held up to 0.5 s)."""
    out = []
    for i, line in enumerate(lines):
        nxt = lines[i + 1].start if i + 1 < len(lines) else None
        end = line.end + 0.5 if nxt is None else min(nxt, line.end + 0.5)
        if duration is not None:
            end = min(end, duration)
        out.append((line, line.start, max(end, line.end)))
    return out


def caption_fonts(
    words: Sequence[Word],
    style: CaptionStyle = CaptionStyle(),
    language: str | None = None,
    families_for: Callable[[str], Collection[str]] | None = None,
    breaks: Sequence[float] = (),
) -> dict[str, str]:
    """The font of each script the captions use ({script: family}), the main script first.
    ``families_for(fontconfig_lang)`` lists the installed families covering a language."""
    scripts = [detect_script(join_words([w.word for w in words]), language)]
    for line in group_words(words, style, breaks=breaks):
        s = detect_script(line.text(), language)
        if s not in scripts:
            scripts.append(s)
    out = {}
    for s in scripts:
        installed = families_for(FONTCONFIG_LANG.get(s, "en")) if families_for else None
        out[s] = choose_font(s, installed, style.font)
    return out


def _ass_style(name: str, font: str, style: CaptionStyle, rtl: bool) -> str:
    bold = -1 if style.bold else 0
    # Encoding -1: libass finds the base direction from the text (right-to-left lines keep
    # their punctuation at the left end); 1 (default charset) keeps left-to-right.
    encoding = -1 if rtl else 1
    return (
        f"Style: {name},{font},{style.size},{_ass_colour(style.colour)},{_ass_colour(style.highlight)},"
        f"{_ass_colour(style.outline_colour)},&H80000000,{bold},0,0,0,100,100,0,0,1,{style.outline},"
        f"{style.shadow},2,60,60,{style.margin_v},{encoding}"
    )


@dataclass(frozen=True, slots=True)
class TextBlock:
    """Text shown for the whole clip at a fixed place (an audiogram's title, the creator's
    name): broken into at most ``max_lines`` lines of ``max_chars`` display width as the
    captions are (``wrap_text``), its font chosen by its script, top-centred on (x, y)."""

    name: str  # its ASS style's name
    text: str
    x: int
    y: int
    size: int
    colour: str = "FFFFFF"
    bold: bool = True
    max_chars: int = 24
    max_lines: int = 2
    outline: float = 3.0


def _tokens(text: str) -> list[str]:
    """Words of ``text`` to break lines between: spaced words, and each character of a run
    written without spaces (CJK, Thai)."""
    out: list[str] = []
    for word in text.split():
        run = ""
        for ch in word:
            if _unspaced(ch):
                if run:
                    out.append(run)
                    run = ""
                out.append(ch)
            else:
                run += ch
        if run:
            out.append(run)
    return out


def _first_unclosed(tokens: Sequence[str]) -> int | None:
    """The index of the token holding the first bracket or quote the tokens open and never close."""
    opened: list[int] = []
    for k, tok in enumerate(tokens):
        for ch in tok:
            if ch in NO_BREAK_AFTER:
                opened.append(k)
            elif ch in CLOSING and opened:
                opened.pop()
    return opened[0] if opened else None


def wrap_text(text: str, max_chars: int, max_lines: int) -> list[str]:
    """``text`` in lines of at most ``max_chars`` display width, broken where captions break
    (between spaced words and CJK / Thai characters, never before closing or after opening
    punctuation), at most ``max_lines`` (the last one ends in "…" when text was left out)."""
    lines: list[list[str]] = []
    cur: list[str] = []
    for tok in _tokens(text):
        too_wide = text_width(join_words([*cur, tok])) > max_chars
        if cur and too_wide and tok[0] not in NO_BREAK_BEFORE and cur[-1][-1] not in NO_BREAK_AFTER:
            lines.append(cur)
            cur = []
        cur.append(tok)
    if cur:
        lines.append(cur)
    if len(lines) > max_lines:
        # The last line keeps whole words (a cut never falls inside one), then "…".
        head = [list(line) for line in lines[: max_lines - 1]]
        last = list(lines[max_lines - 1])
        while len(last) > 1 and text_width(join_words(last) + "…") > max_chars:
            last.pop()
        # ... and never leaves a bracket open: cut before it (or end the line before instead).
        opened = _first_unclosed(last)
        if opened is not None:
            last = last[:opened] or (head.pop() if head else last)
        shown = join_words(last).rstrip(",;:-–— ")
        while shown and text_width(shown + "…") > max_chars:  # one word wider than the line
            shown = shown[:-1].rstrip()
        return [*(join_words(line) for line in head), shown + "…"]
    return [join_words(line) for line in lines]


def to_ass(
    words: Sequence[Word],
    style: CaptionStyle = CaptionStyle(),
    width: int = 1080,
    height: int = 1920,
    duration: float | None = None,
    breaks: Sequence[float] = (),
    *,
    language: str | None = None,
    families_for: Callable[[str], Collection[str]] | None = None,
    blocks: Sequence[TextBlock] = (),
    margins: Sequence[tuple[float, float, int]] = (),
) -> str:
    """An ASS script: one event per spoken word, its line drawn with that word highlighted.

    The style "Caption" has the font of the captions' main script; a line in another script
    uses the style "Caption <script>" with that script's font (``caption_fonts``). Text stays
    in logical order (libass lays out right-to-left lines). ``blocks`` are drawn for the
    whole ``duration`` (each its own style, font by its script). ``margins``: (start, end,
    MarginV) spans of the output timeline; a line starting in one is drawn that far from the
    bottom instead of the style's ``margin_v`` (captions kept off a face, ``layout.caption_margins``)."""
    fonts = caption_fonts(words, style, language, families_for, breaks)
    main = next(iter(fonts))
    names = {s: "Caption" if s == main else f"Caption {s}" for s in fonts}
    block_styles, block_events = _blocks(blocks, style, duration, language, families_for)
    head = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
        "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, "
        "Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        *(_ass_style(names[s], f, style, s in RTL_SCRIPTS) for s, f in fonts.items()),
        *block_styles,
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    events = list(block_events)
    hl = _ass_colour(style.highlight)
    for line, start, end in _timed_lines(group_words(words, style, breaks=breaks), duration):
        ws = list(line.words)
        name = names.get(detect_script(line.text(), language), "Caption")
        margin = next((m for a, b, m in margins if a <= start < b and m != style.margin_v), 0)
        for k, w in enumerate(ws):
            a = start if k == 0 else w.start
            b = ws[k + 1].start if k + 1 < len(ws) else end
            if b <= a:
                continue
            events.append(
                f"Dialogue: 0,{_ass_time(a)},{_ass_time(b)},{name},,0,0,{margin},,{_highlighted(ws, k, hl, style)}"
            )
    return "\n".join(head + events) + "\n"


def _families(script: str, families_for: Callable[[str], Collection[str]] | None) -> Collection[str] | None:
    return families_for(FONTCONFIG_LANG.get(script, "en")) if families_for else None


def _blocks(
    blocks: Sequence[TextBlock],
    style: CaptionStyle,
    duration: float | None,
    language: str | None,
    families_for: Callable[[str], Collection[str]] | None,
) -> tuple[list[str], list[str]]:
    """The ASS styles and events of fixed text blocks (``to_ass``)."""
    styles, events = [], []
    end = _ass_time(duration) if duration is not None else "9:59:59.00"
    for b in blocks:
        lines = wrap_text(b.text, b.max_chars, b.max_lines)
        if not lines:
            continue
        script = detect_script(" ".join(lines), language)
        font = choose_font(script, _families(script, families_for), style.font)
        look = replace(style, size=b.size, colour=b.colour, bold=b.bold, outline=b.outline)
        styles.append(_ass_style(b.name, font, look, script in RTL_SCRIPTS))
        text = "\\N".join(_ass_escape(line) for line in lines)
        events.append(
            f"Dialogue: 1,{_ass_time(0.0)},{end},{b.name},,0,0,0,,{{\\an8\\pos({b.x},{b.y})}}{text}"
        )
    return styles, events


def _highlighted(ws: Sequence[Word], k: int, hl: str, style: CaptionStyle) -> str:
    """The line's text, word ``k`` in the highlight colour, in logical order, joined as
    ``join_words`` joins (no spaces in CJK / Thai)."""
    out = ""
    prev = ""
    for j, x in enumerate(ws):
        raw = _clean(x.word)
        if not raw:
            continue
        t = _ass_escape(raw.upper() if style.uppercase else raw)
        if prev and not (_unspaced(prev[-1]) or _unspaced(raw[0])):
            out += " "
        out += f"{{\\c{hl}}}{t}{{\\r}}" if j == k else t
        prev = raw
    return out


def to_srt(
    words: Sequence[Word],
    style: CaptionStyle = CaptionStyle(),
    duration: float | None = None,
    breaks: Sequence[float] = (),
) -> str:
    """SubRip cues, one per caption line, in the output timeline."""
    cues = []
    for i, (line, start, end) in enumerate(
        _timed_lines(group_words(words, style, breaks=breaks), duration), 1
    ):
        cues.append(f"{i}\n{_srt_time(start)} --> {_srt_time(end)}\n{line.text()}\n")
    return "\n".join(cues)


def parse_srt(text: str) -> list[tuple[float, float, str]]:
    """(start, end, text) cues of an SRT file (tests, checks)."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        rows = block.strip().splitlines()
        if len(rows) < 3:
            continue
        m = re.match(r"(\d+):(\d+):(\d+),(\d+) --> (\d+):(\d+):(\d+),(\d+)", rows[1])
        if not m:
            continue
        g = [int(x) for x in m.groups()]
        out.append(
            (
                g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000,
                g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000,
                " ".join(rows[2:]),
            )
        )
    return out
