"""The production topology on real servers, on loopback (docs/deployment.md).

One PostgreSQL cluster and one Redis, started by the tests in temporary folders; DAGSTER_HOME
holds ``deploy/dagster.yaml`` (written by ``omniva_assets.deployment``) pointing at them. Then, in order:

1. ``omniva creators add`` + ``omniva run`` materialize a one-video feed through the Omniva
   definitions on that instance, with the production environment (OMNIVA_EXECUTOR=celery);
2. two dagster-celery workers (queue ``dagster``; queue ``gpu``) and ``dagster-daemon`` start;
   runs submitted through the instance wait in the QueuedRunCoordinator's queue and the daemon
   launches them within the limits, their steps executing on the workers;
3. one of the Omniva clips is re-rendered through the queue on the GPU lane: its ``renders``
   step runs on the ``gpu`` worker;
4. a Celery worker process is killed mid-step: the run fails, the workers go on;
5. ``omniva lineage sync`` twice mirrors the same rows.

Everything is read back from PostgreSQL (runs, event log, schedules/sensors, pools).
"""

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import DagsterEventType

from omniva_app.launch import QueueLauncher
from omniva_assets import deployment as production
from omniva_devkit.local_services import ServiceUnavailable, free_port, postgres, redis
from omniva_devkit.sample_site import SampleItem, SampleSite
from omniva_devkit.smoke import HOLD_TAG
from omniva_resources import asr_worker, media

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
DB = "omniva"
DAY = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


@dataclass
class Stack:
    root: Path
    env: dict[str, str]
    pg: object
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def omniva(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "omniva_app.cli", *args],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, name: str, cmd: list[str], **env: str) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            cmd,
            env={**self.env, **env},
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one below
        )
        self.procs[name] = proc
        return proc

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        return self.pg.query(DB, query, params)


def _services(stack: ExitStack):
    try:
        return stack.enter_context(postgres()), stack.enter_context(redis())
    except ServiceUnavailable as exc:
        if os.environ.get("OMNIVA_REQUIRE_SERVICES"):
            raise
        pytest.skip(f"{exc} (scripts/setup.sh installs it)")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("production")
    with ExitStack() as es:
        pg, rd = _services(es)
        pg.create_database(DB)
        dagster_home = root / "dagster-home"
        env = {
            **os.environ,
            **pg.env(DB),
            "DAGSTER_HOME": str(dagster_home),
            "OMNIVA_HOME": str(root / "omniva-home"),
            "OMNIVA_YOUTUBE_API_ROOT": f"http://127.0.0.1:{free_port()}/",
            "OMNIVA_EXECUTOR": "celery",
            "OMNIVA_CELERY_BROKER": rd.url(0),
            "OMNIVA_CELERY_BACKEND": rd.url(1),
            "OMNIVA_GPUS": "1",
            # one Short per video keeps every upload of the module inside one day's quota
            "OMNIVA_MAX_CLIPS_PER_VIDEO": "1",
            # The ASR worker the first daemon-launched transcription starts stays for the whole
            # module (the queue test asserts both videos went to the same one), however long a
            # loaded machine takes between runs; the module stops it at the end.
            "OMNIVA_ASR_WORKER_IDLE_S": "3600",
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(REPO),
        }
        production.write_instance_yaml(
            dagster_home, max_concurrent_runs=3, storage_dir=root / "dagster-data", dequeue_interval_seconds=1
        )
        s = Stack(root, env, pg)
        pools = subprocess.run(
            [sys.executable, "-m", "omniva_assets.deployment", "pools"],
            env=env,
            capture_output=True,
            text=True,
        )
        assert pools.returncode == 0, pools.stderr
        yield s
        for name in list(s.procs):
            s.stop(name)
        asr_worker.stop(Path(env["OMNIVA_HOME"]))


@pytest.fixture(scope="module")
def cli_world(stack, fixtures):
    """A one-video creator through to its upload, with the CLI, on the PostgreSQL instance."""
    site = stack.root / "site"
    media.make_sample_video(site / "videos" / "jfk.mp4", fixtures / "jfk.flac")
    items = (SampleItem("prod-jfk", "JFK inaugural", "jfk.mp4", DAY, "inaugural address"),)
    started = time.perf_counter()
    with SampleSite(site, port=0, items=items) as served:
        add = stack.omniva("creators", "add", "prodcreator", served.feed_url)
        run = stack.omniva(
            "run", "--creator", "prodcreator", "--since", "2025-07-01", "--until", "2025-07-01"
        )
    return {"add": add, "run": run, "seconds": time.perf_counter() - started}


