"""Runs the daemon launches start as forks of a warm process (omniva_app/run_zygote.py,
run_launcher.py): the real dagster-daemon over the embedded instance and the repo's workspace."""

import os
import signal
import subprocess
import sys
import time
from multiprocessing.connection import Client
from pathlib import Path

import dagster as dg
import pytest

from omniva.settings import REPO_ROOT, ensure_dagster_home, layout
from omniva_app import run_zygote
from omniva_app.launch import LOCATION, queue_launcher
from omniva_app.run_launcher import PROCESS_TAG
from omniva_resources import creators, local_service

VENV_BIN = Path(sys.executable).parent


@dg.op
def noop() -> None:
    pass


@dg.job
def nothing() -> None:
    noop()


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """An Omniva home with the repo's dagster.yaml, as the CLI and ``make ui`` make it."""
    monkeypatch.setenv("OMNIVA_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(ensure_dagster_home()))
    instance = dg.DagsterInstance.get()
    yield instance
    instance.dispose()


@pytest.fixture
def daemon(instance, tmp_path):
    creators.add(layout(), "warm", "http://127.0.0.1:9/feed.xml", allow_private_network=True)
    instance.add_dynamic_partitions("creators", ["warm"])
    log = (tmp_path / "daemon.log").open("wb")
    proc = subprocess.Popen(
        [str(VENV_BIN / "dagster-daemon"), "run", "-w", str(REPO_ROOT / "workspace.yaml")],
        cwd=REPO_ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while "QUEUED_RUN_COORDINATOR" not in instance.get_daemon_heartbeats():
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "daemon.log").read_text()[
                -3000:
            ]
            time.sleep(0.5)
        yield instance
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        run_zygote.stop(Path(instance.root_directory))


def _run_creators(instance: dg.DagsterInstance) -> dg.DagsterRun:
    with queue_launcher(instance) as launcher:
        run_id = launcher.submit("creators_job", {"omniva/creator": "warm"}, "warm", location_name=LOCATION)
    deadline = time.monotonic() + 180
    while True:
        run = instance.get_run_by_id(run_id)
        assert run is not None
        if run.is_finished:
            return run
        assert time.monotonic() < deadline, run.status
        time.sleep(0.3)


def _run_pid(instance: dg.DagsterInstance, run_id: str) -> int:
    for entry in instance.all_logs(run_id):
        if entry.message.startswith("Started process for run (pid: "):
            return int(entry.message.split("pid: ")[1].rstrip(")."))
    raise AssertionError("no process start in the run's events")


def test_daemon_runs_are_forked_warm_and_new_code_gets_a_new_zygote(daemon):
    home = Path(daemon.root_directory)
    first = _run_creators(daemon)
    assert first.status == dg.DagsterRunStatus.SUCCESS
    assert "dagster/grpc_info" not in first.tags  # not the code server's fresh interpreter
    pid, _, started = first.tags[PROCESS_TAG].partition(":")
    assert int(pid) == _run_pid(daemon, first.run_id) and started
    assert daemon.get_materialized_partitions(dg.AssetKey("creators")) == {"warm"}

    # The zygote answers only with its key, and refuses (and leaves) when the code changed.
    sock = str(local_service.socket_path(home, run_zygote.NAME))
    with pytest.raises(Exception):  # noqa: B017 - multiprocessing.AuthenticationError
        Client(sock, family="AF_UNIX", authkey=b"not the key").send("x")
    with Client(sock, family="AF_UNIX", authkey=local_service.key(home, run_zygote.NAME)) as conn:
        conn.send(("run", "no-such-run", "", "another fingerprint"))
        reply = conn.recv()
    assert reply[0] == "stale"
    old_zygote = int(reply[1])
    deadline = time.monotonic() + 10
    while run_zygote.process_start_time(old_zygote) and time.monotonic() < deadline:
        time.sleep(0.1)

    second = _run_creators(daemon)  # the launcher starts a new zygote
    assert second.status == dg.DagsterRunStatus.SUCCESS
    assert int(second.tags[PROCESS_TAG].partition(":")[0]) == _run_pid(daemon, second.run_id)
    assert not list(home.glob("history/runs/*.tmp"))


def test_terminate_interrupts_the_run_process_it_names_and_no_other(instance):
    daemon = instance
    job = nothing
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        started = run_zygote.process_start_time(proc.pid)
        stale = daemon.create_run_for_job(job, tags={PROCESS_TAG: f"{proc.pid}:1"})
        assert daemon.run_launcher.terminate(stale.run_id) is False  # another process with that pid
        assert proc.poll() is None
        named = daemon.create_run_for_job(job, tags={PROCESS_TAG: f"{proc.pid}:{started}"})
        assert daemon.run_launcher.terminate(named.run_id) is True
        assert proc.wait(10) != 0  # interrupted (KeyboardInterrupt)
        assert daemon.get_run_by_id(named.run_id).status == dg.DagsterRunStatus.CANCELING
    finally:
        proc.kill()
