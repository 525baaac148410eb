"""The audiogram's picture: cover art over a blurred, darkened fill of itself (composed once,
as one still image), a waveform or spectrum of the normalised audio in the brand colour, a
progress bar, and the burned-in title, creator and captions (one ASS file).

Positions come from ``omniva.layout.AudiogramGeometry``; this module only draws them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from omniva.layout import AudiogramGeometry, AudiogramStyle, Box
from omniva_resources.media.files import partial_path
from omniva_resources.media.picture import captions_filter
from omniva_resources.media.probe import probe
from omniva_resources.media.run import DEFAULT_TOOLS, FFmpegTools, run

# Thumbnails yt-dlp writes beside a download (``--write-thumbnail``), best first.
COVER_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
NO_COVER_COLOUR = "1d2633"  # a source without picture or thumbnail: a plain card


@dataclass(frozen=True, slots=True)
class AudiogramPicture:
    """What the render needs to draw an audiogram: the composed still (cover over its fill),
    where things go, and the look."""

    base: Path
    geometry: AudiogramGeometry
    style: AudiogramStyle
    cover_box: Box  # where the cover landed (x, y, w, h), for checks and tests
    cover_from: str  # "thumbnail <name>" | "frame at <t> s" | "none"


def thumbnail_beside(source: Path) -> Path | None:
    """The post's thumbnail kept beside the downloaded file (``<stem>.jpg`` ...), if any."""
    for suffix in COVER_SUFFIXES:
        p = source.with_suffix(suffix)
        if p.is_file() and p.stat().st_size > 0:
            return p
    return None


def compose_base(
    cover: Path | None,
    geometry: AudiogramGeometry,
    style: AudiogramStyle,
    out_path: Path,
    tools: FFmpegTools = DEFAULT_TOOLS,
) -> Box:
    """The audiogram's still: ``cover`` fitted in ``geometry.cover`` over a blurred, darkened
    fill of itself, with the progress bar's dim track; a PNG at ``out_path``. Returns where
    the cover landed."""
    w, h = geometry.width, geometry.height
    out_path = Path(out_path)
    tmp = partial_path(out_path).with_suffix(".png")
    if cover is None:
        src = ["-f", "lavfi", "-i", f"color=c=0x{NO_COVER_COLOUR}:s=720x720:d=1"]
        cw = ch = 720
    else:
        facts = probe(cover, tools)
        cw, ch = facts.width or 1, facts.height or 1
        src = ["-i", str(cover)]
    x, y, fw, fh = geometry.fitted_cover(cw, ch)
    bx, by, bw, bh = geometry.bar
    d = style.darken
    graph = (
        "[0:v]format=rgb24,split[a][b]"
        # the fill: cover-scaled, blurred small (cheap), darkened
        f";[a]scale={w // 8}:{h // 8}:force_original_aspect_ratio=increase,crop={w // 8}:{h // 8},"
        f"boxblur=6:2,scale={w}:{h},colorchannelmixer=rr={d}:gg={d}:bb={d}[bg]"
        f";[b]scale={fw}:{fh}:flags=lanczos[fg]"
        f";[bg][fg]overlay={x}:{y},drawbox=x={bx}:y={by}:w={bw}:h={bh}:color=white@0.25:t=fill[out]"
    )
    cmd = [tools.ffmpeg, "-nostdin", "-v", "error", "-y", *src, "-filter_complex", graph]
    cmd += ["-map", "[out]", "-frames:v", "1", "-f", "image2", "-c:v", "png", str(tmp)]
    run(cmd, what=f"audiogram background from {cover.name if cover else 'a plain card'}")
    os.replace(tmp, out_path)
    return x, y, fw, fh


def audiogram_graph(
    picture: AudiogramPicture,
    fps: int,
    total: float,
    captions: Path | None,
    audio: str = "0:a",
    still: str = "1:v",
) -> str:
    """From the normalised audio and the composed still to [vout]: the still repeated (decoded
    once), the waveform or spectrum over it, the progress bar growing, the ASS text."""
    g, s = picture.geometry, picture.style
    wx, wy, ww, wh = g.wave
    bx, by, bw, bh = g.bar
    colour = f"0x{s.colour}"
    if s.wave == "freqs":
        wave = (
            f"showfreqs=s={ww}x{wh}:mode=bar:ascale=log:fscale=log:win_size=2048:overlap=0.5:colors={colour},"
            "format=rgba,colorkey=black:0.01:0"
        )
    else:
        wave = f"showwaves=s={ww}x{wh}:mode=cline:rate={fps}:scale=sqrt:draw=full:colors={colour}"
    return (
        f"[{still}]format=yuv420p,loop=loop=-1:size=1:start=0,setpts=N/{fps}/TB[still]"
        f";[{audio}]aformat=channel_layouts=mono,{wave}[wv]"
        f";color=c={colour}:s={bw}x{bh}:r={fps}[bar]"
        f";[still][wv]overlay={wx}:{wy}:shortest=1[w1]"
        f";[w1][bar]overlay=x='{bx}-w+w*t/{max(total, 0.001):.3f}':y={by}:shortest=1"
        f",setsar=1,fps={fps}{captions_filter(captions)},format=yuv420p[vout]"
    )


__all__ = [
    "AudiogramPicture",
    "audiogram_graph",
    "compose_base",
    "thumbnail_beside",
]
