"""Renders side by side: N clips edited and rendered one at a time, then P at a time.

    .venv/bin/python bench/render_parallel.py [--clips 4] [--parallel 1,2] [--json OUT]

Each clip goes through what the ``renders`` step does with the real tools: autocut plan, face
reframe (frames sampled, faces tracked), and ``render_vertical`` (two-pass loudness, 1080x1920
H.264/AAC, captions burned in). The clips alternate between ``example.mp4`` (42 s of speech, no
face) and a 12 s clip with a real photograph of a face panning across 1920x1080; their words are
transcribed once beforehand and not timed. With P renders at once each encoder gets
``cores // P`` threads (``omniva.settings.render_parallelism``), as ``omniva run`` does.

Prints a Markdown table: wall time per parallelism, the speed-up against one at a time, and the
core count, so a run on a bigger machine reports the speed-up against its cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.render_bench import FIXTURES, panning_face  # noqa: E402
from omniva import captions, editing  # noqa: E402
from omniva.editing import AutocutRules, plan_edit  # noqa: E402
from omniva_resources import asr, faces, media  # noqa: E402


def edit_and_render(src: Path, words, out: Path, tools: media.FFmpegTools) -> float:
    """Autocut, reframe and render one clip; returns the output's seconds."""
    facts = media.probe(src, tools)
    audio = media.decode_audio(src, 16000, tools=tools)
    silences = media.detect_silences(src, -35.0, 0.4)
    plan = plan_edit(
        0.0, facts.duration_s, words, silences, AutocutRules(frame_rate=facts.fps), audio, 16000, 0.0
    )
    xf = 1 / facts.fps if len(plan.keep) > 1 else 0.0
    total = editing.output_duration(plan.keep, xf)
    r = faces.ReframeRules()
    times, frames, scale = media.sample_frames(src, plan.keep, facts, xf, r.sample_fps, r.sample_width)
    rplan = faces.plan_reframe(times, frames, scale, facts.width, facts.height, total, 30, r)
    out_words = editing.words_in_output(words, plan.keep, xf)
    cuts = editing.segment_starts(plan.keep, xf)[1:]
    ass = media.write_text_atomic(
        out.with_suffix(".ass"), captions.to_ass(out_words, duration=total, breaks=cuts)
    )
    media.render_vertical(
        src, plan.keep, out, facts, reframe=rplan.reframe, captions_ass=ass, crossfade_s=xf, tools=tools
    )
    return total


def run(clips: list[tuple[Path, tuple]], work: Path, parallel: int) -> tuple[float, float]:
    """(wall seconds, output seconds) for all clips, ``parallel`` at a time."""
    cores = os.cpu_count() or 1
    tools = dataclasses.replace(
        media.DEFAULT_TOOLS, threads=0 if parallel == 1 else max(1, cores // parallel)
    )
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        outs = list(
            pool.map(
                lambda job: edit_and_render(job[1][0], job[1][1], work / f"p{parallel}-{job[0]}.mp4", tools),
                enumerate(clips),
            )
        )
    return time.perf_counter() - start, sum(outs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=4)
    ap.add_argument("--parallel", default="1,2", help="comma-separated renders at once")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    levels = [int(p) for p in args.parallel.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="omniva-bench-") as tmp:
        work = Path(tmp)
        sources = [
            FIXTURES / "example.mp4",
            panning_face(work / "face.mp4", FIXTURES / "acoustic_corpus.wav"),
        ]
        words = {src: asr.transcribe(src).words for src in sources}
        clips = [(sources[i % 2], words[sources[i % 2]]) for i in range(args.clips)]
        base = None
        for p in levels:
            wall, out_s = run(clips, work, p)
            base = base or wall
            rows.append(
                {
                    "parallel": p,
                    "wall_s": round(wall, 2),
                    "output_s": round(out_s, 1),
                    "speedup": round(base / wall, 2),
                }
            )
    cores = os.cpu_count() or 1
    print(
        f"Renders side by side: {args.clips} clips on {cores} CPU core(s), encoder {media.h264_encoder()}\n"
    )
    print(
        "| renders at once | encoder threads each | wall s | output s per wall s | speed-up vs one at a time |"
    )
    print("|---:|---:|---:|---:|---:|")
    for r in rows:
        threads = "ffmpeg default" if r["parallel"] == 1 else str(max(1, cores // r["parallel"]))
        print(
            f"| {r['parallel']} | {threads} | {r['wall_s']:.1f} | {r['output_s'] / r['wall_s']:.2f} | {r['speedup']:.2f}x |"
        )
    if args.json:
        args.json.write_text(json.dumps({"cores": cores, "clips": args.clips, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
