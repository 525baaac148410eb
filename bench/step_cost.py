"""Fixed cost per step: each Dagster step's wall time on a 10-second source and on an
eleven-minute one, through ``omniva run`` (the embedded instance, runs in process).

    .venv/bin/python bench/step_cost.py [--json OUT]

A light step (everything but transcription and rendering) does little work on a 10-second
source, so its time there is what it costs whatever its input: Dagster's step events, loading
its inputs, the warehouse rows, the Stardust packet, the parents' lookups. The eleven-minute
source shows which steps grow with the input. Times are Dagster's own step statistics (median
over the step's runs: a video's three clips are three runs of each clip step).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.e2e import CREATOR, DAY, MEDIA, _site_items, _sources  # noqa: E402

HEAVY = {"transcripts", "renders"}


def _ten_seconds(cache: Path) -> Path:
    from omniva_resources import media

    video = cache / "ten-s.mp4"
    if not video.exists():
        wav = cache / "ten-s.wav"
        subprocess.run(
            [media.FFMPEG, "-nostdin", "-v", "error", "-y", "-ss", "30", "-t", "10", "-i",
             str(MEDIA / "physicsworks_audio.webm"), "-ac", "1", "-ar", "48000", str(wav)],
            check=True,
        )  # fmt: skip
        media.make_sample_video(video, wav)
        wav.unlink()
    return video


def child(feed_url: str, home: str) -> None:
    """One ``omniva run`` of the creator; prints each step's durations."""
    import warnings

    warnings.filterwarnings("ignore")
    os.environ["OMNIVA_HOME"] = home
    os.environ.pop("DAGSTER_HOME", None)
    from omniva_devkit.youtube_emulator import YouTubeEmulator

    with YouTubeEmulator(Path(home) / "youtube-emulator") as emu:
        os.environ["OMNIVA_YOUTUBE_API_ROOT"] = emu.url
        import dagster as dg

        from omniva.settings import ensure_dagster_home, layout
        from omniva_app.driver import Runner
        from omniva_assets.definitions import defs
        from omniva_resources import creators

        creators.add(layout(), CREATOR, feed_url, allow_private_network=True)
        ensure_dagster_home()
        instance = dg.DagsterInstance.get()
        report = Runner(defs, instance, echo=lambda _: None).run_creator(CREATOR, DAY, DAY)
        if report.failures:
            raise SystemExit(f"failed: {report.failures}")
        steps: dict[str, list[float]] = {}
        for run_id in report.run_ids:
            for s in instance.get_run_step_stats(run_id):
                if s.start_time and s.end_time:
                    steps.setdefault(s.step_key, []).append(s.end_time - s.start_time)
    print("STEPS " + json.dumps(steps), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--child", nargs=2, metavar=("FEED", "HOME"))
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    from omniva_devkit.sample_site import SampleSite

    work = Path(tempfile.mkdtemp(prefix="omniva-steps-"))
    sources = {"10 s": _ten_seconds(work), "11 min": _sources(work / "sources")["long"]}
    result: dict[str, dict[str, list[float]]] = {}
    for label, video in sources.items():
        name = "ten-s" if label == "10 s" else "long"
        site_dir = work / f"site-{name}"
        (site_dir / "videos").mkdir(parents=True, exist_ok=True)
        os.link(video, site_dir / "videos" / f"{name}.mp4")
        with SampleSite(site_dir, port=0, items=_site_items([name])) as site:
            env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMNIVA_RENDER_PARALLEL": "1"}
            proc = subprocess.run(
                [sys.executable, __file__, "--child", site.feed_url, str(work / f"home-{name}")],
                env=env, capture_output=True, text=True,
            )  # fmt: skip
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("STEPS ")), None)
        if proc.returncode or not line:
            raise SystemExit(f"{label} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        result[label] = json.loads(line[6:])
    order = ["creators", "posts", "videos", "transcripts", "analyses", "clip_candidates", "clip_selections",
             "clips", "renders", "clip_copy", "publish_plan", "horizon_progress", "uploads", "clip_explanations"]  # fmt: skip
    print(f"Fixed cost per step on {os.cpu_count()} CPU core(s): Dagster step time, median (runs)\n")
    print("| step | kind | 10 s source | 11 min source |")
    print("|---|---|---:|---:|")
    for step in order:
        cells = []
        for label in sources:
            times = result[label].get(step, [])
            cells.append(f"{statistics.median(times):.3f} ({len(times)})" if times else "")
        kind = "heavy" if step in HEAVY else "light"
        print(f"| {step} | {kind} | {cells[0]} | {cells[1]} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
