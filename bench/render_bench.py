"""Editing benchmark: seconds of output made per wall-clock second, per step.

    .venv/bin/python bench/render_bench.py [--frames /tmp/omniva-frames]

Steps, each timed alone on this machine's CPU (and NVENC when ``h264_encoder()`` finds it):

- autocut: decode the clip's audio, find filled pauses and quiet runs, plan the cuts
  (the transcript is made once beforehand and not counted);
- reframe: sample the edited clip's frames (4 fps, 480 px), detect and track faces,
  plan the crop path;
- encode: ``render_vertical`` (audio passes, picture, captions, H.264/AAC, checks).

Inputs: ``example.mp4`` from the shared fixtures (42 s, speech, a long silence, no face)
and a synthetic 12 s 1920x1080 clip with a real photograph of a face panning across it.
Prints a Markdown table; with ``--frames`` also writes before/after PNGs of both clips.

Audiogram (#31; ``--audiogram`` runs only this): the sample's monologue (speech over a still
cover, 1280x720) rendered twice over the same span with the same captions, as a plain
centred 9:16 crop and as the audiogram (cover over its blurred fill, waveform, progress bar,
title); the ratio of their wall times is the audiogram's cost relative to the crop.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from omniva import captions, editing  # noqa: E402
from omniva.editing import AutocutRules, plan_edit  # noqa: E402
from omniva_resources import faces, media  # noqa: E402

FIXTURES = Path(
    os.environ.get("OMNIVA_FIXTURES", Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "media")
)


def panning_face(path: Path, audio: Path, duration: float = 12.0) -> Path:
    from skimage import data

    w, h, fps, size = 1920, 1080, 30, 900
    img = cv2.resize(data.astronaut(), (size, size), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(0)
    small = rng.integers(40, 200, (h // 8, w // 8, 3)).astype(np.uint8)
    bg = cv2.GaussianBlur(cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST), (31, 31), 0)

    def frames():
        for k in range(int(duration * fps)):
            t = k / duration / fps
            x = int(40 + (w - size - 80) * (0.5 - 0.5 * np.cos(2 * np.pi * t)))  # there and back
            f = bg.copy()
            f[(h - size) // 2 : (h + size) // 2, x : x + size] = img
            yield f

    return media.write_video(path, frames(), fps, (w, h), audio=audio)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def bench_clip(name: str, src: Path, words, work: Path, frames_dir: Path | None) -> list[tuple]:
    facts = media.probe(src)
    rules = AutocutRules(frame_rate=facts.fps)

    def autocut():
        audio = media.decode_audio(src, 16000)
        silences = media.detect_silences(src, -35.0, 0.4)
        return plan_edit(0.0, facts.duration_s, words, silences, rules, audio, 16000, 0.0)

    plan, t_cut = timed(autocut)
    xf = 1 / facts.fps if len(plan.keep) > 1 else 0.0
    total = editing.output_duration(plan.keep, xf)

    def reframe():
        r = faces.ReframeRules()
        times, frames, scale = media.sample_frames(src, plan.keep, facts, xf, r.sample_fps, r.sample_width)
        return faces.plan_reframe(times, frames, scale, facts.width, facts.height, total, 30, r)

    rplan, t_reframe = timed(reframe)
    out_words = editing.words_in_output(words, plan.keep, xf)
    cuts = editing.segment_starts(plan.keep, xf)[1:]
    ass = media.write_text_atomic(
        work / f"{name}.ass", captions.to_ass(out_words, duration=total, breaks=cuts)
    )
    out = work / f"{name}-9x16.mp4"
    result, t_enc = timed(
        lambda: media.render_vertical(
            src, plan.keep, out, facts, reframe=rplan.reframe, captions_ass=ass, crossfade_s=xf
        )
    )
    loud = media.measure_loudness(out)
    note = (
        f"{facts.duration_s:.1f}s source -> {total:.1f}s; layout {rplan.layout}; "
        f"{loud.integrated_lufs:.1f} LUFS, {loud.true_peak_dbtp:.1f} dBTP; {result.encoder}"
    )
    if rplan.layout == "crop":
        note += f"; crop max step {rplan.max_step_px:.1f} px/frame, jitter RMS {rplan.jitter_rms_px:.2f} px"
    if frames_dir:
        before_after(name, src, out, plan.keep, xf, rplan, frames_dir)
    return [
        (name, "autocut", total, t_cut, note),
        (name, "reframe", total, t_reframe, ""),
        (name, f"encode ({result.encoder})", total, t_enc, ""),
        (name, "all three", total, t_cut + t_reframe + t_enc, ""),
    ]


def _png(src: Path, at: float, out: Path, w: int, h: int) -> np.ndarray:
    media.extract_frame(src, at, out, w, h)
    return cv2.imread(str(out))


def before_after(name, src, render, keep, xf, rplan, frames_dir: Path) -> None:
    """Source frame (with the crop window drawn) beside the rendered 9:16 frame."""
    frames_dir.mkdir(parents=True, exist_ok=True)
    facts = media.probe(src)
    total = editing.output_duration(keep, xf)
    for k, t_out in enumerate(np.linspace(0.15, 0.85, 3) * total):
        t_src = editing.source_time(float(t_out), keep, xf)
        before = _png(src, t_src, frames_dir / f"{name}-{k}-before.png", 960, 540)
        after = _png(render, float(t_out), frames_dir / f"{name}-{k}-after.png", 540, 960)
        if rplan.reframe.paths:
            s = 960 / facts.width
            for p in rplan.reframe.paths:
                x = float(p.x_at(t_out))
                cv2.rectangle(
                    before,
                    (int(x * s), int(p.y * s)),
                    (int((x + p.width) * s), int((p.y + p.height) * s)),
                    (0, 0, 255),
                    3,
                )
        canvas = np.full((960, 960 + 540 + 20, 3), 255, np.uint8)
        canvas[210 : 210 + 540, :960] = before
        canvas[:, 980:] = after
        cv2.imwrite(str(frames_dir / f"{name}-{k}-before-after.png"), canvas)


def bench_audiogram(work: Path, repeats: int = 3) -> list[tuple]:
    """The same span of an audio-over-still source as a plain centred crop and as the
    audiogram, same captions and encoder settings; the faster of ``repeats`` runs each."""
    from omniva.records import Word
    from omniva_devkit.sample_site import MEDIA_DIR
    from omniva_resources.media import audiogram

    src = media.make_sample_video(
        work / "monologue.mp4", MEDIA_DIR / "acoustic_corpus.wav", picture=MEDIA_DIR / "monologue-cover.jpg"
    )
    facts = media.probe(src)
    keep = [(0.0, min(20.0, facts.duration_s - 0.5))]
    total = keep[0][1] - keep[0][0]
    words = [Word(f"word{i}", 0.2 + 0.5 * i, 0.6 + 0.5 * i) for i in range(int(total / 0.5) - 1)]
    spec = media.RenderSpec()
    look = spec.audiogram_style()
    g = look.geometry(spec.width, spec.height)
    crop_w = int(facts.height * 9 / 16) // 2 * 2
    path = media.CropPath(crop_w, facts.height, 0, ((0.0, (facts.width - crop_w) / 2),))
    crop = media.Reframe("crop", (path,))
    plain_ass = media.write_text_atomic(work / "plain.ass", captions.to_ass(words, duration=total))
    blocks = [
        captions.TextBlock("Title", "A quick monologue", *g.title_xy, g.title_size, max_chars=g.text_chars)
    ]
    ag_ass = media.write_text_atomic(work / "ag.ass", captions.to_ass(words, duration=total, blocks=blocks))

    def audiogram_render():
        box = audiogram.compose_base(MEDIA_DIR / "monologue-cover.jpg", g, look, work / "base.png")
        pic = audiogram.AudiogramPicture(work / "base.png", g, look, box, "bench")
        return media.render_vertical(
            src, keep, work / "ag.mp4", facts, spec, None, ag_ass, 0.0, audiogram=pic
        )

    def crop_render():
        return media.render_vertical(src, keep, work / "crop.mp4", facts, spec, crop, plain_ass, 0.0)

    crops, audiograms = [], []
    for _ in range(repeats):  # alternating, so load from elsewhere falls on both alike
        crops.append(timed(crop_render)[1])
        audiograms.append(timed(audiogram_render)[1])
    t_crop, t_ag = min(crops), min(audiograms)
    note = f"audiogram costs {t_ag / t_crop:.2f}x the crop (fastest of {repeats} alternating runs each)"
    return [
        ("monologue (still)", "encode, plain crop", total, t_crop, ""),
        ("monologue (still)", "encode, audiogram", total, t_ag, note),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=Path, default=None, help="write before/after PNGs here")
    ap.add_argument("--audiogram", action="store_true", help="only the audiogram-vs-crop line")
    args = ap.parse_args()
    from omniva_resources import asr

    rows = []
    with tempfile.TemporaryDirectory(prefix="omniva-bench-") as tmp:
        work = Path(tmp)
        rows += bench_audiogram(work)
        if args.audiogram:
            _print(rows)
            return
        example = FIXTURES / "example.mp4"
        face = panning_face(work / "face.mp4", FIXTURES / "acoustic_corpus.wav")
        for name, src in (("example", example), ("face", face)):
            words = asr.transcribe(src).words
            rows += bench_clip(name, src, words, work, args.frames)
    _print(rows)


def _print(rows: list[tuple]) -> None:
    print(f"Editing benchmark on {os.cpu_count()} CPU core(s), encoder {media.h264_encoder()}\n")
    print("| clip | step | output s | wall s | output s per wall s | notes |")
    print("|---|---|---:|---:|---:|---|")
    for clip, step, out_s, wall, note in rows:
        print(f"| {clip} | {step} | {out_s:.1f} | {wall:.2f} | {out_s / wall:.2f} | {note} |")


if __name__ == "__main__":
    main()
