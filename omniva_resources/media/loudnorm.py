"""The render's sound: the edited audio normalised to the spec's loudness, and the
encoded file's level checked and corrected after AAC."""

from __future__ import annotations

import json
import os
from pathlib import Path

from omniva.errors import RenderError
from omniva_resources.media.audio import measure_loudness
from omniva_resources.media.edit import Spans, audio_edit
from omniva_resources.media.run import DEFAULT_TOOLS, FFmpegTools, run
from omniva_resources.media.spec import ENCODED_MARGIN_LU, WAV_MARGIN_LU, RenderSpec

# The limiter ceiling of a corrective pass drops by however far the encoded true peak
# came above this much under the spec's ceiling.
ENCODED_TP_MARGIN_DB = 0.2


def loudnorm_filter(spec: RenderSpec, measured: dict | None) -> str:
    """ffmpeg's loudnorm: measuring (pass 1) or, with pass 1's numbers, linear (pass 2)."""
    ceiling = spec.limiter_ceiling_dbtp
    if measured is None:
        return f"loudnorm=I={spec.target_lufs}:TP={ceiling}:LRA=11:print_format=json"
    lra = min(50.0, max(11.0, float(measured["input_lra"]) + 1.0))  # wide enough to stay linear
    return (
        f"loudnorm=I={spec.target_lufs}:TP={ceiling}:LRA={lra:.1f}"
        f":measured_I={measured['input_i']}:measured_TP={measured['input_tp']}"
        f":measured_LRA={measured['input_lra']}:measured_thresh={measured['input_thresh']}"
        f":offset={measured['target_offset']}:linear=true:print_format=json"
    )


def last_json(stderr: str) -> dict:
    """The JSON report loudnorm prints last on stderr; {} when there is none."""
    try:
        return json.loads(stderr[stderr.rfind("{") : stderr.rfind("}") + 1])
    except ValueError:
        return {}


def gain_limit(gain_db: float, ceiling_dbtp: float) -> str:
    """A gain, then a true-peak limiter (4x oversampled look-ahead limiter), back at 48 kHz."""
    limit = min(1.0, max(0.0625, 10 ** (ceiling_dbtp / 20)))
    return (
        f"volume={gain_db:.3f}dB,aresample=192000,"
        f"alimiter=limit={limit:.5f}:attack=1:release=60:level=0:latency=1,aresample=48000"
    )


