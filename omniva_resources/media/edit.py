"""The edit as ffmpeg filters: which part of the source is read, and the kept spans cut
and joined (picture and sound), shared by the render and the frame sampler."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from omniva_resources.media.spec import RenderSpec

Spans = Sequence[tuple[float, float]]


def seek_window(spans: Spans, fps: float) -> tuple[float, float]:
    """Input seek point on the frame grid (one frame before the first span) and how long to read."""
    first, last = spans[0][0], spans[-1][1]
    ss = max(0.0, math.floor(first * fps - 1.0) / fps) if first > 0 else 0.0
    return round(ss, 6), last - ss + 1.0


def input_args(source: Path, ss: float, dur: float) -> list[str]:
    args = ["-ss", f"{ss:.6f}"] if ss > 0 else []
    return [*args, "-t", f"{dur:.3f}", "-i", str(source)]


def relative(spans: Spans, ss: float) -> list[tuple[float, float]]:
    """The spans on the timeline of the input read from ``ss``."""
    return [(round(a - ss, 6), round(b - ss, 6)) for a, b in spans]


def video_edit(spans: Spans, xfade: float, src: str = "0:v") -> str:
    """Trim and join the kept spans (each but the last loses the crossfade's length) -> [vc]."""
    n = len(spans)
    parts = []
    for i, (a, b) in enumerate(spans):
        e = b - (xfade if i < n - 1 else 0.0)
        parts.append(f"[{src}]trim=start={a:.6f}:end={e:.6f},setpts=PTS-STARTPTS[v{i}]")
    labels = "".join(f"[v{i}]" for i in range(n))
    parts.append(f"{labels}concat=n={n}:v=1:a=0[vc]")
    return ";".join(parts)


def audio_edit(spans: Spans, xfade: float, spec: RenderSpec, src: str = "0:a") -> str:
    """Trim the kept spans, join them with equal-power crossfades, fade the ends,
    (denoise), compress -> [ac]."""
    n = len(spans)
    parts = [
        f"[{src}]atrim=start={a:.6f}:end={b:.6f},asetpts=PTS-STARTPTS[a{i}]" for i, (a, b) in enumerate(spans)
    ]
    cur = "a0"
    if n > 1 and xfade > 0:
        for i in range(1, n):
            parts.append(f"[{cur}][a{i}]acrossfade=d={xfade:.6f}:c1=qsin:c2=qsin[x{i}]")
            cur = f"x{i}"
    elif n > 1:
        parts.append(f"{''.join(f'[a{i}]' for i in range(n))}concat=n={n}:v=0:a=1[x0]")
        cur = "x0"
    total = sum(b - a for a, b in spans) - (xfade if n > 1 else 0.0) * (n - 1)
    f = min(spec.fade_s, total / 4)
    chain = [f"afade=t=in:d={f:.3f}", f"afade=t=out:st={max(0.0, total - f):.3f}:d={f:.3f}"]
    if spec.denoise:
        chain.append("afftdn=nr=12:nf=-45:tn=1")
    if spec.compress:
        chain.append("acompressor=ratio=2:threshold=0.1:attack=20:release=250")
    parts.append(f"[{cur}]{','.join(chain)}[ac]")
    return ";".join(parts)
