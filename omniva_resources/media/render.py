"""The render: kept spans of a source cut, laid out 9:16, loudness-normalised and
encoded H.264/AAC under the Shorts size cap."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from pathlib import Path

from omniva.errors import NoAudioError, RenderError
from omniva_resources.media.audiogram import AudiogramPicture, audiogram_graph
from omniva_resources.media.edit import Spans, input_args, relative, seek_window, video_edit
from omniva_resources.media.files import partial_path
from omniva_resources.media.loudnorm import correct_encoded_loudness, normalise_audio
from omniva_resources.media.picture import picture_graph, waveform_graph
from omniva_resources.media.probe import MediaFacts
from omniva_resources.media.run import DEFAULT_TOOLS, FFmpegTools, run, try_run
from omniva_resources.media.spec import Reframe, RenderResult, RenderSpec


def h264_encoder(tools: FFmpegTools = DEFAULT_TOOLS) -> str:
    """NVENC when this machine can really encode with it, else libx264.

    ffmpeg lists h264_nvenc whenever it was built with it; only a real one-frame
    encode tells whether a driver and an NVENC-capable GPU are present.
    """
    return _encoder_for(tools)


@functools.cache  # keyed by the tools alone, however the caller spelled the call
def _encoder_for(tools: FFmpegTools) -> str:
    if tools.disable_nvenc:
        return "libx264"
    probe_cmd = [tools.ffmpeg, "-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=s=256x256:d=0.1"]
    probe_cmd += ["-frames:v", "1", "-c:v", "h264_nvenc", "-f", "null", "-"]
    proc = try_run(probe_cmd, timeout_s=30)
    return "h264_nvenc" if proc is not None and proc.returncode == 0 else "libx264"


def video_codec_args(encoder: str, spec: RenderSpec, kbps: int, threads: int = 0) -> list[str]:
    rate = ["-maxrate", f"{kbps}k", "-bufsize", f"{kbps * 2}k"]
    if threads > 0:
        rate += ["-threads", str(threads)]
    if encoder == "h264_nvenc":
        codec = ["-c:v", "h264_nvenc", "-preset", "p5", "-profile:v", "high", "-cq", str(spec.crf)]
        return [*codec, "-b:v", f"{int(kbps * 0.7)}k", *rate, "-pix_fmt", "yuv420p"]
    codec = ["-c:v", "libx264", "-preset", spec.preset, "-profile:v", "high", "-crf", str(spec.crf)]
    return [*codec, *rate, "-pix_fmt", "yuv420p"]


#: The logo watermark's width and its place from the top-right corner (inside the safe area:
#: clear of YouTube's top bar, away from the right-hand buttons' lower column).
WATERMARK_W, WATERMARK_MARGIN_X, WATERMARK_MARGIN_Y = 120, 60, 200


def watermarked(inputs: list[str], graph: str, logo: Path) -> tuple[list[str], str]:
    """``inputs`` and ``graph`` with ``logo`` laid over the picture's ``[vout]`` (which it
    keeps as its output's name)."""
    index = inputs.count("-i")
    graph = graph.replace("[vout]", "[vbase]")
    x = f"main_w-overlay_w-{WATERMARK_MARGIN_X}"
    graph += (
        f";[{index}:v]scale={WATERMARK_W}:-1,format=rgba,colorchannelmixer=aa=0.85[wm]"
        f";[vbase][wm]overlay={x}:{WATERMARK_MARGIN_Y}:eof_action=repeat:format=auto,format=yuv420p[vout]"
    )
    return [*inputs, "-i", str(logo)], graph


