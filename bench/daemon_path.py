"""The daemon path against ``omniva run``: one creator's day of short videos, twice.

    .venv/bin/python bench/daemon_path.py [--videos 8] [--seconds 20] [--json OUT]

- ``omniva run``: every run executes in the CLI's own process (the models stay loaded).
- ``omniva run --queue``: every run goes into the instance's queue and ``dagster-daemon`` launches
  it in a process of its own, as the sensors, the UI's backfills and production do: forked from
  the warm run starter (``OMNIVA_WARM_RUNS=auto``), and again with ``OMNIVA_WARM_RUNS=off``
  (Dagster's default: a fresh interpreter per run through the code location's gRPC server).
  Transcription goes to the long-lived ASR worker (``OMNIVA_ASR_WORKER=auto``).

Prints, per path: wall time, its ratio to ``omniva run``, the runs, the median launch (the
launcher's call to the run's start, from the event log), the materializations per
partition (each exactly one), the ASR model loads (counted from the transcripts'
materializations: in the CLI's process, or in the worker) and the most publish-plan runs queued
or running at once. The videos are distinct excerpts of the bundled lecture.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.e2e import CREATOR, DAY, MEDIA, _site_items  # noqa: E402

VENV_BIN = Path(sys.executable).parent


LABELS = {
    "in-process": "omniva run",
    "daemon": "omniva run --queue (daemon, warm run starts)",
    "daemon-cold": "omniva run --queue (daemon, OMNIVA_WARM_RUNS=off)",
}


def _excerpts(cache: Path, n: int, seconds: int) -> list[str]:
    from omniva_resources import media

    names = []
    for i in range(n):
        name = f"part-{i + 1}"
        video = cache / "videos" / f"{name}.mp4"
        if not video.exists():
            video.parent.mkdir(parents=True, exist_ok=True)
            wav = cache / f"{name}.wav"
            subprocess.run(
                [media.FFMPEG, "-nostdin", "-v", "error", "-y", "-ss", str(30 + i * seconds), "-t", str(seconds),
                 "-i", str(MEDIA / "physicsworks_audio.webm"), "-ac", "1", "-ar", "48000", str(wav)],
                check=True,
            )  # fmt: skip
            media.make_sample_video(video, wav)
            wav.unlink()
        names.append(name)
    return names


def _count(home: Path) -> dict:
    """What the instance holds after a path: runs, materializations, ASR loads, plan runs."""
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    import dagster as dg

    instance = dg.DagsterInstance.get()
    runs = instance.get_run_records()
    per_partition: dict[str, dict[str, int]] = {}
    for asset in ("videos", "transcripts", "clip_selections", "renders", "uploads"):
        for rec in instance.fetch_materializations(dg.AssetKey(asset), limit=1000).records:
            per_partition.setdefault(asset, {})
            per_partition[asset][rec.partition_key] = per_partition[asset].get(rec.partition_key, 0) + 1
    transcripts = instance.fetch_materializations(dg.AssetKey("transcripts"), limit=1000).records
    meta = [r.asset_materialization.metadata for r in transcripts]
    worker: dict[int, int] = {}
    for m in meta:
        if "asr_worker_pid" in m:
            pid = m["asr_worker_pid"].value
            worker[pid] = max(worker.get(pid, 0), m["asr_loads_in_worker"].value)
    in_process = [m["asr_loads_in_process"].value for m in meta if "asr_loads_in_process" in m]
    loads = sum(worker.values()) if worker else (max(in_process) if in_process else 0)
    plans = sorted(
        (r.create_timestamp.timestamp(), r.end_time or time.time())
        for r in runs
        if r.dagster_run.job_name == "publish_plan_job"
    )
    most = max((sum(1 for s, e in plans if s <= t < e) for t, _ in plans), default=0)
    # Launch: from the launcher's call (RUN_STARTING) to the run's process starting it (RUN_START).
    launch = []
    for rec in runs:
        marks = {
            e.dagster_event.event_type_value: e.timestamp
            for e in instance.all_logs(rec.dagster_run.run_id)
            if e.dagster_event is not None
            and e.dagster_event.event_type_value in ("PIPELINE_STARTING", "PIPELINE_START")
        }
        if len(marks) == 2:
            launch.append(marks["PIPELINE_START"] - marks["PIPELINE_STARTING"])
    stages: dict[str, list[float]] = {}
    for rec in runs:
        span = stages.setdefault(rec.dagster_run.job_name.removesuffix("_job"), [float("inf"), 0.0])
        span[0] = min(span[0], rec.create_timestamp.timestamp())
        span[1] = max(span[1], rec.end_time or time.time())
    return {
        "launch_s_median": round(statistics.median(launch), 2) if launch else None,
        "stage_s": {k: round(e - s, 1) for k, (s, e) in sorted(stages.items(), key=lambda kv: kv[1][0])},
        "runs": len(runs),
        "failed_runs": sum(1 for r in runs if r.dagster_run.status != dg.DagsterRunStatus.SUCCESS),
        "materializations_per_partition": sorted({n for a in per_partition.values() for n in a.values()}),
        "transcribed": len(per_partition.get("transcripts", {})),
        "uploads": len(per_partition.get("uploads", {})),
        "asr_model_loads": loads,
        "asr_processes": len(worker) or 1,
        "plan_runs": len(plans),
        "plan_runs_at_once": most,
    }


def one_path(path: str, feed_url: str, home: Path) -> dict:
    # the working folder's instance, as the CLI seeds it
    (home / "dagster").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster" / "dagster.yaml")
    env = {
        **os.environ,
        "OMNIVA_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "OMNIVA_ASR_WORKER_IDLE_S": "120",
        "PYTHONWARNINGS": "ignore",
    }
    env.pop("OMNIVA_RENDER_PARALLEL", None)
    if path == "daemon-cold":
        env["OMNIVA_WARM_RUNS"] = "off"  # Dagster's default launch: a fresh interpreter per run
    add = (
        "from omniva.settings import layout, ensure_dagster_home; from omniva_resources import creators; "
        f"creators.add(layout(), {CREATOR!r}, {feed_url!r}, allow_private_network=True); ensure_dagster_home()"
    )
    subprocess.run([sys.executable, "-c", add], env=env, check=True)
    from omniva_devkit.youtube_emulator import YouTubeEmulator

    daemon = None
    with YouTubeEmulator(home / "youtube-emulator") as emu:
        env["OMNIVA_YOUTUBE_API_ROOT"] = emu.url
        if path != "in-process":
            log = (home / "daemon.log").open("wb")
            daemon = subprocess.Popen(
                [str(VENV_BIN / "dagster-daemon"), "run", "-w", str(REPO / "workspace.yaml")],
                env=env, stdout=log, stderr=log, cwd=REPO,
            )  # fmt: skip
            time.sleep(8)  # the daemon loads the code location before it launches anything
        cmd = [
            str(VENV_BIN / "omniva"),
            "run",
            "--creator",
            CREATOR,
            "--since",
            str(DAY),
            "--until",
            str(DAY),
        ]
        started = time.perf_counter()
        proc = subprocess.run(
            cmd + (["--queue"] if path != "in-process" else []), env=env, capture_output=True, text=True
        )
        wall = time.perf_counter() - started
        if daemon is not None:
            daemon.terminate()
            daemon.wait(timeout=60)
    if proc.returncode:
        raise SystemExit(f"{path} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    counted = subprocess.run(
        [sys.executable, __file__, "--count", str(home)], env=env, capture_output=True, text=True, check=True
    )
    return {"path": path, "wall_s": round(wall, 1), **json.loads(counted.stdout.splitlines()[-1])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=8)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--count", type=Path, default=None)
    ap.add_argument(
        "--paths",
        default="in-process,daemon,daemon-cold",
        help="in-process (omniva run), daemon (omniva run --queue, warm run starts), "
        "daemon-cold (the same with OMNIVA_WARM_RUNS=off: Dagster's default launch)",
    )
    args = ap.parse_args()
    if args.count:
        from omniva_app import run_zygote
        from omniva_resources import asr_worker

        counted = _count(args.count)
        asr_worker.stop(args.count)  # the workers would otherwise wait out their idle time
        run_zygote.stop(args.count / "dagster")
        print(json.dumps(counted))
        return
    from omniva_devkit.sample_site import SampleSite

    work = Path(tempfile.mkdtemp(prefix="omniva-daemon-"))
    names = _excerpts(work / "site", args.videos, args.seconds)
    rows = []
    with SampleSite(work / "site", port=0, items=_site_items(names)) as site:
        for path in args.paths.split(","):
            rows.append(one_path(path, site.feed_url, work / f"home-{path}"))
            print(f"  {path}: {rows[-1]['wall_s']} s", file=sys.stderr, flush=True)
    base = rows[0]["wall_s"]
    print(
        f"Daemon path vs omniva run: {args.videos} videos of {args.seconds} s, {os.cpu_count()} CPU core(s)\n"
    )
    print(
        "| path | wall s | vs omniva run | runs (failed) | launch s (median) | transcribed | uploads "
        "| materializations per partition | ASR model loads (processes) | publish-plan runs (most at once) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for r in rows:
        print(
            f"| {LABELS[r['path']]} | {r['wall_s']} | {r['wall_s'] / base:.2f}x | {r['runs']} ({r['failed_runs']}) | "
            f"{r['launch_s_median'] if r['launch_s_median'] is not None else ''} | {r['transcribed']} | "
            f"{r['uploads']} | {r['materializations_per_partition']} | {r['asr_model_loads']} ({r['asr_processes']}) | "
            f"{r['plan_runs']} ({r['plan_runs_at_once']}) |"
        )
    print("\nstages, s from the first run's creation to the last one's end:")
    for r in rows:
        print(f"  {LABELS[r['path']]}: " + ", ".join(f"{k} {v}" for k, v in r["stage_s"].items()))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
