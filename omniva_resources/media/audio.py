"""A file's sound: decoded samples, silent spans, EBU R128 loudness."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omniva.errors import CorruptMediaError, NoAudioError, RenderError
from omniva_resources.media.probe import probe
from omniva_resources.media.run import DEFAULT_TOOLS, FFmpegTools, run, run_binary


@dataclass(frozen=True, slots=True)
class Loudness:
    integrated_lufs: float
    true_peak_dbtp: float
    lra_lu: float


def decode_audio(
    path: Path,
    sample_rate: int = 16000,
    start_s: float | None = None,
    end_s: float | None = None,
    tools: FFmpegTools = DEFAULT_TOOLS,
) -> np.ndarray:
    """Mono float32 PCM at ``sample_rate`` (optionally only [start_s, end_s]);
    NoAudioError when there is no audio stream."""
    facts = probe(path, tools)
    if not facts.has_audio:
        raise NoAudioError(
            f"{Path(path).name}: has no audio stream, so there is no speech to transcribe. "
            "Use a source with sound, or remove the post."
        )
    cmd = [tools.ffmpeg, "-nostdin", "-v", "error"]
    if start_s is not None:
        cmd += ["-ss", f"{max(0.0, start_s):.3f}"]
    if end_s is not None:
        cmd += ["-t", f"{max(0.0, end_s - (start_s or 0.0)):.3f}"]
    cmd += ["-i", str(path), "-map", "0:a:0", "-ac", "1"]
    cmd += ["-ar", str(sample_rate), "-f", "s16le", "-"]
    proc = run_binary(cmd)
    if proc.returncode != 0:
        raise CorruptMediaError(
            f"{Path(path).name}: audio could not be decoded ({proc.stderr.decode()[-300:].strip()})"
        )
    return np.frombuffer(proc.stdout, np.int16).astype(np.float32) / 32768.0


def detect_silences(
    path: Path, noise_db: float = -35.0, min_duration_s: float = 0.4, tools: FFmpegTools = DEFAULT_TOOLS
) -> list[tuple[float, float]]:
    """Silent spans from ffmpeg's silencedetect, as (start, end) seconds."""
    facts = probe(path, tools)
    if not facts.has_audio:
        return [(0.0, facts.duration_s)]
    proc = audio_filter_pass(
        path, f"silencedetect=noise={noise_db}dB:d={min_duration_s}", "silencedetect", tools
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


def audio_filter_pass(
    path: Path, audio_filter: str, what: str, tools: FFmpegTools = DEFAULT_TOOLS
) -> subprocess.CompletedProcess[str]:
    """Run an analysis filter over the first audio stream; its report is on stderr."""
    cmd = [tools.ffmpeg, "-nostdin", "-hide_banner", "-i", str(path), "-map", "0:a:0", "-af", audio_filter]
    return run([*cmd, "-f", "null", "-"], what=f"{what} {Path(path).name}")


def measure_loudness(path: Path, tools: FFmpegTools = DEFAULT_TOOLS) -> Loudness:
    """EBU R128 integrated loudness and true peak, measured by ffmpeg's ebur128 filter."""
    proc = audio_filter_pass(path, "ebur128=peak=true", "ebur128", tools)
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
