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
import math
import os
import re
import shutil
import subprocess
import tempfile
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
    loudness_tolerance_lu: float = 0.3  # corrective gain pass when further off than this
    tp_headroom_db: float = 1.0  # aim this far under the true-peak ceiling (AAC overshoots)
    max_bytes: int = 60 * 1024 * 1024
    max_video_kbps: int = 6000
    audio_kbps: int = 128
    preset: str = "veryfast"
    crf: int = 23
    fade_s: float = 0.012  # fade in/out at the clip's very start and end
    denoise: bool = False  # afftdn before the compressor
    compress: bool = True


@dataclass(frozen=True, slots=True)
class CropPath:
    """A moving crop window in source pixels, keyed by output-timeline seconds.

    ``keyframes`` are (t, x) pairs; x is interpolated linearly between them and held
    outside. A jump (speaker change) is two keyframes one frame apart.
    """

    width: int
    height: int
    y: int
    keyframes: tuple[tuple[float, float], ...]

    def x_at(self, t: float | np.ndarray) -> np.ndarray:
        ts = np.array([k[0] for k in self.keyframes])
        xs = np.array([k[1] for k in self.keyframes])
        return np.interp(t, ts, xs)


@dataclass(frozen=True, slots=True)
class Reframe:
    """How the 9:16 picture is made: ``crop`` follows one path; ``split`` stacks two
    crops (top, bottom); ``fit`` is the source over a blurred copy of itself."""

    mode: str = "fit"  # fit | crop | split
    paths: tuple[CropPath, ...] = ()


@dataclass(frozen=True, slots=True)
class RenderResult:
    path: str
    encoder: str
    video_kbps: int
    commands: tuple[str, ...]
    loudnorm_first_pass: dict
    loudnorm_second_pass: dict
    audio_corrections: tuple[str, ...]  # gain passes after loudnorm, why
    layout: str
    crossfade_s: float


@functools.cache
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


