"""What a render is asked for (RenderSpec, the picture's Reframe) and what it reports."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omniva.layout import AudiogramStyle
from omniva_resources.media.audio import Loudness

_AUDIOGRAM = AudiogramStyle()

# How far inside ``RenderSpec.loudness_tolerance_lu`` each stage of the render aims, so
# the drift of the stages after it stays within the tolerance: the normalised WAV (the
# AAC encode still moves the level and the peaks) and the encoded file (a re-measure by
# another decoder differs by a few hundredths).
WAV_MARGIN_LU = 0.2
ENCODED_MARGIN_LU = 0.15


@dataclass(frozen=True, slots=True)
class RenderSpec:
    """How a clip is rendered; defaults are the YouTube Shorts target."""

    width: int = 1080
    height: int = 1920
    fps: int = 30
    target_lufs: float = -14.0
    true_peak_dbtp: float = -1.5
    loudness_tolerance_lu: float = 0.5  # the spec: integrated loudness within this of target_lufs
    tp_headroom_db: float = 1.0  # aim this far under the true-peak ceiling (AAC overshoots)
    max_bytes: int = 60 * 1024 * 1024
    max_video_kbps: int = 6000
    audio_kbps: int = 128
    preset: str = "veryfast"
    crf: int = 23
    fade_s: float = 0.012  # fade in/out at the clip's very start and end
    denoise: bool = False  # afftdn before the compressor
    compress: bool = True
    # The picture: "auto" (a still or missing picture gets the audiogram, moving video the
    # face-aware reframe; omniva.layout), "audiogram" or "reframe" for every clip.
    layout: str = "auto"
    still_threshold: float = 1.5  # grey levels between samples a still picture stays under
    audiogram_colour: str = _AUDIOGRAM.colour
    audiogram_wave: str = _AUDIOGRAM.wave
    audiogram_title_size: int = _AUDIOGRAM.title_size
    audiogram_caption_size: int = _AUDIOGRAM.caption_size
    audiogram_darken: float = _AUDIOGRAM.darken

    def audiogram_style(self) -> AudiogramStyle:
        return AudiogramStyle(
            colour=self.audiogram_colour.removeprefix("#").removeprefix("0x"),
            wave=self.audiogram_wave,
            title_size=self.audiogram_title_size,
            caption_size=self.audiogram_caption_size,
            darken=self.audiogram_darken,
        ).check()

    @property
    def limiter_ceiling_dbtp(self) -> float:
        return self.true_peak_dbtp - self.tp_headroom_db

    def loudness_off(self, loud: Loudness, margin_lu: float = 0.0) -> bool:
        """Integrated loudness further than the tolerance (less ``margin_lu``) from the target."""
        return abs(loud.integrated_lufs - self.target_lufs) > self.loudness_tolerance_lu - margin_lu

    def meets_loudness(self, loud: Loudness, margin_lu: float = 0.0) -> bool:
        """Within the loudness tolerance (less ``margin_lu``) and under the true-peak ceiling."""
        return not self.loudness_off(loud, margin_lu) and loud.true_peak_dbtp <= self.true_peak_dbtp


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
