"""The one place that runs ffmpeg and ffprobe.

Functions here take paths and plain numbers and return frozen records; they know
nothing about Dagster. Every output file is written to a temporary name in the
same folder and renamed into place only when ffmpeg succeeded, so a crash never
leaves a half-written file where a finished one is expected.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from omniva.errors import CorruptMediaError, NoAudioError, RenderError

FFMPEG = os.environ.get("OMNIVA_FFMPEG", "ffmpeg")
FFPROBE = os.environ.get("OMNIVA_FFPROBE", "ffprobe")


@dataclass(frozen=True, slots=True)
class MediaFacts:
    """What ffprobe says about a file."""

    path: str
    size_bytes: int
    format_name: str
    duration_s: float
    has_video: bool
    has_audio: bool
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    video_codec: str | None = None
    video_profile: str | None = None
    pix_fmt: str | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None
    channels: int | None = None

    @property
    def resolution(self) -> str | None:
        return f"{self.width}x{self.height}" if self.width and self.height else None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Loudness:
    integrated_lufs: float
    true_peak_dbtp: float
    lra_lu: float


@dataclass(frozen=True, slots=True)
class RenderSpec:
    """How a clip is rendered; defaults are the YouTube Shorts target."""

    width: int = 1080
    height: int = 1920
    fps: int = 30
    target_lufs: float = -14.0
    true_peak_dbtp: float = -1.5
    max_bytes: int = 60 * 1024 * 1024
    max_video_kbps: int = 6000
    audio_kbps: int = 128
    preset: str = "veryfast"
    crf: int = 23
    fade_s: float = 0.012


@dataclass(frozen=True, slots=True)
class RenderResult:
    path: str
    encoder: str
    video_kbps: int
    commands: tuple[str, ...]
    loudnorm_first_pass: dict


def ffmpeg_version() -> str:
    out = _run([FFMPEG, "-version"], what="ffmpeg -version").stdout
    return out.splitlines()[0] if out else "unknown"


def _run(cmd: Sequence[str], what: str, check: bool = True) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise RenderError(
            f"{cmd[0]} is not installed or not on PATH ({what}). Install ffmpeg "
            "(`apt-get install ffmpeg`, done by `make setup`)."
        ) from exc
    if check and proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise RenderError(f"{what} failed (exit {proc.returncode}): {tail}")
    return proc


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def probe(path: Path) -> MediaFacts:
    """ffprobe facts; CorruptMediaError when ffprobe cannot read a single stream."""
    path = Path(path)
    if not path.exists():
        raise CorruptMediaError(f"{path}: file does not exist")
    proc = _run(
        [FFPROBE, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        what=f"ffprobe {path.name}",
        check=False,
    )
    data = json.loads(proc.stdout or "{}") if proc.stdout.strip() else {}
    streams = data.get("streams") or []
    fmt = data.get("format") or {}
    if proc.returncode != 0 or not streams:
        reason = (proc.stderr.strip().splitlines() or ["no audio or video stream found"])[-1]
        raise CorruptMediaError(
            f"{path.name}: not a readable media file ({reason}). "
            "Re-download it or remove the post from the source."
        )
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")
        ),
        None,
    )
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    duration = _float(fmt.get("duration")) or max(
        (_float(s.get("duration")) or 0.0 for s in streams), default=0.0
    )
    fps = None
    if video and video.get("avg_frame_rate", "0/0") not in ("0/0", ""):
        num, _, den = video["avg_frame_rate"].partition("/")
        fps = float(num) / float(den or 1) if float(den or 1) else None
    return MediaFacts(
        path=str(path),
        size_bytes=path.stat().st_size,
        format_name=fmt.get("format_name", ""),
        duration_s=round(duration, 3),
        has_video=video is not None,
        has_audio=audio is not None,
        width=video.get("width") if video else None,
        height=video.get("height") if video else None,
        fps=round(fps, 3) if fps else None,
        video_codec=video.get("codec_name") if video else None,
        video_profile=video.get("profile") if video else None,
        pix_fmt=video.get("pix_fmt") if video else None,
        audio_codec=audio.get("codec_name") if audio else None,
        sample_rate=int(audio["sample_rate"]) if audio and audio.get("sample_rate") else None,
        channels=audio.get("channels") if audio else None,
    )


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def decode_audio(path: Path, sample_rate: int = 16000) -> np.ndarray:
    """Mono float32 PCM at ``sample_rate``; NoAudioError when there is no audio stream."""
    facts = probe(path)
    if not facts.has_audio:
        raise NoAudioError(
            f"{Path(path).name}: has no audio stream, so there is no speech to transcribe. "
            "Use a source with sound, or remove the post."
        )
    cmd = [FFMPEG, "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1"]
    cmd += ["-ar", str(sample_rate), "-f", "s16le", "-"]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        raise CorruptMediaError(
            f"{Path(path).name}: audio could not be decoded ({proc.stderr.decode()[-300:].strip()})"
        )
    return np.frombuffer(proc.stdout, np.int16).astype(np.float32) / 32768.0


def detect_silences(
    path: Path, noise_db: float = -35.0, min_duration_s: float = 0.4
) -> list[tuple[float, float]]:
    """Silent spans from ffmpeg's silencedetect, as (start, end) seconds."""
    facts = probe(path)
    if not facts.has_audio:
        return [(0.0, facts.duration_s)]
    proc = _run(
        [
            FFMPEG,
            "-nostdin",
            "-hide_banner",
            "-i",
            str(path),
            "-map",
            "0:a:0",
            "-af",
            f"silencedetect=noise={noise_db}dB:d={min_duration_s}",
            "-f",
            "null",
            "-",
        ],
        what=f"silencedetect {Path(path).name}",
    )
    spans: list[tuple[float, float]] = []
    start: float | None = None
    for line in proc.stderr.splitlines():
        if m := re.search(r"silence_start: (-?[\d.]+)", line):
            start = max(0.0, float(m.group(1)))
        elif (m := re.search(r"silence_end: ([\d.]+)", line)) and start is not None:
            spans.append((round(start, 3), round(float(m.group(1)), 3)))
            start = None
    if start is not None:
        spans.append((round(start, 3), facts.duration_s))
    return spans