def normalise_audio(
    source: Path,
    spans_rel: Spans,
    in_args: list[str],
    xfade: float,
    spec: RenderSpec,
    work: Path,
    commands: list[str],
    tools: FFmpegTools = DEFAULT_TOOLS,
) -> tuple[Path, dict, dict, list[str]]:
    """Edit, compress and normalise the clip's audio into a 48 kHz WAV; returns (the WAV,
    pass 1's measurements, pass 2's report, the corrections made and why).

    Pass 1 measures the edited audio (loudnorm), pass 2 applies loudnorm linearly with
    those measurements, or, when the gain would push the peaks over the ceiling (loudnorm
    would then fall back to its dynamic mode), the same gain with a true-peak limiter.
    ebur128 checks the result and corrective gain + limiter passes follow while the level
    is further off than the tolerance less ``WAV_MARGIN_LU`` (at most two)."""
    edit = audio_edit(spans_rel, xfade, spec)
    cmd1 = [tools.ffmpeg, "-nostdin", "-hide_banner", *in_args, "-filter_complex"]
    cmd1 += [f"{edit};[ac]{loudnorm_filter(spec, None)}[aout]", "-map", "[aout]", "-f", "null", "-"]
    commands.append(" ".join(cmd1))
    measured = last_json(run(cmd1, what=f"loudness pass of {source.name}").stderr)
    if measured.get("input_i") in ("-inf", None) or float(measured["input_i"]) < -70:
        raise RenderError(f"{source.name}: the clip's audio is silent; nothing to normalise")
    wav = work / "audio.wav"
    ceiling = spec.limiter_ceiling_dbtp
    gain = spec.target_lufs - float(measured["input_i"])
    corrections: list[str] = []
    if float(measured["input_tp"]) + gain <= ceiling:
        second_pass = f"{loudnorm_filter(spec, measured)},aresample=48000"
    else:
        # loudnorm would fall back to its dynamic mode (pumping, and a loud burst where the
        # clip starts quietly): apply the gain linearly and catch the peaks with a limiter.
        second_pass = gain_limit(gain, ceiling)
        corrections.append(
            f"linear gain {gain:+.2f} dB + true-peak limiter at {ceiling} dBTP instead of loudnorm "
            f"(peaks at {float(measured['input_tp']) + gain:+.2f} dBTP would force its dynamic mode)"
        )
    cmd2 = [tools.ffmpeg, "-nostdin", "-hide_banner", "-y", *in_args, "-filter_complex"]
    cmd2 += [f"{edit};[ac]{second_pass}[aout]", "-map", "[aout]"]
    cmd2 += ["-ac", "2", "-c:a", "pcm_f32le", str(wav)]
    commands.append(" ".join(cmd2))
    second = last_json(run(cmd2, what=f"normalisation pass of {source.name}").stderr)
    for i in range(2):
        loud = measure_loudness(wav, tools)
        if not spec.loudness_off(loud, WAV_MARGIN_LU) and loud.true_peak_dbtp <= ceiling + 0.1:
            break
        gain = spec.target_lufs - loud.integrated_lufs
        corrections.append(
            f"gain {gain:+.2f} dB + true-peak limit {ceiling} dBTP "
            f"(after pass 2, {second.get('normalization_type', 'gain+limiter')}: "
            f"{loud.integrated_lufs:.2f} LUFS, {loud.true_peak_dbtp:.2f} dBTP)"
        )
        fixed = work / f"audio-fix{i}.wav"
        cmd = [tools.ffmpeg, "-nostdin", "-v", "error", "-y", "-i", str(wav)]
        cmd += ["-af", gain_limit(gain, ceiling), "-c:a", "pcm_f32le", str(fixed)]
        commands.append(" ".join(cmd))
        run(cmd, what=f"corrective gain of {source.name}")
        wav = fixed
    return wav, measured, second, corrections


def correct_encoded_loudness(
    encoded: Path,
    wav: Path,
    out_path: Path,
    source_name: str,
    spec: RenderSpec,
    work: Path,
    commands: list[str],
    corrections: list[str],
    tools: FFmpegTools = DEFAULT_TOOLS,
) -> None:
    """AAC can shift the true peak (most near sharp onsets): measure the encoded file and
    redo its audio alone (video copied) from ``wav`` with a corrected gain and a lower
    limiter ceiling until it meets the spec less ``ENCODED_MARGIN_LU`` (at most three tries).
    ``encoded`` is replaced in place; ``out_path`` names the remux's temporary file."""
    gain, ceiling = 0.0, spec.limiter_ceiling_dbtp
    for k in range(3):
        loud = measure_loudness(encoded, tools)
        if spec.meets_loudness(loud, ENCODED_MARGIN_LU):
            return
        gain += spec.target_lufs - loud.integrated_lufs
        ceiling -= max(0.0, loud.true_peak_dbtp - (spec.true_peak_dbtp - ENCODED_TP_MARGIN_DB))
        corrections.append(
            f"after AAC: {loud.integrated_lufs:.2f} LUFS, {loud.true_peak_dbtp:.2f} dBTP; "
            f"gain {gain:+.2f} dB, limit {ceiling:.2f} dBTP, audio re-encoded"
        )
        fixed = work / f"audio-final{k}.wav"
        fix = [tools.ffmpeg, "-nostdin", "-v", "error", "-y", "-i", str(wav)]
        fix += ["-af", gain_limit(gain, ceiling), "-c:a", "pcm_f32le", str(fixed)]
        run(fix, what=f"final gain of {source_name}")
        remux = encoded.with_name(f".{out_path.stem}.remux.partial{out_path.suffix}")
        cmd = [tools.ffmpeg, "-nostdin", "-v", "error", "-y", "-i", str(encoded), "-i", str(fixed)]
        cmd += ["-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac"]
        cmd += ["-b:a", f"{spec.audio_kbps}k", "-ar", "48000", "-ac", "2"]
        cmd += ["-movflags", "+faststart", str(remux)]
        commands += [" ".join(fix), " ".join(cmd)]
        run(cmd, what=f"audio remux of {out_path.name}")
        os.replace(remux, encoded)
