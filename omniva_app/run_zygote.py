"""Warm run processes for the daemon: one process that has imported Dagster and Omniva and built
the definitions once, and forks a run process from itself for every run the daemon launches.

Dagster's default launcher asks the code location's gRPC server to start each run, and the
server spawns a fresh interpreter that imports Dagster and Omniva and loads the definitions again
(about 1.3 s quiet, 2 s or more on a busy two-core machine, before the run's first step; a
backfill of eight short videos is 27 runs). A process forked from this one starts its run at
once and then runs exactly what ``dagster api execute_run`` runs (``WarmRunLauncher`` in
``run_launcher.py`` decides which runs come here).

- Code changes are seen: every request carries a fingerprint of Omniva's source files (paths,
  sizes, modification times); a zygote whose code is older refuses, exits, and the launcher
  starts a new one. Runs already forked go on with the code they started with, as runs of a
  reloaded code location do.
- A run process belongs to no one but itself: killing or replacing the zygote leaves it running;
  the zygote reaps the ones that end while it lives.
- Nothing is open at a fork (no database, no socket but the listener, no thread): each run
  process opens its instance from the reference the launcher sends. What a first opening costs
  (Dagster reading its schema migrations) and the models most runs load first (spaCy, the text
  model) are paid before any fork, so runs start with them.
- The socket lives in the instance's ``run/`` folder (0700, key 0600; ``local_service``); the
  zygote exits after ``idle_s`` without a request.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import signal
import sys
import time
import traceback
from multiprocessing.connection import Connection, Listener
from pathlib import Path
from typing import Any

from omniva_resources import local_service

NAME = "run-zygote"
PACKAGES = ("omniva", "cognitive_sensors", "omniva_resources", "omniva_assets", "omniva_app")
PRELOAD_MODULE = "omniva_assets.definitions"
DEFAULT_IDLE_S = 900.0
START_TIMEOUT_S = 90.0


def fingerprint() -> str:
    """Omniva's source files as they are now: a zygote with another fingerprint has older code."""
    digest = hashlib.sha256()
    for package in PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        for folder in spec.submodule_search_locations:
            for path in sorted(Path(folder).rglob("*.py")):
                info = path.stat()
                digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:20]


# ------------------------------------------------------------------ the zygote
def serve(home: Path, idle_s: float = DEFAULT_IDLE_S) -> None:
    """Import and build once, then fork one run process per request until ``idle_s`` pass idle."""
    import dagster  # noqa: F401 - imported here, before any fork, so no run process pays for it

    from omniva_resources.dagster_internals import execute_run_command_body  # noqa: F401 - same

    defs = importlib.import_module(PRELOAD_MODULE).defs  # built now, shared by every fork
    _warm_up(defs, home)
    mine = fingerprint()
    sock = local_service.socket_path(home, NAME)
    sock.unlink(missing_ok=True)
    listener = Listener(str(sock), family="AF_UNIX", authkey=local_service.key(home, NAME))
    os.chmod(sock, 0o600)
    state = {"last": time.monotonic()}

    def reap(_signum: int, _frame: Any) -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    def idle(_signum: int, _frame: Any) -> None:
        if time.monotonic() - state["last"] > idle_s:
            sock.unlink(missing_ok=True)
            os._exit(0)

    signal.signal(signal.SIGCHLD, reap)
    signal.signal(signal.SIGALRM, idle)
    signal.setitimer(signal.ITIMER_REAL, 1.0, 1.0)
    while True:
        try:
            conn = listener.accept()  # a wrong key raises here, before anything is read
        except Exception:  # noqa: BLE001 - a client that fails to authenticate must not stop it
            continue
        state["last"] = time.monotonic()
        try:
            _answer(conn, mine, sock)
        finally:
            conn.close()