@pytest.fixture(scope="module")
def daemon(stack):
    """Two Celery workers (default queue, GPU queue) and the Dagster daemon over both code locations."""
    cfg = production.CELERY_WORKER_CONFIG  # deploy/celery.yaml, as in docker-compose.yml
    workspace = stack.root / "workspace.yaml"
    workspace.write_text(
        "load_from:\n"
        f"  - python_module: {{module_name: omniva_assets.definitions, location_name: omniva, "
        f"working_directory: {REPO}}}\n"
        f"  - python_module: {{module_name: omniva_devkit.smoke, location_name: smoke, working_directory: {REPO}}}\n"
    )
    worker = [str(VENV_BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app", "-y", str(cfg)]
    stack.start("worker-cpu", [*worker, "-q", "dagster", "-n", "cpu", "--", "--concurrency=2"])
    stack.start("worker-gpu", [*worker, "-q", "gpu", "-n", "gpu", "--", "--concurrency=1"])
    stack.start("daemon", [str(VENV_BIN / "dagster-daemon"), "run", "-w", str(workspace)])
    deadline = time.monotonic() + 90
    while not all(" ready." in stack.log(w) for w in ("worker-cpu", "worker-gpu")):
        assert time.monotonic() < deadline, stack.log("worker-cpu")[-2000:] + stack.log("worker-gpu")[-2000:]
        for name in ("worker-cpu", "worker-gpu", "daemon"):
            assert stack.procs[name].poll() is None, stack.log(name)[-3000:]
        time.sleep(0.5)
    # This process talks to the same instance (and spawns code servers for the workspace):
    # give it the stack's environment for the module's duration, then restore the original.
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in stack.env.items() if k.startswith(("OMNIVA_", "DAGSTER_"))})
    try:
        instance = dg.DagsterInstance.get()
        with QueueLauncher(instance, workspace_file=workspace) as launcher:
            yield launcher
        instance.dispose()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _why(error) -> str:
    """An error and its causes, the innermost last (a retry wraps the step's own error)."""
    out = []
    while error is not None:
        out.append(error.message.strip())
        error = error.cause or error.context
    return " <- ".join(out)[-1500:]


def _steps(instance: dg.DagsterInstance, run_id: str) -> dict[str, dict]:
    """step key -> celery worker, start and end time, from the run's event log."""
    out: dict[str, dict] = {}
    for entry in instance.all_logs(run_id):
        ev = entry.dagster_event
        if not ev or not entry.step_key:
            continue
        step = out.setdefault(entry.step_key, {})
        if ev.event_type_value == "ENGINE_EVENT" and "in celery worker" in entry.message:
            step["worker"] = str(ev.engine_event_data.metadata["Celery worker"].value)
        elif ev.event_type_value == "STEP_START":
            step["start"] = entry.timestamp
        elif ev.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            step["end"] = entry.timestamp
            step["status"] = ev.event_type_value
            if ev.event_type_value == "STEP_FAILURE":  # why, for the assertion's message
                step["error"] = str(ev.step_failure_data.error.message if ev.step_failure_data.error else "")[
                    :600
                ]
        elif ev.event_type_value == "STEP_UP_FOR_RETRY":
            error = getattr(ev.event_specific_data, "error", None)
            step["retry"] = _why(error) if error else entry.message[:600]
    return out


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    edges = sorted(
        [(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1])
    )
    now = peak = 0
    for _, delta in edges:
        now += delta
        peak = max(peak, now)
    return peak


# Runs submitted at once: creator "a" backfills four runs; two GPU-lane runs; two uploads to one
# channel. Limits: 3 runs at once, 2 per creator, 1 GPU-lane run, 1 run per channel, render pool 1.
QUEUE_RUNS = [
    *({"omniva/creator": "a", "omniva/lane": "cpu"} for _ in range(4)),
    {"omniva/creator": "b", "omniva/lane": "gpu"},
    {"omniva/creator": "c", "omniva/lane": "gpu"},
    {"omniva/creator": "d", "omniva/lane": "cpu", "omniva/channel": "ch1"},
    {"omniva/creator": "e", "omniva/lane": "cpu", "omniva/channel": "ch1"},
]


