"""The picture of a video, for judging its clips: shot boundaries, faces and motion.

Pure functions over a ``PictureTrack`` (``omniva_resources.media.shots`` measures it: ffmpeg's
scene-change detector ``scdet`` over every frame, and grey samples a few per second for OpenCV's
face cascade and the frame-to-frame change). Nothing here touches media.

``span_picture`` -> a clip's picture features:

- ``face_share``: share of the span's samples with a face in shot;
- ``face_size``: the largest face's height over the frame's, median over the samples with one;
- ``motion``: mean grey change between samples (0..1 of full scale; samples next to a shot
  boundary do not count: a cut is not motion);
- ``shot_cuts``: shot boundaries inside the span, and ``cuts_per_min``;
- ``edge_cut_s``: a shot boundary this close inside either edge (a flash of another shot when
  the clip opens or closes), else absent;
- ``visual``: 0..1, what the picture gives a Short (``visual_score``).

``snap`` moves a clip's edge onto a shot boundary when one lies in the pause beside it.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

EDGE_S = 0.5  # a shot boundary closer than this inside a clip's edge is a flash of another shot
SNAP_S = 0.6  # how far an edge may move onto a shot boundary (inside the pause only)
MOTION_FULL = 0.04  # mean grey change between samples that counts as a lively picture
FACE_FULL = 0.25  # a face this tall (of the frame) or more is a close shot


@dataclass(frozen=True, slots=True)
class PictureTrack:
    """Shot boundaries (seconds), and per sample (``sample_fps``; sample ``k`` at ``k / fps``)
    the largest face's height over the frame's (0: none) and the grey change from the sample
    before (0..1)."""

    sample_fps: float
    cuts: tuple[float, ...]
    faces: tuple[float, ...]
    motion: tuple[float, ...]

    @property
    def is_still(self) -> bool:
        """No shot boundary, no face and (almost) no motion anywhere: a still picture, a slide,
        a cover image; its picture says nothing about one clip over another."""
        return not self.cuts and not any(self.faces) and max(self.motion, default=0.0) < 0.002

    def window(self, start: float, end: float) -> tuple[int, int]:
        """[first, last) sample indices inside [start, end)."""
        n = len(self.faces)
        lo = min(n, max(0, math.ceil(start * self.sample_fps)))
        hi = min(n, max(lo, math.ceil(end * self.sample_fps)))
        return lo, hi

    def cuts_in(self, start: float, end: float) -> tuple[float, ...]:
        return self.cuts[bisect.bisect_right(self.cuts, start) : bisect.bisect_left(self.cuts, end)]

    def record(self) -> dict[str, Any]:
        """A summary for the analysis row (the samples themselves stay in the asset)."""
        n = len(self.faces)
        return {
            "sample_fps": self.sample_fps,
            "samples": n,
            "shot_cuts": [round(c, 3) for c in self.cuts],
            "face_share": round(sum(1 for f in self.faces if f > 0) / n, 3) if n else 0.0,
            "motion_mean": round(sum(self.motion) / n, 4) if n else 0.0,
            "still": self.is_still,
        }


def summary(track: PictureTrack | None, note: str = "") -> str:
    """The track in a line (the ``analyses`` asset's metadata), or why there is none."""
    if track is None:
        return note
    record = track.record()
    still = "; a still" if record["still"] else ""
    return f"{len(track.cuts)} shot changes; face in shot {record['face_share']:.0%}{still}"


def span_picture(track: PictureTrack, start: float, end: float) -> dict[str, Any]:
    """The picture features of the span [start, end) (see the module doc)."""
    lo, hi = track.window(start, end)
    faces = track.faces[lo:hi]
    fps = track.sample_fps
    near_cut = {
        k
        for c in track.cuts_in(start - 1 / fps, end + 1 / fps)
        for k in (math.floor(c * fps), math.ceil(c * fps))
    }
    # a sample's motion is its change from the sample before: the span's first looks outside it
    motion = [track.motion[k] for k in range(lo + 1, hi) if k not in near_cut]
    sized = sorted(f for f in faces if f > 0)
    cuts = track.cuts_in(start, end)
    f: dict[str, Any] = {
        "face_share": round(len(sized) / len(faces), 3) if faces else 0.0,
        "face_size": round(sized[len(sized) // 2], 3) if sized else 0.0,
        "motion": round(sum(motion) / len(motion), 4) if motion else 0.0,
        "shot_cuts": len(cuts),
        "cuts_per_min": round(len(cuts) / max(1e-6, end - start) * 60, 2),
    }
    edge = [min(c - start, end - c) for c in cuts if min(c - start, end - c) < EDGE_S]
    if edge:
        f["edge_cut_s"] = round(min(edge), 3)
    f["visual"] = visual_score(f)
    return f


def visual_score(f: dict[str, Any]) -> float:
    """0..1: a face in shot (more for a close one), a picture that moves, and no flash of another
    shot at the clip's edges."""
    presence = float(f["face_share"]) * min(1.0, 0.4 + 0.6 * float(f["face_size"]) / FACE_FULL)
    lively = min(1.0, float(f["motion"]) / MOTION_FULL)
    clean = 0.0 if "edge_cut_s" in f else 1.0
    return round(0.55 * presence + 0.3 * lively + 0.15 * clean, 4)


def snap(cuts: Sequence[float], lo: float, hi: float, toward: float) -> float | None:
    """The shot boundary in [lo, hi] nearest ``toward`` (a clip's edge), or None."""
    inside = [c for c in cuts if lo <= c <= hi]
    return min(inside, key=lambda c: (abs(c - toward), c)) if inside else None


def describe(f: dict[str, Any]) -> str:
    """The picture features as words (the editor's reason)."""
    if "face_share" not in f:
        return "picture not measured"
    face = (
        f"face in shot {f['face_share']:.0%}" + (" (close)" if f["face_size"] >= FACE_FULL else "")
        if f["face_share"]
        else "no face in shot"
    )
    cuts = f"{f['shot_cuts']} shot change{'s' if f['shot_cuts'] != 1 else ''}"
    moving = "moving picture" if f["motion"] >= MOTION_FULL / 2 else "still picture"
    parts = [face, cuts, moving]
    if "edge_cut_s" in f:
        parts.append(f"another shot flashes {f['edge_cut_s']:.1f}s from an edge")
    return ", ".join(parts)