def render_vertical(
    source: Path,
    spans: Spans,
    out_path: Path,
    facts: MediaFacts,
    spec: RenderSpec = RenderSpec(),
    reframe: Reframe | None = None,
    captions_ass: Path | None = None,
    crossfade_s: float | None = None,
    tools: FFmpegTools = DEFAULT_TOOLS,
    audiogram: AudiogramPicture | None = None,
    watermark: Path | None = None,
) -> RenderResult:
    """Cut ``spans`` out of ``source``, lay them out 9:16, normalise loudness, encode H.264/AAC.

    Picture: ``reframe`` ``crop`` (a moving crop window following a face, via ``sendcmd``
    commands to a ``crop`` filter, one per frame where x changes), ``split`` (two crops
    stacked), or the source over a blurred, zoomed copy of itself (``fit``, the default
    and the fallback when there is no face); audio-only sources get a waveform. With
    ``audiogram`` the picture is the audiogram (``media.audiogram``) and the source's
    picture is not read at all.
    Optional burned-in ASS captions (libass); optional ``watermark`` (the channel's logo, #29)
    in the top-right corner, 120 px wide at 85% opacity, inside the Shorts safe area. Consecutive spans are joined with a
    ``crossfade_s`` equal-power audio crossfade (default: one frame), the picture drops
    the same length, so sound and picture stay in sync. Audio: see ``loudnorm``.
    The file is written under a temporary name and renamed when it meets the size cap.
    """
    if not spans:
        raise RenderError(f"{source.name}: nothing to render (empty edit decision list)")
    if not facts.has_audio:
        raise NoAudioError(f"{source.name}: has no audio stream to render")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    src_fps = facts.fps or spec.fps
    xfade = (1.0 / src_fps if crossfade_s is None else crossfade_s) if len(spans) > 1 else 0.0
    if any(b - a <= 2 * xfade for a, b in spans):
        xfade = 0.0
    ss, dur = seek_window(spans, src_fps)
    rel = relative(spans, ss)
    in_args = input_args(source, ss, dur)
    total = sum(b - a for a, b in spans) - xfade * (len(spans) - 1)
    reframe = reframe or Reframe()
    commands: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="omniva-render-"))
    try:
        wav, first, second, corrections = normalise_audio(
            source, rel, in_args, xfade, spec, work, commands, tools
        )
        budget_kbps = int(spec.max_bytes * 8 * 0.92 / 1000 / max(total, 1.0)) - spec.audio_kbps
        video_kbps = max(300, min(spec.max_video_kbps, budget_kbps))
        encoder = h264_encoder(tools)
        inputs, sound = [*in_args, "-i", str(wav)], "1:a"
        if audiogram is not None:
            inputs, sound = ["-i", str(wav), "-i", str(audiogram.base)], "0:a"
            layout, graph = "audiogram", audiogram_graph(audiogram, spec.fps, total, captions_ass)
        elif facts.has_video:
            pic, layout = picture_graph(reframe, spec, total, captions_ass, work)
            graph = video_edit(rel, xfade) + ";" + pic
        else:
            layout, graph = "waveform", waveform_graph(spec, captions_ass)
        if watermark is not None:
            inputs, graph = watermarked(inputs, graph, watermark)
        tmp = partial_path(out_path)
        for _attempt in range(4):
            cmd = [tools.ffmpeg, "-nostdin", "-hide_banner", "-y", *inputs]
            cmd += ["-filter_complex", graph, "-map", "[vout]", "-map", sound]
            cmd += video_codec_args(encoder, spec, video_kbps, tools.threads)
            cmd += ["-c:a", "aac", "-b:a", f"{spec.audio_kbps}k", "-ar", "48000", "-ac", "2"]
            cmd += ["-movflags", "+faststart", "-t", f"{total:.3f}", str(tmp)]
            commands.append(" ".join(cmd))
            try:
                run(cmd, what=f"render of {source.name} -> {out_path.name}")
            except RenderError:
                tmp.unlink(missing_ok=True)
                if encoder != "libx264":
                    encoder = "libx264"  # NVENC can fail mid-run (session limits); fall back
                    continue
                raise
            if tmp.stat().st_size > spec.max_bytes:
                tmp.unlink(missing_ok=True)
                video_kbps = int(video_kbps * 0.7)
                continue
            correct_encoded_loudness(
                tmp, wav, out_path, source.name, spec, work, commands, corrections, tools
            )
            os.replace(tmp, out_path)
            return RenderResult(
                str(out_path),
                encoder,
                video_kbps,
                tuple(commands),
                first,
                second,
                tuple(corrections),
                layout,
                round(xfade, 6),
            )
        raise RenderError(f"{out_path.name}: could not get the render under {spec.max_bytes} bytes")
    finally:
        shutil.rmtree(work, ignore_errors=True)