def _warm_up(defs: Any, home: Path) -> None:
    """What every run would do first, done here once: open the instance (the first opening in a
    process reads Dagster's schema migrations, about 0.5 s; it is closed again before any fork)
    and load the models most runs load first (spaCy, the text model, the exemplars). A model that
    fails to load here fails in the run that needs it, with its own error, as before."""
    from dagster import DagsterInstance

    from omniva_resources.dagster_internals import InstanceRef

    try:
        with DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
            instance.get_runs(limit=1)
    except Exception:  # noqa: BLE001 - only a warm-up: the run opens its own instance
        traceback.print_exc()
    for resource in (defs.resources or {}).values():
        warm_up = getattr(resource, "warm_up", None)
        if callable(warm_up):
            try:
                warm_up()
            except Exception:  # noqa: BLE001 - the run that needs it reports it
                traceback.print_exc()


def _answer(conn: Connection, mine: str, sock: Path) -> None:
    try:
        op, run_id, instance_ref, theirs = conn.recv()
    except (EOFError, OSError, ValueError, TypeError):
        return
    if op == "stop" or theirs != mine:
        # Older code than the caller's (or asked to stop): go, so that a new zygote loads it.
        sock.unlink(missing_ok=True)
        conn.send(("stale" if op != "stop" else "stopped", os.getpid()))
        conn.close()
        os._exit(0)
    if op != "run":
        conn.send(("error", f"unknown request {op!r}"))
        return
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            signal.setitimer(signal.ITIMER_REAL, 0, 0)
            for sig in (signal.SIGALRM, signal.SIGCHLD):
                signal.signal(sig, signal.SIG_DFL)
            conn.close()
            code = _execute(run_id, instance_ref)
        except BaseException:  # noqa: BLE001 - the run process reports and exits, whatever happened
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    conn.send(("started", pid, process_start_time(pid)))


def _execute(run_id: str, instance_ref: str) -> int:
    """What ``dagster api execute_run`` does with a run, in this (forked) process."""
    from dagster import DagsterInstance, deserialize_value

    from omniva_resources.dagster_internals import (
        InstanceRef,
        capture_interrupts,
        execute_run_command_body,
    )

    with capture_interrupts():
        ref = deserialize_value(instance_ref, InstanceRef)
        with DagsterInstance.from_ref(ref) as instance:
            return execute_run_command_body(
                run_id, instance, lambda _event: None, set_exit_code_on_failure=True
            )


def process_start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (``/proc/PID/stat``): with the pid it
    names one process, not whichever later reuses the pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


# ------------------------------------------------------------------ the launcher's side
class ZygoteError(RuntimeError):
    """The zygote could not start a run process (the launcher then starts the run the usual way)."""


def start_run(home: Path, run_id: str, instance_ref: str, idle_s: float = DEFAULT_IDLE_S) -> tuple[int, str]:
    """Fork a run process for ``run_id`` from the home's zygote (started or replaced as needed):
    its pid and start time."""
    argv = ["-m", "omniva_app.run_zygote", "--home", str(home), "--idle", str(idle_s)]
    current = fingerprint()
    for _ in range(3):
        try:
            conn = local_service.connect(
                home, NAME, argv, START_TIMEOUT_S, "warm run starter", "set OMNIVA_WARM_RUNS=off"
            )
        except Exception as exc:  # noqa: BLE001 - reported as the zygote's failure
            raise ZygoteError(str(exc)) from exc
        with conn:
            try:
                conn.send(("run", run_id, instance_ref, current))
                reply = conn.recv()
            except (EOFError, OSError) as exc:
                raise ZygoteError(f"the warm run starter stopped while starting run {run_id}") from exc
        if reply[0] == "started":
            return int(reply[1]), str(reply[2])
        if reply[0] != "stale":
            raise ZygoteError(f"the warm run starter refused run {run_id}: {reply[1:]}")
        _wait_gone(int(reply[1]))
    raise ZygoteError("the warm run starter kept loading older code than this process's")


def _wait_gone(pid: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        except PermissionError:
            return
        time.sleep(0.02)


def stop(home: Path) -> int | None:
    """Stop the home's zygote, if one runs (its run processes go on); its pid."""
    return local_service.stop(home, NAME, ("stop", "", "", ""))


def main(argv: list[str] | None = None) -> int:
    return local_service.main(argv, "Omniva's warm run starter (for the daemon)", serve, DEFAULT_IDLE_S)


if __name__ == "__main__":
    raise SystemExit(main())
