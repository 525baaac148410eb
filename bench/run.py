"""Stage benchmark: wall time, source seconds per wall second and peak memory per stage.

Runs the stage functions (no Dagster) on the bundled sample videos, fetched with yt-dlp
from the loopback sample site, and uploads to the loopback emulator. Prints a Markdown
table and writes JSON beside this file. Compare ratios within one run: the machine is
small and shared.

    .venv/bin/python bench/run.py            (or: make bench)
"""

from __future__ import annotations

import json
import platform
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cognitive_sensors.pantheon import select_clips
from omniva.candidates import extract_candidates
from omniva.editing import plan_keep_spans
from omniva_devkit.sample_site import ITEMS, SampleSite
from omniva_devkit.youtube_emulator import YouTubeEmulator
from omniva_resources import asr, media, nlp, scraper, youtube

GOOD = [i for i in ITEMS if i.kind == "good"]


def _peak_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return round(own, 1), round(kids, 1)


def main() -> None:
    rows: list[dict] = []
    tmp = Path(tempfile.mkdtemp(prefix="omniva-bench-"))

    def stage(name: str, source_s: float, fn):
        t = time.perf_counter()
        out = fn()
        wall = time.perf_counter() - t
        own, kids = _peak_mb()
        rows.append(
            {
                "stage": name,
                "wall_s": round(wall, 2),
                "source_s": round(source_s, 1),
                "source_s_per_wall_s": round(source_s / wall, 1) if wall else None,
                "peak_rss_mb": own,
                "peak_child_rss_mb": kids,
            }
        )
        return out

    with SampleSite(tmp / "site", port=0, items=GOOD) as site:
        posts = stage("list (yt-dlp)", 0, lambda: scraper.list_posts("bench", site.feed_url))
        files = stage(
            "download (yt-dlp)",
            0,
            lambda: [
                scraper.download(p, tmp / "media" / f"{p.video_key}.mp4", tmp / "archive.txt") for p in posts
            ],
        )
    facts = [media.probe(f) for f in files]
    total = sum(f.duration_s for f in facts)
    for row in rows:
        row["source_s"] = round(total, 1)
        row["source_s_per_wall_s"] = round(total / row["wall_s"], 1) if row["wall_s"] else None
    transcripts = stage(
        "ASR (whisperx, first video loads model)", total, lambda: [asr.transcribe(f) for f in files]
    )
    analyses = stage(
        "analysis (spaCy + silencedetect)",
        total,
        lambda: [
            (nlp.analyze_text(t), media.detect_silences(f)) for t, f in zip(transcripts, files, strict=True)
        ],
    )
    selections = stage(
        "candidates + Pantheon",
        total,
        lambda: [
            select_clips(f.name, extract_candidates(f.name, a[0][0], t.words, a[1], a[0][1], fa.duration_s))
            for f, t, a, fa in zip(files, transcripts, analyses, facts, strict=True)
        ],
    )
    best = max(
        (
            (s.clips[0], f, a, t, fa)
            for s, f, a, t, fa in zip(selections, files, analyses, transcripts, facts, strict=True)
            if s.clips
        ),
        key=lambda x: x[0].candidate.duration_s,
    )
    clip, src, ana, tr, fa = best
    keep, _ = plan_keep_spans(clip.candidate.start_time, clip.candidate.end_time, tr.words, ana[1])
    clip_s = sum(e - s for s, e in keep)
    out = tmp / "render.mp4"
    stage(
        f"render one clip ({media.h264_encoder()}, 1080x1920)",
        clip_s,
        lambda: media.render_vertical(src, keep, out, fa),
    )
    with YouTubeEmulator(tmp / "yt") as emu:
        up = youtube.YouTubeUploader(emu.url, youtube.emulator_credentials(), chunk_size=1024 * 1024)
        stage(
            "upload (emulator, resumable)",
            clip_s,
            lambda: up.upload(
                youtube.UploadRequest(
                    path=out, title="bench", description="bench", tags=("bench",), publish_at=None
                )
            ),
        )

    header = "| stage | wall s | source s | source s / wall s | peak RSS MB | peak child RSS MB |"
    lines = [header, "|---|---|---|---|---|---|"]
    lines += [
        f"| {r['stage']} | {r['wall_s']} | {r['source_s']} | {r['source_s_per_wall_s']} | "
        f"{r['peak_rss_mb']} | {r['peak_child_rss_mb']} |"
        for r in rows
    ]
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "cpus": __import__("os").cpu_count(),
        "asr_model_loads": asr.LOAD_COUNT["asr"],
        "videos": len(files),
        "source_seconds": round(total, 1),
    }
    print(
        f"Omniva stage benchmark, {meta['date']}, {meta['machine']}, {meta['cpus']} CPUs; "
        f"{meta['videos']} videos, {meta['source_seconds']} s of source; ASR model loads: "
        f"{meta['asr_model_loads']}\n"
    )
    print("\n".join(lines))
    (Path(__file__).parent / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