@pytest.fixture(scope="module")
def queued(daemon):
    started = time.perf_counter()
    hold = {HOLD_TAG: "1.5"}
    ids = [daemon.submit("smoke_job", {**tags, **hold}, location_name="smoke") for tags in QUEUE_RUNS]
    queued_at_once = [r.status.value for r in daemon.instance.get_runs(dg.RunsFilter(run_ids=ids))]
    statuses = daemon.wait(ids, timeout=240)
    records = {r.dagster_run.run_id: r for r in daemon.instance.get_run_records(dg.RunsFilter(run_ids=ids))}
    return {
        "ids": ids,
        "statuses": statuses,
        "queued_at_once": queued_at_once,
        "records": records,
        "steps": {rid: _steps(daemon.instance, rid) for rid in ids},
        "seconds": time.perf_counter() - started,
    }


def test_cli_materializes_the_feed_on_postgresql(stack, cli_world):
    assert cli_world["add"].returncode == 0, cli_world["add"].stderr[-3000:]
    run = cli_world["run"]
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # Nothing went to the SQLite default: the instance is PostgreSQL and holds the runs.
    assert not (Path(stack.env["OMNIVA_HOME"]) / "dagster" / "dagster.yaml").exists()
    jobs = dict(stack.sql("SELECT pipeline_name, count(*) FROM runs WHERE status = 'SUCCESS' GROUP BY 1"))
    for job in ("creators_job", "posts_job", "video_job", "clip_job", "publish_plan_job", "upload_job"):
        assert jobs.get(job, 0) >= 1, jobs
    mats = dict(
        stack.sql(
            "SELECT asset_key, count(*) FROM event_logs "
            "WHERE dagster_event_type = 'ASSET_MATERIALIZATION' GROUP BY 1"
        )
    )
    for asset in ("videos", "transcripts", "clip_selections", "renders", "uploads"):
        assert mats.get(json.dumps([asset]), 0) >= 1, mats
    videos = stack.sql("SELECT partition FROM dynamic_partitions WHERE partitions_def_name = 'videos'")
    assert len(videos) == 1 and "jfk" in videos[0][0]


