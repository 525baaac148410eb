"""Faces in a clip, and the 9:16 crop path that follows them.

Frames come from ``media.sample_frames`` (the edited clip, grey, a few per second,
downscaled). Faces are found with OpenCV's bundled Haar cascade
(``haarcascade_frontalface_alt2.xml`` from ``cv2.data``: no download), linked into
tracks by position and size, and the crop window (full height, 9:16 wide) follows:

- one face: its centre, with a dead zone (small moves do not move the crop), a Gaussian
  ease and a speed limit, so the path has no jitter;
- two or more faces: the active speaker, i.e. the face whose mouth region changes most
  between samples (lower third of the box, minus the change of the upper part so head
  motion does not count), with hysteresis (a switch needs the other face clearly more
  active, and a shot lasts at least ``min_shot_s``). A switch is a cut, not a pan.
  ``split=True`` stacks the two most present faces instead (top/bottom).
- no face on most frames: the blurred-background ``fit`` layout.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field

import cv2
import numpy as np
from cv2.data import haarcascades  # the cascades shipped inside opencv-python

from omniva_resources.media import CropPath, Reframe


@dataclass(frozen=True, slots=True)
class ReframeRules:
    sample_fps: float = 4.0
    sample_width: int = 480
    min_face_ratio: float = 0.3  # faces on fewer sampled frames than this: fit layout
    dead_zone: float = 0.10  # of the crop width: the face may drift this far before the crop moves
    smooth_s: float = 0.4  # Gaussian sigma of the path
    max_speed: float = 0.8  # crop widths per second
    min_shot_s: float = 2.0
    switch_ratio: float = 1.5
    split: bool = False


@dataclass(slots=True)
class Track:
    boxes: dict[int, tuple[float, float, float, float]] = field(default_factory=dict)  # sample -> x,y,w,h

    def last(self) -> tuple[int, tuple[float, float, float, float]]:
        k = max(self.boxes)
        return k, self.boxes[k]


@dataclass(frozen=True, slots=True)
class ReframePlan:
    reframe: Reframe
    layout: str
    reason: str
    samples: int
    face_ratio: float
    tracks: int
    speaker_switches: tuple[float, ...]
    max_step_px: float  # largest frame-to-frame crop move inside a shot (source px)
    jitter_rms_px: float  # RMS of the frame-to-frame change of that move (source px)
    thumbnail_t: float | None
    thumbnail_center_x: float | None

    def record(self) -> dict:
        path = self.reframe.paths[0] if self.reframe.paths else None
        return {
            "layout": self.layout,
            "reason": self.reason,
            "samples": self.samples,
            "face_ratio": round(self.face_ratio, 3),
            "tracks": self.tracks,
            "speaker_switches": list(self.speaker_switches),
            "max_step_px": round(self.max_step_px, 2),
            "jitter_rms_px": round(self.jitter_rms_px, 3),
            "crop": None if path is None else {"width": path.width, "height": path.height, "y": path.y},
            "keyframes": [[[round(t, 3), round(x, 1)] for t, x in p.keyframes] for p in self.reframe.paths],
        }


def face_cascade() -> cv2.CascadeClassifier:
    """OpenCV's frontal face cascade; one per thread (renders may run side by side, and a
    cascade is not safe to share between threads)."""
    return _cascade(threading.get_ident())


@functools.cache  # loading the cascade takes a while; one per thread
def _cascade(thread: int) -> cv2.CascadeClassifier:
    cascade = cv2.CascadeClassifier(haarcascades + "haarcascade_frontalface_alt2.xml")
    if cascade.empty():  # pragma: no cover - ships with opencv-python
        raise RuntimeError("OpenCV's Haar face cascade is missing from cv2.data")
    return cascade


def detect_faces(frames: np.ndarray, probe: int = 12) -> list[list[tuple[float, float, float, float]]]:
    """Face boxes (x, y, w, h) per frame, in the frames' own pixels.

    ``probe`` frames spread over the clip are looked at first; when none shows a face the
    rest are skipped (most landscape talks without a face in shot cost almost nothing)."""
    cascade = face_cascade()
    n = len(frames)
    if n == 0:
        return []
    h = frames.shape[1]

    def look(frame: np.ndarray) -> list[tuple[float, float, float, float]]:
        found = cascade.detectMultiScale(
            cv2.equalizeHist(frame),
            scaleFactor=1.15,
            minNeighbors=4,
            minSize=(24, 24),
            maxSize=(int(h * 0.9),) * 2,
        )
        return [(float(x), float(y), float(w), float(h)) for x, y, w, h in found]

    out: list[list[tuple[float, float, float, float]] | None] = [None] * n
    for i in np.unique(np.linspace(0, n - 1, min(n, probe)).astype(int)):
        out[i] = look(frames[i])
    if not any(out[i] for i in range(n) if out[i] is not None):
        return [[] for _ in range(n)]
    return [o if o is not None else look(frames[i]) for i, o in enumerate(out)]


def track_faces(dets: list[list[tuple[float, float, float, float]]], max_gap: int = 5) -> list[Track]:
    """Greedy tracking by centre distance and size; short tracks (< 3 hits) are dropped."""
    tracks: list[Track] = []
    for i, boxes in enumerate(dets):
        taken: set[int] = set()
        for box in sorted(boxes, key=lambda b: -b[2]):
            cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
            best, best_d = None, None
            for k, tr in enumerate(tracks):
                last_i, (x, y, w, h) = tr.last()
                if k in taken or i - last_i > max_gap or last_i == i:
                    continue
                d = np.hypot(cx - (x + w / 2), cy - (y + h / 2))
                near = d < 0.8 * max(w, box[2]) * (1 + 0.3 * (i - last_i)) and 0.6 < box[2] / w < 1.6
                if near and (best_d is None or d < best_d):
                    best, best_d = k, d
            if best is None:
                tracks.append(Track({i: box}))
                taken.add(len(tracks) - 1)
            else:
                tracks[best].boxes[i] = box
                taken.add(best)
    return [t for t in tracks if len(t.boxes) >= 3]


def _interp_track(track: Track, n: int) -> np.ndarray:
    """(n, 4) boxes: detections, linearly interpolated between them, held at the ends."""
    idx = np.array(sorted(track.boxes))
    vals = np.array([track.boxes[i] for i in idx])
    return np.stack([np.interp(np.arange(n), idx, vals[:, c]) for c in range(4)], axis=1)


def mouth_activity(frames: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Per sample: change of the mouth region since the previous sample, less the change of
    the upper face (head motion, lighting), >= 0."""
    n = len(frames)
    act = np.zeros(n)
    for i in range(1, n):
        x, y, w, h = boxes[i]
        x0, x1 = int(x + 0.2 * w), int(x + 0.8 * w)
        my0, my1 = int(y + 0.65 * h), int(y + 1.0 * h)
        uy0, uy1 = int(y + 0.15 * h), int(y + 0.5 * h)
        if x1 - x0 < 4 or my1 - my0 < 3:
            continue
        cur, prev = frames[i].astype(np.int16), frames[i - 1].astype(np.int16)
        mouth = np.abs(cur[my0:my1, x0:x1] - prev[my0:my1, x0:x1]).mean()
        upper = np.abs(cur[uy0:uy1, x0:x1] - prev[uy0:uy1, x0:x1]).mean()
        act[i] = max(0.0, float(mouth - upper))
    return act


