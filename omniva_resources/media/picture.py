"""The render's picture as ffmpeg filters: the edited source laid out 9:16 (a crop that
follows a face, two stacked crops, or the source over a blurred copy of itself), or a
waveform for a source without picture, with burned-in captions."""

from __future__ import annotations

import math
from pathlib import Path

from omniva_resources.media.spec import CropPath, Reframe, RenderSpec


def escape_path(path: Path) -> str:
    """A path as a filter option value inside single quotes."""
    return str(path).replace("\\", "/").replace("'", r"'\''").replace(":", r"\:")


def captions_filter(captions: Path | None) -> str:
    """``,ass=...`` to append to a filter chain, or nothing."""
    return f",ass=filename='{escape_path(captions)}'" if captions else ""


def sendcmd_file(path: CropPath, fps: float, total: float, name: str, out: Path) -> None:
    """One ``x`` command per output frame at which the crop's integer x changes."""
    lines, last = [], None
    for k in range(int(math.ceil(total * fps)) + 1):
        t = k / fps
        x = int(round(float(path.x_at(t))))
        if x != last:
            lines.append(f"{t:.4f} {name} x {x};")
            last = x
    out.write_text("\n".join(lines) + "\n")


def picture_graph(
    reframe: Reframe,
    spec: RenderSpec,
    total: float,
    captions: Path | None,
    work: Path,
) -> tuple[str, str]:
    """From [vc] (the edited source picture) to [vout] 1080x1920; returns (graph, layout).
    Crop commands are written as files under ``work``."""
    w, h = spec.width, spec.height
    subs = captions_filter(captions)
    mode = reframe.mode if reframe.paths else "fit"
    if mode in ("crop", "split"):
        n = 1 if mode == "crop" else 2
        tile_h = h // n
        parts = [
            f"[vc]fps={spec.fps}" + (f",split=2{''.join(f'[s{i}]' for i in range(n))}" if n > 1 else "[s0]")
        ]
        for i, path in enumerate(reframe.paths[:n]):
            cmdfile = work / f"crop{i}.cmd"
            sendcmd_file(path, spec.fps, total, f"crop@c{i}", cmdfile)
            x0 = int(round(float(path.x_at(0.0))))
            parts.append(
                f"[s{i}]sendcmd=f='{escape_path(cmdfile)}',"
                f"crop@c{i}=w={path.width}:h={path.height}:x={x0}:y={path.y},"
                f"scale={w}:{tile_h}:flags=bicubic,setsar=1[t{i}]"
            )
        stack = "[t0]" if n == 1 else "[t0][t1]vstack=inputs=2"
        parts.append(
            f"{stack}{subs},format=yuv420p[vout]" if n > 1 else f"[t0]null{subs},format=yuv420p[vout]"
        )
        return ";".join(parts), mode
    return (
        "[vc]split[bgsrc][fgsrc]"
        f";[bgsrc]scale={w // 4}:{h // 4}:force_original_aspect_ratio=increase,"
        f"crop={w // 4}:{h // 4},boxblur=12:2,scale={w}:{h}[bg]"
        f";[fgsrc]scale={w}:{h}:force_original_aspect_ratio=decrease[fg]"
        f";[bg][fg]overlay=(W-w)/2:(H-h)/2,setsar=1,fps={spec.fps}{subs},format=yuv420p[vout]",
        "fit-on-blurred",
    )


def waveform_graph(spec: RenderSpec, captions: Path | None) -> str:
    """For a source without picture: the normalised audio ([1:a]) drawn as a waveform -> [vout]."""
    return (
        f"[1:a]showwaves=s={spec.width}x480:mode=cline:colors=white:rate={spec.fps}[wv]"
        f";color=c=0x1d2633:s={spec.width}x{spec.height}:r={spec.fps}[bg]"
        f";[bg][wv]overlay=0:(H-h)/2:shortest=1,setsar=1{captions_filter(captions)},format=yuv420p[vout]"
    )