def test_instance_is_postgres_with_queue_and_pools(stack, daemon):
    inst = daemon.instance
    assert type(inst.run_storage).__name__ == "PostgresRunStorage"
    assert type(inst.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert type(inst.schedule_storage).__name__ == "PostgresScheduleStorage"
    assert type(inst.run_coordinator).__name__ == "QueuedRunCoordinator"
    queue = inst.get_concurrency_config().run_queue_config
    assert queue.max_concurrent_runs == 3
    limits = {
        (lim["key"], json.dumps(lim.get("value"))): lim["limit"] for lim in queue.tag_concurrency_limits
    }
    assert limits[("omniva/lane", '"gpu"')] == 1
    assert limits[("omniva/channel", '{"applyLimitPerUniqueValue": true}')] == 1
    assert limits[("omniva/creator", '{"applyLimitPerUniqueValue": true}')] == 2
    pools = dict(stack.sql("SELECT concurrency_key, count(*) FROM concurrency_limits GROUP BY 1"))
    assert pools.get("render") == 1 and pools.get("asr") == 1 and pools.get("youtube_upload") == 1, pools


def test_queued_runs_respect_run_limits(queued):
    assert set(queued["statuses"].values()) == {"SUCCESS"}, queued["statuses"]
    assert "QUEUED" in queued["queued_at_once"]  # submitted through the coordinator, not run inline
    recs = queued["records"]
    span = {rid: (r.start_time, r.end_time) for rid, r in recs.items()}
    tags = {rid: r.dagster_run.tags for rid, r in recs.items()}
    everything = list(span.values())
    assert 2 <= _max_overlap(everything) <= 3, span  # runs did overlap, never more than 3
    by = lambda key, value: [span[r] for r in span if tags[r].get(key) == value]  # noqa: E731
    assert _max_overlap(by("omniva/creator", "a")) <= 2  # fairness: at most 2 of a's 4 runs
    assert _max_overlap(by("omniva/lane", "gpu")) == 1  # one GPU
    assert _max_overlap(by("omniva/channel", "ch1")) == 1  # one upload per channel
    # Creator a's backlog, submitted first, did not starve the others.
    last_a = max(s for rid, (s, _) in span.items() if tags[rid]["omniva/creator"] == "a")
    assert any(s < last_a for rid, (s, _) in span.items() if tags[rid]["omniva/creator"] != "a")


def test_steps_ran_on_the_celery_workers_with_gpu_routing_and_pools(queued):
    renders = []
    for rid, steps in queued["steps"].items():
        lane = queued["records"][rid].dagster_run.tags["omniva/lane"]
        assert steps["cpu_step"]["worker"].startswith("cpu@"), steps
        assert steps["render_step"]["worker"].startswith("gpu@"), steps  # op tagged omniva/lane=gpu
        # pool "asr" follows the run's lane
        assert steps["asr_step"]["worker"].startswith("gpu@" if lane == "gpu" else "cpu@"), steps
        renders.append((steps["render_step"]["start"], steps["render_step"]["end"]))
    assert _max_overlap(renders) == 1  # pool "render" has one slot


def test_an_omniva_render_runs_on_the_gpu_worker_through_the_queue(stack, cli_world, daemon, queued):
    instance = daemon.instance
    rendered = sorted(instance.get_materialized_partitions(dg.AssetKey("renders")))
    assert rendered, "the CLI run rendered nothing"
    key = rendered[0]  # "RANK|VIDEO": a dynamic clip partition
    before = instance.fetch_materializations(dg.AssetKey("renders"), limit=100).records
    run_id = daemon.submit(
        "clip_job",
        {
            "omniva/lane": "gpu",
            "omniva/creator": "prodcreator",
            "omniva/stage": "clip",
            "dagster/priority": "35",
        },
        partition_key=key,
        location_name="omniva",
    )
    status = daemon.wait([run_id], timeout=240)[run_id]
    steps = _steps(instance, run_id)
    assert status == "SUCCESS", (steps, stack.log("worker-gpu")[-3000:])
    assert steps["renders"]["worker"].startswith("gpu@"), steps
    assert steps["clips"]["worker"].startswith("cpu@") and steps["clip_copy"]["worker"].startswith("cpu@")
    after = instance.fetch_materializations(dg.AssetKey("renders"), limit=100).records
    assert len(after) == len(before) + 1 and after[0].run_id == run_id
    assert stack.sql("SELECT status FROM runs WHERE run_id = %s", (run_id,)) == [("SUCCESS",)]


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def test_killing_a_worker_process_mid_step_fails_the_run(stack, daemon, queued):
    run_id = daemon.submit("smoke_job", {"omniva/creator": "victim", HOLD_TAG: "60"}, location_name="smoke")
    deadline = time.monotonic() + 90
    while "start" not in _steps(daemon.instance, run_id).get("cpu_step", {}):
        assert time.monotonic() < deadline, "cpu_step never started"
        time.sleep(0.5)
    # dagster-celery CLI -> celery main process -> pool processes: kill the busy pool process.
    (celery_main,) = _children(stack.procs["worker-cpu"].pid)
    for pid in _children(celery_main):
        os.kill(pid, signal.SIGKILL)
    status = daemon.wait([run_id], timeout=60)[run_id]
    assert status == "FAILURE"
    failure = [
        repr(e.dagster_event.event_specific_data)
        for e in daemon.instance.all_logs(run_id)
        if e.dagster_event and e.dagster_event.event_type == DagsterEventType.RUN_FAILURE
    ]
    assert failure and "WorkerLostError" in failure[0], failure
    # The worker replaced its process and takes new work.
    again = daemon.submit("smoke_job", {"omniva/creator": "after"}, location_name="smoke")
    assert daemon.wait([again], timeout=90)[again] == "SUCCESS"


def test_schedule_storage_and_lineage_sync_are_idempotent(stack, cli_world, daemon, queued):
    # The daemon's default-on sensors keep their state and ticks in PostgreSQL (schedule storage).
    deadline = time.monotonic() + 60
    while not stack.sql("SELECT count(*) FROM job_ticks")[0][0]:
        assert time.monotonic() < deadline, stack.log("daemon")[-3000:]
        time.sleep(1)
    assert stack.sql("SELECT count(*) FROM instigators")[0][0] >= 1

    from omniva_resources.warehouse import Warehouse

    wh = Warehouse(
        Path(stack.env["OMNIVA_HOME"]) / "warehouse", Path(stack.env["OMNIVA_HOME"]) / "omniva.duckdb"
    )
    tables = (
        "dagster_runs",
        "dagster_steps",
        "dagster_materializations",
        "dagster_checks",
        "videos",
        "renders",
    )
    counts = []
    for _ in range(2):
        r = stack.omniva("lineage", "sync")
        assert r.returncode == 0, r.stderr[-3000:]
        counts.append({t: wh.query(f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in tables})
    assert counts[0] == counts[1], counts
    finished = stack.sql("SELECT count(*) FROM runs WHERE status IN ('SUCCESS', 'FAILURE', 'CANCELED')")[0][0]
    assert counts[0]["dagster_runs"] == finished
    dup = wh.query("SELECT storage_id, count(*) AS n FROM dagster_materializations GROUP BY 1 HAVING n > 1")
    assert not dup


# ---------------------------------------------------------------- the pipeline through the queue


@pytest.fixture(scope="module")
def queue_world(stack, daemon, fixtures):
    """Two creators' backfills at once, each ``omniva run --queue``: every run goes through the
    QueuedRunCoordinator, the daemon launches it, its steps run on the Celery workers."""
    from urllib.parse import urlparse

    from omniva_devkit.youtube_emulator import YouTubeEmulator

    site = stack.root / "queue-site"
    media.make_sample_video(site / "qa" / "videos" / "pyannote.mp4", fixtures / "pyannote_sample.wav")
    media.make_sample_video(site / "qb" / "videos" / "monologue.mp4", fixtures / "acoustic_corpus.wav")
    feeds = {
        "qa": (SampleItem("queue-pyannote", "Two speakers", "pyannote.mp4", DAY, "pyannote sample"),),
        "qb": (SampleItem("queue-monologue", "A monologue", "monologue.mp4", DAY, "MFA corpus"),),
    }
    port = urlparse(stack.env["OMNIVA_YOUTUBE_API_ROOT"]).port
    emulator = YouTubeEmulator(Path(stack.env["OMNIVA_HOME"]) / "youtube-emulator", port=port)
    emulator.start()  # both CLIs and the workers upload here
    started = time.perf_counter()
    try:
        with ExitStack() as sites:
            for name, items in feeds.items():
                served = sites.enter_context(SampleSite(site / name, port=0, items=items))
                assert stack.omniva("creators", "add", name, served.feed_url).returncode == 0
            for name in feeds:
                cmd = [sys.executable, "-m", "omniva_app.cli", "run", "--queue", "--creator", name]
                stack.start(f"run-{name}", [*cmd, "--since", "2025-07-01", "--until", "2025-07-01"])
            codes = {name: stack.procs[f"run-{name}"].wait(timeout=900) for name in feeds}
    finally:
        emulator.stop()
    instance = daemon.instance
    runs = [
        r
        for r in instance.get_run_records(dg.RunsFilter(tags={"omniva/launched_by": "omniva-cli"}))
        if r.dagster_run.tags.get("omniva/creator") in feeds
    ]
    return {
        "codes": codes,
        "logs": {name: stack.log(f"run-{name}") for name in feeds},
        "runs": runs,
        "steps": {r.dagster_run.run_id: _steps(instance, r.dagster_run.run_id) for r in runs},
        "seconds": time.perf_counter() - started,
    }


def test_two_creators_backfills_run_through_the_queue_on_the_workers_within_the_limits(
    stack, daemon, queue_world
):
    for name, code in queue_world["codes"].items():
        assert code == 0, queue_world["logs"][name][-4000:]
        assert "queued" in queue_world["logs"][name]
    runs = queue_world["runs"]
    jobs = {r.dagster_run.job_name for r in runs}
    failed = [
        (v.get("error"), v.get("retry"))
        for steps in queue_world["steps"].values()
        for v in steps.values()
        if "error" in v or "retry" in v
    ]
    assert {"posts_job", "video_job", "clip_job", "publish_plan_job", "upload_job"} <= jobs, (jobs, failed)
    assert all(r.dagster_run.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    instance = daemon.instance
    for r in runs:  # each run was put in the queue, then the daemon launched it
        kinds = [
            e.dagster_event.event_type for e in instance.all_logs(r.dagster_run.run_id) if e.dagster_event
        ]
        assert kinds.index(DagsterEventType.RUN_ENQUEUED) < kinds.index(DagsterEventType.RUN_STARTING), kinds
    # every step ran on a Celery worker; transcription and renders (GPU lane) on the GPU worker
    gpu_steps, uploads = [], []
    for r in runs:
        for step, info in queue_world["steps"][r.dagster_run.run_id].items():
            assert info.get("worker"), (r.dagster_run.job_name, step, info)
            if step in ("transcripts", "renders"):
                assert info["worker"].startswith("gpu@"), (step, info)
                gpu_steps.append((info["start"], info["end"]))
            elif step == "uploads":
                uploads.append((info["start"], info["end"]))
            else:
                assert info["worker"].startswith("cpu@"), (step, info)
    assert len(gpu_steps) >= 4 and _max_overlap(gpu_steps) == 1  # one GPU
    span = {r.dagster_run.run_id: (r.start_time, r.end_time) for r in runs}
    gpu_runs = [span[r.dagster_run.run_id] for r in runs if r.dagster_run.tags.get("omniva/lane") == "gpu"]
    assert _max_overlap(gpu_runs) == 1
    channel_runs = [span[r.dagster_run.run_id] for r in runs if r.dagster_run.tags.get("omniva/channel")]
    assert len(uploads) >= 2 and _max_overlap(channel_runs) == 1 and _max_overlap(uploads) == 1
    # Transcription ran in the long-lived ASR worker the first daemon-launched run started:
    # the second video loaded no model again (one load per model, not one per video).
    transcribed = sorted(
        (
            r
            for r in instance.fetch_materializations(dg.AssetKey("transcripts"), limit=50).records
            if "pyannote" in (r.partition_key or "") or "monologue" in (r.partition_key or "")
        ),
        key=lambda r: r.storage_id,
    )
    meta = [r.asset_materialization.metadata for r in transcribed]
    assert len(meta) == 2 and all("asr_worker_pid" in m for m in meta), meta
    assert meta[0]["asr_worker_pid"].value == meta[1]["asr_worker_pid"].value
    assert meta[1]["asr_loads_in_worker"].value == meta[0]["asr_loads_in_worker"].value
    # neither backfill waited for the other to finish
    by_creator = {
        c: [span[r.dagster_run.run_id] for r in runs if r.dagster_run.tags["omniva/creator"] == c]
        for c in ("qa", "qb")
    }
    first = {c: min(s for s, _ in spans) for c, spans in by_creator.items()}
    last = {c: max(e for _, e in spans) for c, spans in by_creator.items()}
    assert first["qa"] < last["qb"] and first["qb"] < last["qa"], (first, last)
    # the uploads are in PostgreSQL's event log, one per clip, and on the emulator's channel
    uploaded = {
        p
        for (p,) in stack.sql(
            "SELECT partition FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION' "
            "AND asset_key = %s",
            (json.dumps(["uploads"]),),
        )
    }
    for video in ("queue-pyannote", "queue-monologue"):
        assert any(video.replace("queue-", "") in p for p in uploaded), uploaded
    print(f"two creators through the queue: {len(runs)} runs in {queue_world['seconds']:.0f} s")


def test_scale_10000_video_partitions_on_postgresql(stack, tmp_path):
    """Register 10,000 video partitions on PostgreSQL and time what sensors, Zenith and the UI
    ask of the instance (figures printed; docs/deployment.md has the table)."""
    stack.pg.create_database("scale")
    home = tmp_path / "dagster"
    env = {
        **stack.env,
        **stack.pg.env("scale"),
        "DAGSTER_HOME": str(home),
        "OMNIVA_HOME": str(tmp_path / "o"),
    }
    production.write_instance_yaml(home, storage_dir=tmp_path / "data")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "omniva_devkit.scale_probe",
            "--videos",
            "10000",
            "--materialized",
            "1000",
            "--current",
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    print(r.stdout)
    rows = {
        line.split("|")[1].strip(): line.split("|")[3].strip()
        for line in r.stdout.splitlines()
        if line.count("|") == 4
    }
    assert rows["list the video partitions"] == "10,000 partitions"
    assert rows["materialized video partitions"].startswith("1,000 materialized")
    assert rows["Zenith decisions over 10,000 keys"] == "9,000 to request, 1,000 skipped"
    assert rows["video_sensor tick (50 new videos)"] == "50 run requests"
    assert "PostgresRunStorage" in r.stdout