def probe_url_duration(url: str, timeout_s: float = 30.0) -> float | None:
    """Duration of a remote media file from its header (ffprobe reads only what it needs);
    None when ffprobe cannot tell."""
    try:
        proc = subprocess.run(
            [FFPROBE, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", url],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except (subprocess.TimeoutExpired, FileNotFoundError):
        return None
    return _float(proc.stdout.strip()) if proc.returncode == 0 else None


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


def decode_audio(
    path: Path, sample_rate: int = 16000, start_s: float | None = None, end_s: float | None = None
) -> np.ndarray:
    """Mono float32 PCM at ``sample_rate`` (optionally only [start_s, end_s]);
    NoAudioError when there is no audio stream."""
    facts = probe(path)
    if not facts.has_audio:
        raise NoAudioError(
            f"{Path(path).name}: has no audio stream, so there is no speech to transcribe. "
            "Use a source with sound, or remove the post."
        )
    cmd = [FFMPEG, "-nostdin", "-v", "error"]
    if start_s is not None:
        cmd += ["-ss", f"{max(0.0, start_s):.3f}"]
    if end_s is not None:
        cmd += ["-t", f"{max(0.0, end_s - (start_s or 0.0)):.3f}"]
    cmd += ["-i", str(path), "-map", "0:a:0", "-ac", "1"]
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
    proc = _audio_filter_pass(path, f"silencedetect=noise={noise_db}dB:d={min_duration_s}", "silencedetect")
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


def _audio_filter_pass(path: Path, audio_filter: str, what: str) -> subprocess.CompletedProcess:
    """Run an analysis filter over the first audio stream; its report is on stderr."""
    cmd = [FFMPEG, "-nostdin", "-hide_banner", "-i", str(path), "-map", "0:a:0", "-af", audio_filter]
    return _run([*cmd, "-f", "null", "-"], what=f"{what} {Path(path).name}")


def measure_loudness(path: Path) -> Loudness:
    """EBU R128 integrated loudness and true peak, measured by ffmpeg's ebur128 filter."""
    proc = _audio_filter_pass(path, "ebur128=peak=true", "ebur128")
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


def _seek_window(spans: Sequence[tuple[float, float]], fps: float) -> tuple[float, float]:
    """Input seek point on the frame grid (one frame before the first span) and how long to read."""
    first, last = spans[0][0], spans[-1][1]
    ss = max(0.0, math.floor(first * fps - 1.0) / fps) if first > 0 else 0.0
    return round(ss, 6), last - ss + 1.0


def _input_args(source: Path, ss: float, dur: float) -> list[str]:
    args = ["-ss", f"{ss:.6f}"] if ss > 0 else []
    return [*args, "-t", f"{dur:.3f}", "-i", str(source)]


def _relative(spans: Sequence[tuple[float, float]], ss: float) -> list[tuple[float, float]]:
    return [(round(a - ss, 6), round(b - ss, 6)) for a, b in spans]


def _video_edit(spans: Sequence[tuple[float, float]], xfade: float, src: str = "0:v") -> str:
    """Trim and join the kept spans (each but the last loses the crossfade's length) -> [vc]."""
    n = len(spans)
    parts = []
    for i, (a, b) in enumerate(spans):
        e = b - (xfade if i < n - 1 else 0.0)
        parts.append(f"[{src}]trim=start={a:.6f}:end={e:.6f},setpts=PTS-STARTPTS[v{i}]")
    labels = "".join(f"[v{i}]" for i in range(n))
    parts.append(f"{labels}concat=n={n}:v=1:a=0[vc]")
    return ";".join(parts)


def _audio_edit(
    spans: Sequence[tuple[float, float]], xfade: float, spec: RenderSpec, src: str = "0:a"
) -> str:
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


def _loudnorm(spec: RenderSpec, measured: dict | None) -> str:
    ceiling = spec.true_peak_dbtp - spec.tp_headroom_db
    if measured is None:
        return f"loudnorm=I={spec.target_lufs}:TP={ceiling}:LRA=11:print_format=json"
    lra = min(50.0, max(11.0, float(measured["input_lra"]) + 1.0))  # wide enough to stay linear
    return (
        f"loudnorm=I={spec.target_lufs}:TP={ceiling}:LRA={lra:.1f}"
        f":measured_I={measured['input_i']}:measured_TP={measured['input_tp']}"
        f":measured_LRA={measured['input_lra']}:measured_thresh={measured['input_thresh']}"
        f":offset={measured['target_offset']}:linear=true:print_format=json"
    )


def _last_json(stderr: str) -> dict:
    try:
        return json.loads(stderr[stderr.rfind("{") : stderr.rfind("}") + 1])
    except ValueError:
        return {}


def _gain_limit(gain_db: float, ceiling_dbtp: float) -> str:
    """A gain, then a true-peak limiter (4x oversampled look-ahead limiter), back at 48 kHz."""
    limit = min(1.0, max(0.0625, 10 ** (ceiling_dbtp / 20)))
    return (
        f"volume={gain_db:.3f}dB,aresample=192000,"
        f"alimiter=limit={limit:.5f}:attack=1:release=60:level=0:latency=1,aresample=48000"
    )


def _loudness_ok(loud: Loudness, spec: RenderSpec, tol: float) -> bool:
    return abs(loud.integrated_lufs - spec.target_lufs) <= tol and loud.true_peak_dbtp <= spec.true_peak_dbtp


def _prepare_audio(
    source: Path,
    spans_rel: Sequence[tuple[float, float]],
    in_args: list[str],
    xfade: float,
    spec: RenderSpec,
    work: Path,
    commands: list[str],
) -> tuple[Path, dict, dict, list[str]]:
    """Edit, compress and normalise the clip's audio into a 48 kHz WAV.

    Pass 1 measures the edited audio (loudnorm), pass 2 applies loudnorm linearly with
    those measurements, or, when the gain would push the peaks over the ceiling (loudnorm
    would then fall back to its dynamic mode), the same gain with a true-peak limiter.
    ebur128 checks the result and corrective gain + limiter passes follow while the level
    is more than ``loudness_tolerance_lu`` off (at most two)."""
    edit = _audio_edit(spans_rel, xfade, spec)
    cmd1 = [FFMPEG, "-nostdin", "-hide_banner", *in_args, "-filter_complex"]
    cmd1 += [f"{edit};[ac]{_loudnorm(spec, None)}[aout]", "-map", "[aout]", "-f", "null", "-"]
    commands.append(" ".join(cmd1))
    measured = _last_json(_run(cmd1, what=f"loudness pass of {source.name}").stderr)
    if measured.get("input_i") in ("-inf", None) or float(measured["input_i"]) < -70:
        raise RenderError(f"{source.name}: the clip's audio is silent; nothing to normalise")
    wav = work / "audio.wav"
    ceiling = spec.true_peak_dbtp - spec.tp_headroom_db
    gain = spec.target_lufs - float(measured["input_i"])
    corrections: list[str] = []
    if float(measured["input_tp"]) + gain <= ceiling:
        second_pass = f"{_loudnorm(spec, measured)},aresample=48000"
    else:
        # loudnorm would fall back to its dynamic mode (pumping, and a loud burst where the
        # clip starts quietly): apply the gain linearly and catch the peaks with a limiter.
        second_pass = _gain_limit(gain, ceiling)
        corrections.append(
            f"linear gain {gain:+.2f} dB + true-peak limiter at {ceiling} dBTP instead of loudnorm "
            f"(peaks at {float(measured['input_tp']) + gain:+.2f} dBTP would force its dynamic mode)"
        )
    cmd2 = [FFMPEG, "-nostdin", "-hide_banner", "-y", *in_args, "-filter_complex"]
    cmd2 += [f"{edit};[ac]{second_pass}[aout]", "-map", "[aout]"]
    cmd2 += ["-ac", "2", "-c:a", "pcm_f32le", str(wav)]
    commands.append(" ".join(cmd2))
    second = _last_json(_run(cmd2, what=f"normalisation pass of {source.name}").stderr)
    for i in range(2):
        loud = measure_loudness(wav)
        if (
            abs(loud.integrated_lufs - spec.target_lufs) <= spec.loudness_tolerance_lu
            and loud.true_peak_dbtp <= ceiling + 0.1
        ):
            break
        gain = spec.target_lufs - loud.integrated_lufs
        corrections.append(
            f"gain {gain:+.2f} dB + true-peak limit {ceiling} dBTP "
            f"(after pass 2, {second.get('normalization_type', 'gain+limiter')}: "
            f"{loud.integrated_lufs:.2f} LUFS, {loud.true_peak_dbtp:.2f} dBTP)"
        )
        fixed = work / f"audio-fix{i}.wav"
        cmd = [FFMPEG, "-nostdin", "-v", "error", "-y", "-i", str(wav), "-af", _gain_limit(gain, ceiling)]
        cmd += ["-c:a", "pcm_f32le", str(fixed)]
        commands.append(" ".join(cmd))
        _run(cmd, what=f"corrective gain of {source.name}")
        wav = fixed
    return wav, measured, second, corrections


def _escape_path(path: Path) -> str:
    """A path as a filter option value inside single quotes."""
    return str(path).replace("\\", "/").replace("'", r"'\''").replace(":", r"\:")


def _sendcmd_file(path: CropPath, fps: float, total: float, name: str, out: Path) -> None:
    """One ``x`` command per output frame at which the crop's integer x changes."""
    lines, last = [], None
    for k in range(int(math.ceil(total * fps)) + 1):
        t = k / fps
        x = int(round(float(path.x_at(t))))
        if x != last:
            lines.append(f"{t:.4f} {name} x {x};")
            last = x
    out.write_text("\n".join(lines) + "\n")


def _picture_graph(
    reframe: Reframe,
    spec: RenderSpec,
    facts: MediaFacts,
    total: float,
    captions: Path | None,
    work: Path,
) -> tuple[str, str]:
    """From [vc] (the edited source picture) to [vout] 1080x1920; returns (graph, layout)."""
    w, h = spec.width, spec.height
    subs = f",ass=filename='{_escape_path(captions)}'" if captions else ""
    mode = reframe.mode if reframe.paths else "fit"
    if mode in ("crop", "split"):
        n = 1 if mode == "crop" else 2
        tile_h = h // n
        parts = [
            f"[vc]fps={spec.fps}" + (f",split=2{''.join(f'[s{i}]' for i in range(n))}" if n > 1 else "[s0]")
        ]
        for i, path in enumerate(reframe.paths[:n]):
            cmdfile = work / f"crop{i}.cmd"
            _sendcmd_file(path, spec.fps, total, f"crop@c{i}", cmdfile)
            x0 = int(round(float(path.x_at(0.0))))
            parts.append(
                f"[s{i}]sendcmd=f='{_escape_path(cmdfile)}',"
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


def render_vertical(
    source: Path,
    spans: Sequence[tuple[float, float]],
    out_path: Path,
    facts: MediaFacts,
    spec: RenderSpec = RenderSpec(),
    reframe: Reframe | None = None,
    captions_ass: Path | None = None,
    crossfade_s: float | None = None,
) -> RenderResult:
    """Cut ``spans`` out of ``source``, lay them out 9:16, normalise loudness, encode H.264/AAC.

    Picture: ``reframe`` ``crop`` (a moving crop window following a face, via ``sendcmd``
    commands to a ``crop`` filter, one per frame where x changes), ``split`` (two crops
    stacked), or the source over a blurred, zoomed copy of itself (``fit``, the default
    and the fallback when there is no face); audio-only sources get a waveform.
    Optional burned-in ASS captions (libass). Consecutive spans are joined with a
    ``crossfade_s`` equal-power audio crossfade (default: one frame), the picture drops
    the same length, so sound and picture stay in sync. Audio: see ``_prepare_audio``.
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
    ss, dur = _seek_window(spans, src_fps)
    rel = _relative(spans, ss)
    in_args = _input_args(source, ss, dur)
    total = sum(b - a for a, b in spans) - xfade * (len(spans) - 1)
    reframe = reframe or Reframe()
    commands: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="omniva-render-"))
    try:
        wav, first, second, corrections = _prepare_audio(source, rel, in_args, xfade, spec, work, commands)
        budget_kbps = int(spec.max_bytes * 8 * 0.92 / 1000 / max(total, 1.0)) - spec.audio_kbps
        video_kbps = max(300, min(spec.max_video_kbps, budget_kbps))
        encoder = h264_encoder()
        if facts.has_video:
            graph = _video_edit(rel, xfade)
            pic, layout = _picture_graph(reframe, spec, facts, total, captions_ass, work)
            graph += ";" + pic
        else:
            layout = "waveform"
            subs = f",ass=filename='{_escape_path(captions_ass)}'" if captions_ass else ""
            graph = (
                f"[1:a]showwaves=s={spec.width}x480:mode=cline:colors=white:rate={spec.fps}[wv]"
                f";color=c=0x1d2633:s={spec.width}x{spec.height}:r={spec.fps}[bg]"
                f";[bg][wv]overlay=0:(H-h)/2:shortest=1,setsar=1{subs},format=yuv420p[vout]"
            )
        tmp = out_path.with_name(f".{out_path.stem}.partial{out_path.suffix}")
        for _attempt in range(4):
            cmd = [FFMPEG, "-nostdin", "-hide_banner", "-y", *in_args, "-i", str(wav)]
            cmd += ["-filter_complex", graph, "-map", "[vout]", "-map", "1:a"]
            cmd += _video_codec_args(encoder, spec, video_kbps)
            cmd += ["-c:a", "aac", "-b:a", f"{spec.audio_kbps}k", "-ar", "48000", "-ac", "2"]
            cmd += ["-movflags", "+faststart", "-t", f"{total:.3f}", str(tmp)]
            commands.append(" ".join(cmd))
            try:
                _run(cmd, what=f"render of {source.name} -> {out_path.name}")
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
            # AAC can shift the true peak (most near sharp onsets): measure the encoded file
            # and redo the audio alone (video copied) with a corrected gain and a lower
            # limiter ceiling until it meets the spec (at most three tries).
            gain, ceiling = 0.0, spec.true_peak_dbtp - spec.tp_headroom_db
            for k in range(3):
                loud = measure_loudness(tmp)
                if _loudness_ok(loud, spec, 0.5 - 0.15):
                    break
                gain += spec.target_lufs - loud.integrated_lufs
                ceiling -= max(0.0, loud.true_peak_dbtp - (spec.true_peak_dbtp - 0.2))
                corrections.append(
                    f"after AAC: {loud.integrated_lufs:.2f} LUFS, {loud.true_peak_dbtp:.2f} dBTP; "
                    f"gain {gain:+.2f} dB, limit {ceiling:.2f} dBTP, audio re-encoded"
                )
                fixed = work / f"audio-final{k}.wav"
                fix = [FFMPEG, "-nostdin", "-v", "error", "-y", "-i", str(wav)]
                fix += ["-af", _gain_limit(gain, ceiling), "-c:a", "pcm_f32le", str(fixed)]
                _run(fix, what=f"final gain of {source.name}")
                remux = tmp.with_name(f".{out_path.stem}.remux.partial{out_path.suffix}")
                cmd = [FFMPEG, "-nostdin", "-v", "error", "-y", "-i", str(tmp), "-i", str(fixed)]
                cmd += ["-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac"]
                cmd += ["-b:a", f"{spec.audio_kbps}k", "-ar", "48000", "-ac", "2"]
                cmd += ["-movflags", "+faststart", str(remux)]
                commands += [" ".join(fix), " ".join(cmd)]
                _run(cmd, what=f"audio remux of {out_path.name}")
                os.replace(remux, tmp)
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


def sample_frames(
    source: Path,
    spans: Sequence[tuple[float, float]],
    facts: MediaFacts,
    crossfade_s: float = 0.0,
    fps: float = 5.0,
    width: int = 480,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Grey frames of the edited clip at ``fps``, ``width`` wide, in output-timeline order.

    Returns (times in output seconds, frames [n, h, w] uint8, scale from these frames
    to source pixels). Used for face detection and thumbnail choice.
    """
    if not facts.has_video or not facts.width or not facts.height:
        return np.zeros(0), np.zeros((0, 0, 0), np.uint8), 1.0
    src_fps = facts.fps or 30.0
    xfade = crossfade_s if len(spans) > 1 else 0.0
    ss, dur = _seek_window(spans, src_fps)
    rel = _relative(spans, ss)
    h = int(round(facts.height * width / facts.width / 2)) * 2
    graph = _video_edit(rel, xfade) + f";[vc]fps={fps},scale={width}:{h},format=gray[out]"
    cmd = [FFMPEG, "-nostdin", "-v", "error", *_input_args(source, ss, dur), "-filter_complex", graph]
    cmd += ["-map", "[out]", "-f", "rawvideo", "-pix_fmt", "gray", "-"]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        raise RenderError(f"frame sampling of {Path(source).name} failed: {proc.stderr.decode()[-300:]}")
    frames = np.frombuffer(proc.stdout, np.uint8)
    n = len(frames) // (width * h)
    frames = frames[: n * width * h].reshape(n, h, width)
    return np.arange(n) / fps, frames, facts.width / width


def mp4_top_level_boxes(path: Path) -> list[str]:
    """Types of the top-level boxes of an MP4, in file order (``moov`` before ``mdat``: faststart)."""
    boxes = []
    with open(path, "rb") as fh:
        size_total = os.fstat(fh.fileno()).st_size
        pos = 0
        while pos + 8 <= size_total and len(boxes) < 64:
            fh.seek(pos)
            header = fh.read(16)
            size = int.from_bytes(header[:4], "big")
            kind = header[4:8].decode("latin-1")
            if size == 1:
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:
                size = size_total - pos
            if size < 8:
                break
            boxes.append(kind)
            pos += size
    return boxes


def is_faststart(path: Path) -> bool:
    boxes = mp4_top_level_boxes(path)
    return "moov" in boxes and "mdat" in boxes and boxes.index("moov") < boxes.index("mdat")


def extract_frame(
    source: Path,
    at_s: float,
    out_path: Path,
    width: int = 1280,
    height: int = 720,
    center_x: float | None = None,
    max_bytes: int = 2 * 1024 * 1024,
) -> Path:
    """One JPEG frame at ``at_s`` (thumbnails), width x height, under ``max_bytes``.

    With ``center_x`` (0..1 of the source width) the frame is scaled to cover the box and
    cropped around that point (a face); without, it is letterboxed.
    """
    out_path = Path(out_path)
    tmp = out_path.with_name(f".{out_path.stem}.partial{out_path.suffix}")
    if center_x is None:
        vf = (
            f"scale={width}:{height}:force_original_aspect_ratio=decrease,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2"
        )
    else:
        vf = (
            f"scale={width}:{height}:force_original_aspect_ratio=increase,"
            f"crop={width}:{height}:x='max(0,min(iw-{width},{center_x:.4f}*iw-{width / 2}))':y=(ih-{height})/2"
        )
    for quality in (2, 4, 8, 15):
        _run(
            [
                FFMPEG,
                "-nostdin",
                "-v",
                "error",
                "-y",
                "-ss",
                f"{max(0.0, at_s):.3f}",
                "-i",
                str(source),
                "-frames:v",
                "1",
                "-vf",
                vf,
                "-q:v",
                str(quality),
                str(tmp),
            ],
            what=f"thumbnail of {Path(source).name}",
        )
        if tmp.stat().st_size <= max_bytes:
            break
    os.replace(tmp, out_path)
    return out_path


def write_video(
    out_path: Path,
    frames,
    fps: float,
    size: tuple[int, int],
    audio: Path | None = None,
) -> Path:
    """Encode RGB frames (an iterable of HxWx3 uint8 arrays) to H.264 MP4, with an
    optional audio file (test and benchmark media)."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.stem}.partial{out_path.suffix}")
    w, h = size
    cmd = [FFMPEG, "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24"]
    cmd += ["-s", f"{w}x{h}", "-r", str(fps), "-i", "-"]
    if audio is not None:
        cmd += ["-i", str(audio), "-map", "0:v", "-map", "1:a", "-shortest", "-c:a", "aac", "-b:a", "128k"]
    cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
    cmd += ["-movflags", "+faststart", "-f", "mp4", str(tmp)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        for frame in frames:
            proc.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
    finally:
        proc.stdin.close()
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.wait() != 0:
        raise RenderError(f"writing {out_path.name} failed: {err[-300:]}")
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


def write_text_atomic(path: Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
