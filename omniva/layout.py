"""Which picture a Short gets, and where an audiogram puts its parts.

A clip whose picture barely changes (a podcast's cover, a slide, a colour card) makes a
poor 9:16 crop: nothing moves but the captions. Such a clip gets the **audiogram**: the
cover art over a blurred, darkened fill of itself, a waveform moving with the voice, the
title at the top, large captions in the lower third, the creator's name and a thin
progress bar. Moving video keeps the face-aware reframe.

``measure_stillness`` turns the grey frames the reframe already samples into numbers
(frame-to-frame differences, shot changes), ``choose_layout`` decides from them and from
a forced setting (the render setting ``layout``, a creator's ``layout`` in
``caption_styles.json``), and ``AudiogramStyle.geometry`` places the parts in the Shorts
safe area. Pure: numbers in, records out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from omniva.errors import ConfigError

LAYOUTS = ("auto", "audiogram", "reframe")
WAVE_STYLES = ("waves", "freqs")


@dataclass(frozen=True, slots=True)
class Stillness:
    """How much the picture changes over the clip, from frames sampled ``fps`` times a second.

    ``diffs``: the mean absolute grey-level difference (0-255) of each pair of consecutive
    samples; a pair over ``threshold`` is "moving", one over ``shot_threshold`` a shot change."""

    samples: int
    median_diff: float
    p90_diff: float
    moving_share: float  # pairs whose difference is over ``threshold``
    shot_changes: int
    threshold: float
    shot_threshold: float
    max_moving_share: float

    @property
    def still(self) -> bool:
        """Barely changes: at most ``max_moving_share`` of the pairs move (a slide change or two
        may; a talking head, a pan or a cut-heavy edit does not pass)."""
        return self.samples >= 2 and self.moving_share <= self.max_moving_share

    def record(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "median_diff": round(self.median_diff, 3),
            "p90_diff": round(self.p90_diff, 3),
            "moving_share": round(self.moving_share, 3),
            "shot_changes": self.shot_changes,
            "threshold": self.threshold,
            "shot_threshold": self.shot_threshold,
            "max_moving_share": self.max_moving_share,
            "still": self.still,
        }


def measure_stillness(
    frames: np.ndarray,
    threshold: float = 1.5,
    shot_threshold: float = 30.0,
    max_moving_share: float = 0.1,
) -> Stillness:
    """``frames``: [n, h, w] uint8 grey samples of the edited clip (``media.sample_frames``).
    A still picture's pairs differ by compression noise only (well under one grey level);
    a talking head at 4 samples a second moves several."""
    n = len(frames)
    if n < 2:
        return Stillness(n, 0.0, 0.0, 0.0, 0, threshold, shot_threshold, max_moving_share)
    diffs = np.abs(np.diff(frames.astype(np.int16), axis=0)).mean(axis=(1, 2))
    return Stillness(
        n,
        float(np.median(diffs)),
        float(np.percentile(diffs, 90)),
        float((diffs > threshold).mean()),
        int((diffs > shot_threshold).sum()),
        threshold,
        shot_threshold,
        max_moving_share,
    )


def sharpest(frames: np.ndarray) -> int | None:
    """Index of the sharpest frame (largest variance of the Laplacian), None without frames."""
    if len(frames) == 0:
        return None
    f = frames.astype(np.float32)
    lap = f[:, 1:-1, :-2] + f[:, 1:-1, 2:] + f[:, :-2, 1:-1] + f[:, 2:, 1:-1] - 4 * f[:, 1:-1, 1:-1]
    return int(lap.reshape(len(frames), -1).var(axis=1).argmax())


@dataclass(frozen=True, slots=True)
class LayoutChoice:
    layout: str  # "audiogram" | "reframe"
    reason: str
    forced_by: str  # "" (measured), "render setting", "project setting", "creator setting"
    stillness: Stillness | None  # None: the source has no picture

    def record(self) -> dict[str, Any]:
        return {
            "layout": self.layout,
            "reason": self.reason,
            "forced_by": self.forced_by,
            "stillness": self.stillness.record() if self.stillness else None,
        }


def check_layout(value: str, what: str) -> str:
    v = (value or "auto").strip().lower()
    if v not in LAYOUTS:
        raise ConfigError(f"{what}={value!r}: use {', '.join(LAYOUTS)}")
    return v


def choose_layout(
    setting: str, creator_setting: str, stillness: Stillness | None, project_setting: str = "auto"
) -> LayoutChoice:
    """The creator's setting beats its project's (#29), which beats the render setting; "auto"
    in all three measures: a still (or missing) picture gets the audiogram, moving video the
    reframe."""
    creator = check_layout(creator_setting, "the creator's layout")
    project = check_layout(project_setting, "the project's render_layout")
    render = check_layout(setting, "OMNIVA_RENDER_LAYOUT")
    for value, by in ((creator, "creator setting"), (project, "project setting"), (render, "render setting")):
        if value != "auto":
            return LayoutChoice(value, f"{value} forced by the {by}", by, stillness)
    if stillness is None:
        return LayoutChoice("audiogram", "the source has no picture", "", None)
    s = stillness
    measured = (
        f"{s.moving_share:.0%} of {s.samples - 1} frame pairs differ by more than {s.threshold:g} "
        f"grey levels (at most {s.max_moving_share:.0%} for a still), {s.shot_changes} shot change(s)"
    )
    if s.still:
        return LayoutChoice("audiogram", f"still picture: {measured}", "", s)
    return LayoutChoice("reframe", f"moving picture: {measured}", "", s)


def creator_layout(creator: str | None, home: Path | None) -> str:
    """A creator's forced layout: ``layout`` in its entry of ``<home>/caption_styles.json``
    (the creator's look, beside its caption style); "auto" when it names none."""
    if not creator or not home:
        return "auto"
    path = Path(home) / "caption_styles.json"
    if not path.exists():
        return "auto"
    entry = json.loads(path.read_text()).get(creator) or {}
    return check_layout(str(entry.get("layout") or "auto"), f"{path.name}: {creator}.layout")


# --- the audiogram's parts ------------------------------------------------------------------

Box = tuple[int, int, int, int]  # x, y, w, h


@dataclass(frozen=True, slots=True)
class AudiogramStyle:
    """The audiogram's look (render settings ``audiogram_*``). Sizes are for a 1080x1920 frame
    and scale with the frame's height."""

    colour: str = "FFD400"  # RRGGBB: waveform, progress bar, creator name, highlighted word
    wave: str = "waves"  # waves (ffmpeg showwaves) | freqs (showfreqs)
    title_size: int = 64
    caption_size: int = 92
    darken: float = 0.45  # the blurred fill's brightness (0 black .. 1 unchanged)
    text_colour: str = "FFFFFF"

    def check(self) -> AudiogramStyle:
        if self.wave not in WAVE_STYLES:
            raise ConfigError(f"OMNIVA_RENDER_AUDIOGRAM_WAVE={self.wave!r}: use {', '.join(WAVE_STYLES)}")
        for name, value in (("COLOUR", self.colour), ("TEXT_COLOUR", self.text_colour)):
            if len(value) != 6 or any(c not in "0123456789abcdefABCDEF" for c in value):
                raise ConfigError(f"OMNIVA_RENDER_AUDIOGRAM_{name}={value!r}: a colour as RRGGBB")
        if not 0.0 <= self.darken <= 1.0:
            raise ConfigError(f"OMNIVA_RENDER_AUDIOGRAM_DARKEN={self.darken}: between 0 and 1")
        return self

    def geometry(self, width: int = 1080, height: int = 1920) -> AudiogramGeometry:
        """Where each part goes. Shorts' own buttons sit on the right and their title and
        channel over the bottom fifth, their search bar over the top: everything is kept in
        x 90..990 and y 150..1510 (at 1080x1920)."""
        k = height / 1920

        def s(v: float) -> int:
            return int(round(v * k / 2)) * 2  # even, for yuv420p

        margin_x = int(round(width * 90 / 1080 / 2)) * 2
        inner = width - 2 * margin_x
        title_y = s(150)
        title_lines = 2
        creator_y = title_y + int(self.title_size * k * 1.25 * title_lines) + s(12)
        cover = (margin_x, s(400), inner, s(740))
        bar = (0, cover[1] + cover[3] + s(16), width, max(2, s(8)))
        wave = (margin_x, bar[1] + bar[3] + s(20), inner, s(150))
        return AudiogramGeometry(
            width=width,
            height=height,
            title_xy=(width // 2, title_y),
            title_size=int(round(self.title_size * k)),
            title_lines=title_lines,
            creator_xy=(width // 2, creator_y),
            creator_size=int(round(self.title_size * k * 0.62)),
            cover=cover,
            bar=bar,
            wave=wave,
            caption_size=int(round(self.caption_size * k)),
            caption_margin_v=s(420),  # the captions' bottom edge, from the frame's bottom
            text_chars=max(8, int(inner / (self.title_size * k * 0.58))),
            caption_chars=max(6, int(inner / (self.caption_size * k * 0.62))),
        )


@dataclass(frozen=True, slots=True)
class AudiogramGeometry:
    width: int
    height: int
    title_xy: tuple[int, int]  # top centre of the title block
    title_size: int
    title_lines: int
    creator_xy: tuple[int, int]
    creator_size: int
    cover: Box  # the cover art is fitted inside this box, centred
    bar: Box  # the progress bar's track (the bar grows from the left)
    wave: Box
    caption_size: int
    caption_margin_v: int
    text_chars: int  # display width of a title line
    caption_chars: int

    def fitted_cover(self, image_w: int, image_h: int) -> Box:
        """The cover's box inside ``cover``: as large as fits, aspect kept, centred, even sizes."""
        bx, by, bw, bh = self.cover
        scale = min(bw / image_w, bh / image_h)
        w = max(2, int(image_w * scale) // 2 * 2)
        h = max(2, int(image_h * scale) // 2 * 2)
        return bx + (bw - w) // 2, by + (bh - h) // 2, w, h


# --- captions clear of faces (#30) ----------------------------------------------------------

FaceSample = tuple[float, tuple[float, float, float, float]]  # (output s, (x, y, w, h) output px)


def caption_margins(
    shots: Sequence[tuple[float, float]],
    faces: Sequence[FaceSample],
    margin_v: int,
    block_h: int,
    height: int = 1920,
    safe_top: int = 150,
    safe_bottom: int = 1510,
    pad: int = 24,
    head: float = 0.35,
    chin: float = 0.1,
) -> list[tuple[float, float, int]]:
    """Per shot (start, end in output seconds), the captions' ``MarginV`` (distance of the
    block's bottom from the frame's bottom) that keeps a ``block_h`` high caption block off
    every face seen in that shot (``faces``: boxes in output pixels): the style's own
    ``margin_v`` when it is clear, else just below the lowest chin or just above the highest
    head, whichever moves the block less, inside the safe area (y ``safe_top``..``safe_bottom``).
    When neither fits, the block goes as low as the safe area allows. A face detector's box runs
    from the brows to the mouth: ``head`` and ``chin`` (shares of its height) add the hair and
    the chin."""
    out = []
    lowest = height - safe_bottom  # the smallest margin the safe area allows
    for a, b in shots:
        boxes = [box for t, box in faces if a <= t < b]
        if not boxes:
            out.append((a, b, margin_v))
            continue
        top = min(y - head * h for _, y, _, h in boxes) - pad
        bottom = max(y + h + chin * h for _, y, _, h in boxes) + pad
        block_bottom = height - margin_v
        if block_bottom <= top or block_bottom - block_h >= bottom:
            out.append((a, b, margin_v))
            continue
        options = []
        below = int(height - bottom - block_h)  # the block's top just under the chin
        if below >= lowest:
            options.append(below)
        above = int(height - top)  # the block's bottom just over the head
        if top - block_h >= safe_top:
            options.append(above)
        chosen = min(options, key=lambda m: abs(m - margin_v)) if options else lowest
        out.append((a, b, chosen))
    return out


def shots_of(total: float, switches: Sequence[float]) -> list[tuple[float, float]]:
    """The shots between the reframe's speaker switches (output seconds)."""
    edges = [0.0, *sorted(s for s in switches if 0.0 < s < total), total]
    return [(a, b) for a, b in zip(edges, edges[1:], strict=False) if b > a]