def measure_loudness(path: Path) -> Loudness:
    """EBU R128 integrated loudness and true peak, measured by ffmpeg's ebur128 filter."""
    proc = _run(
        [
            FFMPEG,
            "-nostdin",
            "-hide_banner",
            "-i",
            str(path),
            "-map",
            "0:a:0",
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        what=f"ebur128 {Path(path).name}",
    )
    summary = proc.stderr[proc.stderr.rfind("Summary:") :]
    integrated = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    lra = re.search(r"LRA:\s+(-?[\d.]+) LU", summary)
    if not integrated:
        raise RenderError(f"ebur128 printed no summary for {Path(path).name}")
    return Loudness(
        integrated_lufs=float(integrated.group(1)),
        true_peak_dbtp=float(peak.group(1)) if peak else float("nan"),
        lra_lu=float(lra.group(1)) if lra else float("nan"),
    )


@functools.cache
def h264_encoder() -> str:
    """NVENC when this machine can really encode with it, else libx264.

    ffmpeg lists h264_nvenc whenever it was built with it; only a real one-frame
    encode tells whether a driver and an NVENC-capable GPU are present.
    """
    if os.environ.get("OMNIVA_DISABLE_NVENC"):
        return "libx264"
    probe_cmd = [
        FFMPEG,
        "-nostdin",
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        "color=s=256x256:d=0.1",
        "-frames:v",
        "1",
        "-c:v",
        "h264_nvenc",
        "-f",
        "null",
        "-",
    ]
    try:
        ok = subprocess.run(probe_cmd, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return "h264_nvenc" if ok else "libx264"


def _segments_graph(spans: Sequence[tuple[float, float]], with_video: bool, fade: float) -> str:
    parts, labels = [], []
    for i, (start, end) in enumerate(spans):
        dur = end - start
        f = min(fade, dur / 4)
        if with_video:
            parts.append(f"[0:v]trim=start={start:.3f}:end={end:.3f},setpts=PTS-STARTPTS[v{i}]")
        parts.append(
            f"[0:a]atrim=start={start:.3f}:end={end:.3f},asetpts=PTS-STARTPTS,"
            f"afade=t=in:d={f:.3f},afade=t=out:st={max(0.0, dur - f):.3f}:d={f:.3f}[a{i}]"
        )
        labels.append(f"[v{i}][a{i}]" if with_video else f"[a{i}]")
    v = 1 if with_video else 0
    out = "[vc][ac]" if with_video else "[ac]"
    parts.append(f"{''.join(labels)}concat=n={len(spans)}:v={v}:a=1{out}")
    return ";".join(parts)


def _audio_chain(spec: RenderSpec, measured: dict | None) -> str:
    loud = f"loudnorm=I={spec.target_lufs}:TP={spec.true_peak_dbtp}:LRA=11"
    if measured:
        loud += (
            f":measured_I={measured['input_i']}:measured_TP={measured['input_tp']}"
            f":measured_LRA={measured['input_lra']}:measured_thresh={measured['input_thresh']}"
            f":offset={measured['target_offset']}:linear=true"
        )
    else:
        loud += ":print_format=json"
    return f"acompressor=ratio=2:threshold=0.1:attack=20:release=250,{loud}"


def render_vertical(
    source: Path,
    spans: Sequence[tuple[float, float]],
    out_path: Path,
    facts: MediaFacts,
    spec: RenderSpec = RenderSpec(),
) -> RenderResult:
    """Cut ``spans`` out of ``source``, lay them out 9:16, normalise loudness, encode H.264/AAC.

    The picture is the source scaled to the frame width over a blurred, zoomed copy
    of itself (the usual Shorts layout for landscape video); audio-only sources get
    a waveform on a plain background. Loudness is two-pass loudnorm: the first pass
    measures the edited audio, the second applies a linear gain to hit the target.
    """
    if not spans:
        raise RenderError(f"{source.name}: nothing to render (empty edit decision list)")
    if not facts.has_audio:
        raise NoAudioError(f"{source.name}: has no audio stream to render")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    w, h = spec.width, spec.height

    # Pass 1: measure the loudness of the edited audio only (cheap, no video decode).
    graph1 = _segments_graph(spans, with_video=False, fade=spec.fade_s)
    graph1 += f";[ac]{_audio_chain(spec, None)}[aout]"
    cmd1 = [
        FFMPEG,
        "-nostdin",
        "-hide_banner",
        "-i",
        str(source),
        "-filter_complex",
        graph1,
        "-map",
        "[aout]",
        "-f",
        "null",
        "-",
    ]
    proc = _run(cmd1, what=f"loudness pass of {source.name}")
    measured = json.loads(proc.stderr[proc.stderr.rfind("{") : proc.stderr.rfind("}") + 1])
    if measured.get("input_i") in ("-inf", None):
        raise RenderError(f"{source.name}: the clip's audio is silent; nothing to normalise")

    duration = sum(e - s for s, e in spans)
    budget_kbps = int(spec.max_bytes * 8 * 0.92 / 1000 / max(duration, 1.0)) - spec.audio_kbps
    video_kbps = max(300, min(spec.max_video_kbps, budget_kbps))
    encoder = h264_encoder()
    commands: list[str] = [" ".join(cmd1)]
    for _attempt in range(3):
        graph = _segments_graph(spans, with_video=facts.has_video, fade=spec.fade_s)
        if facts.has_video:
            graph += (
                f";[vc]split[bgsrc][fgsrc]"
                f";[bgsrc]scale={w // 4}:{h // 4}:force_original_aspect_ratio=increase,"
                f"crop={w // 4}:{h // 4},boxblur=12:2,scale={w}:{h}[bg]"
                f";[fgsrc]scale={w}:{h}:force_original_aspect_ratio=decrease[fg]"
                f";[bg][fg]overlay=(W-w)/2:(H-h)/2,setsar=1,fps={spec.fps},format=yuv420p[vout]"
            )
            audio_label = "ac"
        else:
            audio_label = "acm"
            graph += (
                f";[ac]asplit=2[acm][aw];[aw]showwaves=s={w}x480:mode=cline:colors=white:rate={spec.fps}[wv]"
                f";color=c=0x1d2633:s={w}x{h}:r={spec.fps}[bg]"
                f";[bg][wv]overlay=0:(H-h)/2:shortest=1,setsar=1,format=yuv420p[vout]"
            )
        graph += f";[{audio_label}]{_audio_chain(spec, measured)},aresample=48000[aout]"
        tmp = out_path.with_name(f".{out_path.stem}.partial{out_path.suffix}")
        cmd = [
            FFMPEG,
            "-nostdin",
            "-hide_banner",
            "-y",
            "-i",
            str(source),
            "-filter_complex",
            graph,
            "-map",
            "[vout]",
            "-map",
            "[aout]",
        ]
        cmd += _video_codec_args(encoder, spec, video_kbps)
        cmd += [
            "-c:a",
            "aac",
            "-b:a",
            f"{spec.audio_kbps}k",
            "-ar",
            "48000",
            "-ac",
            "2",
            "-movflags",
            "+faststart",
            "-t",
            f"{duration:.3f}",
            str(tmp),
        ]
        commands.append(" ".join(cmd))
        try:
            _run(cmd, what=f"render of {source.name} -> {out_path.name}")
        except RenderError:
            tmp.unlink(missing_ok=True)
            if encoder != "libx264":
                encoder = "libx264"  # NVENC can fail mid-run (session limits); fall back
                continue
            raise
        if tmp.stat().st_size <= spec.max_bytes:
            os.replace(tmp, out_path)
            return RenderResult(str(out_path), encoder, video_kbps, tuple(commands), measured)
        tmp.unlink(missing_ok=True)
        video_kbps = int(video_kbps * 0.7)
    raise RenderError(f"{out_path.name}: could not get the render under {spec.max_bytes} bytes")


def _video_codec_args(encoder: str, spec: RenderSpec, kbps: int) -> list[str]:
    rate = ["-maxrate", f"{kbps}k", "-bufsize", f"{kbps * 2}k"]
    if encoder == "h264_nvenc":
        return [
            "-c:v",
            "h264_nvenc",
            "-preset",
            "p5",
            "-profile:v",
            "high",
            "-cq",
            str(spec.crf),
            "-b:v",
            f"{int(kbps * 0.7)}k",
            *rate,
            "-pix_fmt",
            "yuv420p",
        ]
    return [
        "-c:v",
        "libx264",
        "-preset",
        spec.preset,
        "-profile:v",
        "high",
        "-crf",
        str(spec.crf),
        *rate,
        "-pix_fmt",
        "yuv420p",
    ]


def extract_frame(source: Path, at_s: float, out_path: Path, width: int = 1280, height: int = 720) -> Path:
    """One JPEG frame at ``at_s``, letterboxed to width x height (thumbnails)."""
    out_path = Path(out_path)
    tmp = out_path.with_name(f".{out_path.stem}.partial{out_path.suffix}")
    _run(
        [
            FFMPEG,
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-ss",
            f"{at_s:.3f}",
            "-i",
            str(source),
            "-frames:v",
            "1",
            "-vf",
            f"scale={width}:{height}:force_original_aspect_ratio=decrease,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2",
            "-q:v",
            "3",
            str(tmp),
        ],
        what=f"thumbnail of {Path(source).name}",
    )
    os.replace(tmp, out_path)
    return out_path


def make_sample_video(
    out_path: Path,
    audio: Path | None,
    duration_s: float | None = None,
    color: str = "0x24466b",
    size: str = "1280x720",
    silent_audio: bool = False,
) -> Path:
    """Build a small H.264/AAC MP4 (for the bundled sample creator and test feeds)."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.stem}.partial{out_path.suffix}")
    cmd = [FFMPEG, "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c={color}:s={size}:r=30"]
    if audio is not None:
        cmd += ["-i", str(audio), "-map", "0:v", "-map", "1:a", "-shortest"]
    elif silent_audio:
        cmd += ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo", "-map", "0:v", "-map", "1:a"]
    if duration_s:
        cmd += ["-t", f"{duration_s:.3f}"]
    cmd += [
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-tune",
        "stillimage",
        "-crf",
        "30",
        "-pix_fmt",
        "yuv420p",
    ]
    if audio is not None or silent_audio:
        cmd += ["-c:a", "aac", "-b:a", "96k", "-ac", "2"]
    cmd += ["-movflags", "+faststart", "-f", "mp4", str(tmp)]
    _run(cmd, what=f"building {out_path.name}")
    os.replace(tmp, out_path)
    return out_path


def copy_atomic(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.partial")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)
    return dst
