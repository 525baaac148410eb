"""Word-timed captions: burned-in ASS (the spoken word highlighted) and an SRT sidecar.

Both take words already in the output timeline (``editing.words_in_output``), so
captions follow the cuts. Words are grouped into short lines (a few words, broken at
pauses and sentence ends); the ASS file has one event per word, showing the line with
that word in the highlight colour, so libass (ffmpeg's ``ass`` filter) draws a karaoke
style caption. The style can differ per creator: ``style_for`` reads
``<OMNIVA_HOME>/caption_styles.json`` (``{"creator": {"font": ..., "size": ...}}``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from omniva.records import Word


@dataclass(frozen=True, slots=True)
class CaptionStyle:
    font: str = "DejaVu Sans"
    size: int = 76
    bold: bool = True
    colour: str = "FFFFFF"  # RRGGBB
    highlight: str = "FFD400"  # the word being spoken
    outline_colour: str = "000000"
    outline: float = 5.0
    shadow: float = 0.0
    margin_v: int = 460  # from the bottom of a 1920-high frame
    max_words: int = 4
    max_chars: int = 22
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
        return " ".join(_clean(w.word) for w in self.words)


def _clean(text: str) -> str:
    return text.strip().replace("\n", " ")


def group_words(
    words: Sequence[Word],
    style: CaptionStyle = CaptionStyle(),
    pause_s: float = 0.6,
    breaks: Sequence[float] = (),
) -> list[Line]:
    """Short caption lines: at most ``max_words`` / ``max_chars``, broken at pauses, at
    sentence ends and at ``breaks`` (the edit's cuts, in output time)."""
    lines: list[Line] = []
    cur: list[Word] = []
    for w in words:
        if not _clean(w.word):
            continue
        if cur:
            text = " ".join(_clean(x.word) for x in [*cur, w])
            if (
                len(cur) >= style.max_words
                or len(text) > style.max_chars
                or w.start - cur[-1].end > pause_s
                or re.search(r"[.!?]$", cur[-1].word.strip())
                or any(cur[-1].end <= b <= w.start + 1e-3 for b in breaks)
            ):
                lines.append(Line(tuple(cur)))
                cur = []
        cur.append(w)
    if cur:
        lines.append(Line(tuple(cur)))
    return lines


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


def to_ass(
    words: Sequence[Word],
    style: CaptionStyle = CaptionStyle(),
    width: int = 1080,
    height: int = 1920,
    duration: float | None = None,
    breaks: Sequence[float] = (),
) -> str:
    """An ASS script: one event per spoken word, its line drawn with that word highlighted."""
    bold = -1 if style.bold else 0
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
        f"Style: Caption,{style.font},{style.size},{_ass_colour(style.colour)},{_ass_colour(style.highlight)},"
        f"{_ass_colour(style.outline_colour)},&H80000000,{bold},0,0,0,100,100,0,0,1,{style.outline},"
        f"{style.shadow},2,60,60,{style.margin_v},1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    events = []
    hl = _ass_colour(style.highlight)
    for line, start, end in _timed_lines(group_words(words, style, breaks=breaks), duration):
        ws = list(line.words)
        for k, w in enumerate(ws):
            a = start if k == 0 else w.start
            b = ws[k + 1].start if k + 1 < len(ws) else end
            if b <= a:
                continue
            parts = []
            for j, x in enumerate(ws):
                t = _ass_escape(_clean(x.word))
                t = t.upper() if style.uppercase else t
                parts.append(f"{{\\c{hl}}}{t}{{\\r}}" if j == k else t)
            events.append(f"Dialogue: 0,{_ass_time(a)},{_ass_time(b)},Caption,,0,0,0,,{' '.join(parts)}")
    return "\n".join(head + events) + "\n"


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


def style_record(style: CaptionStyle) -> dict:
    return asdict(style)
