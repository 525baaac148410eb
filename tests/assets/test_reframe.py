"""Reframe to 9:16: faces found, followed smoothly, active speaker, fallback without faces.

The moving face is a real photograph (scikit-image's ``astronaut``) panned across a wide
1920x1080 frame; the ground truth is where we put it.
"""

from pathlib import Path

import cv2
import numpy as np
import pytest

from omniva_resources import faces, media

W, H, FPS = 1920, 1080, 30
FACE_SIZE = 900  # the photograph's size in the frame (its face is ~170 px wide)
JITTER_MAX_STEP_PX = 0.8 * 608 / FPS  # the speed limit: 0.8 crop widths per second
JITTER_RMS_PX = 0.5  # RMS frame-to-frame change of the crop's per-frame move


def _astronaut(size: int = FACE_SIZE) -> tuple[np.ndarray, float, float]:
    from skimage import data

    img = cv2.resize(data.astronaut(), (size, size), interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    x, y, w, h = max(faces.face_cascade().detectMultiScale(grey, 1.1, 5), key=lambda b: b[2])
    return img, x + w / 2, y + h / 2


def _background(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(40, 200, (H // 8, W // 8, 3)).astype(np.uint8)
    return cv2.GaussianBlur(cv2.resize(small, (W, H), interpolation=cv2.INTER_NEAREST), (31, 31), 0)


def _pan_position(t: float, duration: float) -> float:
    return 40 + (W - FACE_SIZE - 80) * (t / duration)


@pytest.fixture(scope="module")
def panning_video(tmp_path_factory, fixtures):
    duration = 8.0
    img, _, _ = _astronaut()
    bg = _background()
    y0 = (H - FACE_SIZE) // 2

    def frames():
        for k in range(int(duration * FPS)):
            f = bg.copy()
            x = int(round(_pan_position(k / FPS, duration)))
            f[y0 : y0 + FACE_SIZE, x : x + FACE_SIZE] = img
            yield f

    path = tmp_path_factory.mktemp("pan") / "pan.mp4"
    media.write_video(path, frames(), FPS, (W, H), audio=fixtures / "acoustic_corpus.wav")
    return path, duration


def _plan(path: Path, spans, rules=faces.ReframeRules()):
    facts = media.probe(path)
    times, frames, scale = media.sample_frames(path, spans, facts, 0.0, rules.sample_fps, rules.sample_width)
    total = sum(b - a for a, b in spans)
    return facts, faces.plan_reframe(times, frames, scale, facts.width, facts.height, total, FPS, rules)


def test_a_moving_face_stays_in_the_crop_without_jitter(panning_video):
    path, duration = panning_video
    _, face_cx, _ = _astronaut()
    facts, plan = _plan(path, [(0.0, duration - 1 / FPS / 2)])
    assert plan.layout == "crop" and plan.tracks == 1, plan.reason
    crop = plan.reframe.paths[0]
    assert (crop.width, crop.height) == (608, 1080)
    t = np.arange(int(duration * FPS)) / FPS
    x = crop.x_at(t)
    centre = np.array([_pan_position(tt, duration) for tt in t]) + face_cx
    inside = float(np.mean((centre >= x) & (centre <= x + crop.width)))
    steps = np.abs(np.diff(x))
    jitter = float(np.sqrt(np.mean(np.diff(np.diff(x)) ** 2)))
    print(
        f"moving face: centre inside the crop on {inside:.1%} of {len(t)} frames; "
        f"max step {steps.max():.2f} px/frame, jitter RMS {jitter:.3f} px; "
        f"worst offset from crop centre {np.abs(centre - x - crop.width / 2).max():.0f} px"
    )
    assert inside >= 0.95
    assert steps.max() <= JITTER_MAX_STEP_PX
    assert jitter <= JITTER_RMS_PX
    assert plan.max_step_px <= JITTER_MAX_STEP_PX and plan.jitter_rms_px <= JITTER_RMS_PX


def test_detection_noise_does_not_shake_the_crop():
    rng = np.random.default_rng(3)
    target = 600 + rng.normal(0, 12, 300)  # a still face, detections off by ~12 px
    x = faces.smooth_path(target, FPS, 608, 1312, faces.ReframeRules())
    assert np.abs(np.diff(x)).max() < 1.0 and np.ptp(x) < 20


@pytest.mark.slow
def test_the_render_really_follows_the_face(panning_video, tmp_path):
    path, duration = panning_video
    facts, plan = _plan(path, [(0.0, duration - 1 / FPS / 2)])
    out = tmp_path / "pan-9x16.mp4"
    result = media.render_vertical(path, [(0.0, duration - 1 / FPS / 2)], out, facts, reframe=plan.reframe)
    assert result.layout == "crop"
    f = media.probe(out)
    assert (f.width, f.height, f.pix_fmt, f.video_profile) == (1080, 1920, "yuv420p", "High")
    assert media.is_faststart(out)
    loud = media.measure_loudness(out)
    spec = media.RenderSpec()
    assert abs(loud.integrated_lufs - spec.target_lufs) <= spec.loudness_tolerance_lu, loud
    assert loud.true_peak_dbtp <= spec.true_peak_dbtp, loud
    times, frames, _ = media.sample_frames(out, [(0.0, f.duration_s)], f, 0.0, 2.0, 540)
    centres = []
    for fr in frames:
        boxes = faces.detect_faces(fr[None])[0]
        if boxes:
            bx = max(boxes, key=lambda b: b[2])
            centres.append((bx[0] + bx[2] / 2) / fr.shape[1])
    assert len(centres) >= 0.8 * len(frames)
    assert all(0.25 <= c <= 0.75 for c in centres), centres


@pytest.fixture(scope="module")
def two_speakers(tmp_path_factory, fixtures):
    """Two faces; the left one's mouth moves for the first 4 s, the right one's after."""
    duration = 8.0
    img, cx, cy = _astronaut(760)
    bg = _background(1)
    rng = np.random.default_rng(5)
    pos = [(100, 160), (W - 100 - 760, 160)]
    mouth_y = int(cy + 20)  # below the nose, inside the lower third of the face box

    def frames():
        for k in range(int(duration * FPS)):
            f = bg.copy()
            for i, (x, y) in enumerate(pos):
                face = img.copy()
                talking = (k / FPS < duration / 2) == (i == 0)
                if talking:  # the mouth opens and closes: its area darkens and lightens
                    mouth = face[mouth_y : mouth_y + 24, int(cx - 30) : int(cx + 30)]
                    mouth[:] = (mouth * rng.uniform(0.5, 1.0)).astype(np.uint8)
                f[y : y + 760, x : x + 760] = face
            yield f

    path = tmp_path_factory.mktemp("two") / "two.mp4"
    media.write_video(path, frames(), FPS, (W, H), audio=fixtures / "acoustic_corpus.wav")
    return path, duration, [x + cx for x, _ in pos]


def test_the_crop_follows_the_active_speaker(two_speakers):
    path, duration, centres = two_speakers
    _, plan = _plan(path, [(0.0, duration - 1 / FPS / 2)])
    assert plan.layout == "crop" and plan.tracks == 2, plan.reason
    assert len(plan.speaker_switches) == 1 and 3.0 <= plan.speaker_switches[0] <= 5.5, plan.speaker_switches
    crop = plan.reframe.paths[0]
    for t, who in ((1.0, 0), (3.0, 0), (6.0, 1), (7.5, 1)):
        x = float(crop.x_at(t))
        assert x <= centres[who] <= x + crop.width, (t, who, x)
    assert plan.max_step_px <= JITTER_MAX_STEP_PX


def test_split_screen_stacks_both_faces(two_speakers):
    path, duration, centres = two_speakers
    _, plan = _plan(path, [(0.0, duration - 1 / FPS / 2)], faces.ReframeRules(split=True))
    assert plan.layout == "split" and len(plan.reframe.paths) == 2
    top, bottom = plan.reframe.paths
    assert top.x_at(4.0) <= centres[0] <= top.x_at(4.0) + top.width
    assert bottom.x_at(4.0) <= centres[1] <= bottom.x_at(4.0) + bottom.width


def test_no_face_falls_back_to_the_blurred_layout(fixtures):
    _, plan = _plan(fixtures / "example.mp4", [(0.0, 12.0)])
    assert plan.layout == "fit-on-blurred" and plan.reframe.mode == "fit"
    assert plan.face_ratio == 0.0 and plan.thumbnail_t is not None