def _moving_average(x: np.ndarray, k: int) -> np.ndarray:
    if k <= 1 or len(x) == 0:
        return x
    return np.convolve(np.pad(x, (k // 2, k - 1 - k // 2), mode="edge"), np.ones(k) / k, mode="valid")


def _gaussian(x: np.ndarray, sigma: float) -> np.ndarray:
    if sigma <= 0 or len(x) < 3:
        return x
    r = int(3 * sigma) + 1
    kern = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    kern /= kern.sum()
    return np.convolve(np.pad(x, r, mode="edge"), kern, mode="valid")


def smooth_path(
    target: np.ndarray, fps: float, crop_w: float, max_x: float, rules: ReframeRules
) -> np.ndarray:
    """Per-frame crop x from per-frame target x: dead zone, Gaussian ease, speed limit."""
    if len(target) == 0:
        return target
    dead = rules.dead_zone * crop_w
    held = np.empty_like(target)
    cur = target[0]
    for i, t in enumerate(target):
        if t - cur > dead:
            cur = t - dead
        elif cur - t > dead:
            cur = t + dead
        held[i] = cur
    x = _gaussian(held, rules.smooth_s * fps)
    vmax = rules.max_speed * crop_w / fps
    for rng in (range(1, len(x)), range(len(x) - 2, -1, -1)):
        for i in rng:
            j = i - 1 if rng.step == 1 else i + 1
            x[i] = x[j] + np.clip(x[i] - x[j], -vmax, vmax)
    return np.clip(x, 0, max_x)


def _choose_speaker(
    acts: list[np.ndarray], present: list[np.ndarray], fps: float, rules: ReframeRules
) -> np.ndarray:
    """Index of the followed track per sample, with hysteresis."""
    n = len(acts[0])
    k = max(1, int(round(fps)))
    sm = [_moving_average(a, k) for a in acts]
    first = int(np.argmax([a[: 2 * k].sum() + p.sum() * 1e-6 for a, p in zip(sm, present, strict=True)]))
    cur, since = first, 0
    out = np.zeros(n, int)
    min_shot = int(rules.min_shot_s * fps)
    for i in range(n):
        if i - since >= min_shot or not present[cur][i]:
            scores = [s[i] if p[i] else -1.0 for s, p in zip(sm, present, strict=True)]
            best = int(np.argmax(scores))
            if best != cur and (
                not present[cur][i] or scores[best] > rules.switch_ratio * max(scores[cur], 0.05)
            ):
                cur, since = best, i
        out[i] = cur
    return out


def plan_reframe(
    times: np.ndarray,
    frames: np.ndarray,
    scale: float,
    src_w: int,
    src_h: int,
    total_s: float,
    out_fps: float = 30.0,
    rules: ReframeRules = ReframeRules(),
) -> ReframePlan:
    """The layout and crop path of a clip from its sampled frames (see the module docstring)."""
    n = len(frames)
    crop_w = int(round(src_h * 9 / 16 / 2)) * 2
    sharp = np.array([cv2.Laplacian(f, cv2.CV_64F).var() for f in frames]) if n else np.zeros(0)
    thumb_t = float(times[int(np.argmax(sharp))]) if n else None

    def fit(reason: str, ratio: float = 0.0, ntracks: int = 0) -> ReframePlan:
        return ReframePlan(
            Reframe("fit"), "fit-on-blurred", reason, n, ratio, ntracks, (), 0.0, 0.0, thumb_t, None
        )

    if n == 0:
        return fit("no picture to look at")
    if src_w <= crop_w + 8:
        return fit(f"source {src_w}x{src_h} is already narrow")
    dets = detect_faces(frames)
    ratio = sum(1 for d in dets if d) / n
    tracks = track_faces(dets)
    if not tracks or ratio < rules.min_face_ratio:
        return fit(
            f"faces on {ratio:.0%} of {n} sampled frames (< {rules.min_face_ratio:.0%})", ratio, len(tracks)
        )
    tracks.sort(key=lambda t: -len(t.boxes))
    tracks = tracks[:4]
    boxes = [_interp_track(t, n) for t in tracks]
    present = []  # on screen: from 2 s before its first detection to 2 s after its last
    pad = int(round(2 * rules.sample_fps))
    for t in tracks:
        idx = np.array(sorted(t.boxes))
        p = np.zeros(n, bool)
        p[max(0, idx.min() - pad) : idx.max() + 1 + pad] = True
        present.append(p)

    # Thumbnail: the sharpest frame that shows a face.
    with_face = np.array([bool(d) for d in dets])
    score = sharp / (sharp.max() + 1e-9) + with_face
    ti = int(np.argmax(score))
    thumb_t = float(times[ti])
    thumb_cx = None
    if dets[ti]:
        bx = max(dets[ti], key=lambda b: b[2])
        thumb_cx = float((bx[0] + bx[2] / 2) / frames.shape[2])

    frame_t = np.arange(int(np.ceil(total_s * out_fps)) + 1) / out_fps
    max_x = src_w - crop_w
    if rules.split and len(tracks) >= 2 and all(p.mean() >= 0.4 for p in present[:2]):
        pair = sorted(range(2), key=lambda k: float(np.median(boxes[k][:, 0])))  # left face on top
        tile_h = int(round(src_h * 0.8 / 2)) * 2
        tile_w = min(src_w // 2 * 2, int(round(tile_h * 1080 / 960 / 2)) * 2)
        paths = []
        for k in pair:
            cx = (boxes[k][:, 0] + boxes[k][:, 2] / 2) * scale
            cy = float(np.median((boxes[k][:, 1] + boxes[k][:, 3] / 2) * scale))
            per_frame = np.interp(frame_t, times, cx - tile_w / 2)
            x = smooth_path(per_frame, out_fps, tile_w, src_w - tile_w, rules)
            y = int(np.clip(cy - tile_h / 2, 0, src_h - tile_h))
            paths.append(CropPath(tile_w, tile_h, y, _keyframes(frame_t, x)))
        tile_steps = [np.abs(np.diff(p.x_at(frame_t))) for p in paths]
        return ReframePlan(
            Reframe("split", tuple(paths)),
            "split",
            "two faces on screen: stacked",
            n,
            ratio,
            len(tracks),
            (),
            float(max(s.max(initial=0) for s in tile_steps)),
            float(max(_rms(np.diff(s)) for s in tile_steps)),
            thumb_t,
            thumb_cx,
        )

    if len(tracks) > 1:
        acts = [mouth_activity(frames, b) for b in boxes]
        chosen = _choose_speaker(acts, present, rules.sample_fps, rules)
        reason = f"{len(tracks)} faces: following the active speaker (mouth activity)"
    else:
        chosen = np.zeros(n, int)
        reason = "one face: following it"
    target = np.array(
        [(boxes[c][i, 0] + boxes[c][i, 2] / 2) * scale - crop_w / 2 for i, c in enumerate(chosen)]
    )
    switch_idx = [i for i in range(1, n) if chosen[i] != chosen[i - 1]]
    cut_times = [float((times[i - 1] + times[i]) / 2) for i in switch_idx]
    # One smoothed path per shot; a speaker switch is a cut.
    x = np.zeros(len(frame_t))
    bounds = [0.0, *cut_times, float("inf")]
    for a, b in zip(bounds, bounds[1:], strict=False):
        fsel = (frame_t >= a) & (frame_t < b)
        ssel = (times >= a) & (times < b)
        if not fsel.any():
            continue
        per_frame = (
            np.interp(frame_t[fsel], times[ssel], target[ssel])
            if ssel.any()
            else np.full(fsel.sum(), target[0])
        )
        x[fsel] = smooth_path(per_frame, out_fps, crop_w, max_x, rules)
    steps = np.abs(np.diff(x))
    in_shot = np.ones(len(steps), bool)
    for c in cut_times:
        in_shot[max(0, int(np.floor(c * out_fps)) - 1) : int(np.ceil(c * out_fps)) + 1] = False
    path = CropPath(crop_w, src_h, 0, _keyframes(frame_t, x))
    return ReframePlan(
        Reframe("crop", (path,)),
        "crop",
        reason,
        n,
        ratio,
        len(tracks),
        tuple(round(c, 2) for c in cut_times),
        float(steps[in_shot].max(initial=0.0)),
        _rms(np.diff(x)[in_shot][1:] - np.diff(x)[in_shot][:-1]) if in_shot.sum() > 2 else 0.0,
        thumb_t,
        thumb_cx,
    )


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) if len(x) else 0.0


def _keyframes(t: np.ndarray, x: np.ndarray, tol: float = 0.5) -> tuple[tuple[float, float], ...]:
    """Fewest (t, x) points whose linear interpolation stays within ``tol`` px of x."""
    if len(t) == 0:
        return ((0.0, 0.0),)
    keep = [0]
    i = 0
    while i < len(t) - 1:
        j = i + 2
        while j < len(t):
            seg = np.interp(t[i : j + 1], [t[i], t[j]], [x[i], x[j]])
            if np.abs(seg - x[i : j + 1]).max() > tol:
                break
            j += 1
        i = j - 1
        keep.append(i)
    return tuple((round(float(t[k]), 4), round(float(x[k]), 2)) for k in keep)
