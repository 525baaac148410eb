"""Fixed cost per step: each Dagster step's time on a 10-second source and on an eleven-minute
one, through ``omniva run`` (the embedded instance, runs in process), split into its fixed cost
and its work.

    .venv/bin/python bench/step_cost.py [--json OUT]

The split comes from each step's own event log (``step_costs``): Dagster's part is the step's
time outside the asset's body (starting, loading inputs, storing the output, writing the
events); Omniva's bookkeeping is what ``record`` reports in ``omniva/bookkeeping_s`` (parents'
lookups, the contract, the warehouse rows, the Stardust packet). Those two are the fixed cost;
the rest of the body is the step's work (yt-dlp, ffmpeg, the models, the HTTP upload, its own
logic), which grows with the input, as the eleven-minute source shows. Medians over the step's
runs (a video's three clips are three runs of each clip step)."""

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
        import time

        started = time.perf_counter()
        runner = Runner(defs, instance, echo=lambda _: None)  # reads what bookkeeping needs once
        setup = time.perf_counter() - started
        report = runner.run_creator(CREATOR, DAY, DAY)
        if report.failures:
            raise SystemExit(f"failed: {report.failures}")
        steps: dict[str, list[dict[str, float]]] = {}
        for run_id in report.run_ids:
            for key, cost in step_costs(instance, run_id).items():
                steps.setdefault(key, []).append(cost)
    steps["runner start (once per process)"] = [{"total": setup}]
    print("STEPS " + json.dumps(steps), flush=True)


def step_costs(instance, run_id: str) -> dict[str, dict[str, float]]:
    """Each successful step of a run, split by its event log: ``total`` (STEP_START to
    STEP_SUCCESS), ``dagster`` (the step's time outside the asset's body: starting, loading
    inputs, storing the output, the events), ``bookkeeping`` (Omniva's ledger inside the body:
    parents, contract, warehouse rows, packet; ``omniva/bookkeeping_s``), ``fixed`` (the two
    together) and ``work`` (the rest: the tools, the models, the step's own logic).

    The body runs from the step's last STEP_INPUT (its START when it has no inputs) to its
    first STEP_OUTPUT, and again from the event before each later STEP_OUTPUT to it: an asset
    with checks goes on after yielding its output, Dagster stores that output, and the body's
    checks then run and yield their results (the checks count as work)."""
    events: dict[str, list] = {}
    for rec in instance.all_logs(run_id):
        if rec.dagster_event is not None and rec.step_key:
            events.setdefault(rec.step_key, []).append(rec)
    out: dict[str, dict[str, float]] = {}
    for key, recs in events.items():
        kinds = [(r.dagster_event.event_type_value, r.timestamp, r) for r in recs]
        start = next((t for k, t, _ in kinds if k == "STEP_START"), None)
        end = next((t for k, t, _ in kinds if k == "STEP_SUCCESS"), None)
        first_output = next((t for k, t, _ in kinds if k == "STEP_OUTPUT"), None)
        if start is None or end is None or first_output is None:
            continue
        inputs = [t for k, t, _ in kinds if k == "STEP_INPUT"]
        body = first_output - (max(inputs) if inputs else start)
        outputs = [i for i, (k, _, _) in enumerate(kinds) if k == "STEP_OUTPUT"]
        for i in outputs[1:]:
            body += kinds[i][1] - kinds[i - 1][1]
        bookkeeping = 0.0
        for k, _, r in kinds:
            if k == "ASSET_MATERIALIZATION":
                value = r.dagster_event.event_specific_data.materialization.metadata.get(
                    "omniva/bookkeeping_s"
                )
                bookkeeping += float(value.value) if value is not None else 0.0
        total = end - start
        dagster = total - body
        out[key] = {
            "total": total,
            "dagster": dagster,
            "bookkeeping": bookkeeping,
            "fixed": dagster + bookkeeping,
            "work": body - bookkeeping,
        }
    return out


ORDER = ["creators", "posts", "videos", "transcripts", "analyses", "clip_candidates", "clip_selections",
         "clips", "renders", "clip_copy", "publish_plan", "horizon_progress", "uploads", "clip_explanations"]  # fmt: skip


def print_table(result: dict[str, dict[str, list[dict[str, float]]]]) -> None:
    print(f"Fixed cost per step on {os.cpu_count()} CPU core(s), seconds, median over the step's runs (runs)")
    print("fixed = Dagster's part of the step (start, inputs, output, events) + Omniva's bookkeeping;")
    print("work = the rest (tools, models, the step's own logic)\n")
    labels = list(result)
    head = " | ".join(f"{lb}: step | {lb}: fixed | {lb}: of which Dagster | {lb}: work" for lb in labels)
    print(f"| step | kind | {head} |")
    print("|---|---|" + "---:|" * (4 * len(labels)))
    for step in ORDER:
        cells = []
        for label in labels:
            costs = result[label].get(step, [])
            if not costs:
                cells += [""] * 4
                continue
            med = {
                part: statistics.median(c[part] for c in costs)
                for part in ("total", "fixed", "dagster", "work")
            }
            runs = f" ({len(costs)})" if len(costs) > 1 else ""
            cells += [
                f"{med['total']:.3f}{runs}",
                f"{med['fixed']:.3f}",
                f"{med['dagster']:.3f}",
                f"{med['work']:.3f}",
            ]
        kind = "heavy" if step in HEAVY else "light"
        print(f"| {step} | {kind} | " + " | ".join(cells) + " |")
    light = [
        max(
            statistics.median(c["fixed"] for c in result[label][step])
            for label in labels
            if result[label].get(step)
        )
        for step in ORDER
        if step not in HEAVY and any(result[label].get(step) for label in labels)
    ]
    print(f"\nlight steps: largest fixed cost {max(light):.3f} s (target: under 0.15 s)")
    once = "runner start (once per process)"
    print(
        f"{once}: "
        + ", ".join(
            f"{label} {result[label][once][0]['total']:.3f} s" for label in labels if result[label].get(once)
        )
        + " (the warehouse's schemas and ffmpeg's build, which every materialization's bookkeeping uses)"
    )


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
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
