"""A long-lived speech-recognition worker: one process keeps the models loaded and transcribes
for every step that asks.

Under the daemon (``make ui``, sensors, backfills, ``omniva run --queue``) every run is a new
process, so a backfill of N videos would load the models N times. The transcripts step then asks
this worker instead: the first step starts it (detached, in its own session), later steps find it
on its socket, and it exits after ``idle_s`` seconds without work. Requests are served one at a
time (speech recognition already uses the cores); ``loads`` in each answer counts the model
loads of the worker's life, so a backfill's materializations show one load per model, not one per
video.

The socket and its key live in ``OMNIVA_HOME/run/`` (folder 0700, key 0600): only this user's
processes can ask, and ``multiprocessing.connection`` checks the key before anything is read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from omniva import errors
from omniva.errors import OmnivaError
from omniva.records import Transcript
from omniva_resources import asr, local_service, media

START_TIMEOUT_S = 60.0
DEFAULT_IDLE_S = 600.0


@dataclass(frozen=True, slots=True)
class WorkerAnswer:
    transcript: Transcript
    pid: int
    loads: int  # model loads in the worker's life so far
    served: int  # requests it has answered, this one included


NAME = "asr-worker"


def run_dir(home: Path) -> Path:
    return local_service.run_dir(home)


def socket_path(home: Path) -> Path:
    return local_service.socket_path(home, NAME)


# ------------------------------------------------------------------ the worker process
def serve(home: Path, idle_s: float = DEFAULT_IDLE_S) -> None:
    """Answer transcription requests on the home's socket until ``idle_s`` pass without one (a
    client that connected before the worker left is still answered: ``local_service.serve``)."""
    state = {"served": 0}
    local_service.serve(home, NAME, idle_s, lambda conn: _answer(conn, state))


def _answer(conn: Connection, state: dict) -> None:
    try:
        op, path, settings, tools = conn.recv()
    except (EOFError, OSError, ValueError):
        return
    if op == "stop":
        conn.send(("stopped", os.getpid()))
        conn.close()
        socket_path(Path(path)).unlink(missing_ok=True)
        os._exit(0)
    if op != "transcribe":
        conn.send(("error", "ConfigError", f"unknown request {op!r}", False))
        return
    try:
        transcript = asr.transcribe(Path(path), settings, tools)
    except OmnivaError as exc:
        conn.send(("error", type(exc).__name__, str(exc), exc.retryable))
        return
    except Exception as exc:  # noqa: BLE001 - reported to the step, which fails with it
        conn.send(("error", "", f"{type(exc).__name__}: {exc}", False))
        return
    state["served"] = int(state["served"]) + 1
    conn.send(("ok", transcript, os.getpid(), asr.LOAD_COUNT["asr"], state["served"]))


# ------------------------------------------------------------------ the steps' side
def connect(home: Path, idle_s: float = DEFAULT_IDLE_S, timeout_s: float = START_TIMEOUT_S) -> Connection:
    """A connection to the home's worker, starting one if none answers (one at a time)."""
    return local_service.connect(
        home,
        NAME,
        ["-m", "omniva_resources.asr_worker", "--home", str(home), "--idle", str(idle_s)],
        timeout_s,
        "speech-recognition worker",
        "set OMNIVA_ASR_WORKER=off to transcribe in each run's own process",
    )


def transcribe(
    home: Path,
    path: Path,
    settings: asr.AsrSettings,
    tools: media.FFmpegTools = media.DEFAULT_TOOLS,
    idle_s: float = DEFAULT_IDLE_S,
) -> WorkerAnswer:
    """``asr.transcribe`` done by the worker: the same transcript, or the same typed error."""
    with connect(home, idle_s) as conn:
        conn.send(("transcribe", str(path), settings, tools))
        try:
            reply: Any = conn.recv()
        except EOFError:
            raise errors.MediaError(
                f"{Path(path).name}: the speech-recognition worker stopped while transcribing it "
                f"(see {run_dir(home) / 'asr-worker.log'})"
            ) from None
    if reply[0] == "ok":
        _, transcript, pid, loads, served = reply
        return WorkerAnswer(transcript, pid, loads, served)
    _, kind, message, retryable = reply
    cls = getattr(errors, kind, None)
    if not (isinstance(cls, type) and issubclass(cls, OmnivaError)):
        cls = OmnivaError
    try:
        err = cls(message)
    except TypeError:  # an error class that wants more than a message
        err = OmnivaError(message)
    err.retryable = retryable
    raise err


def stop(home: Path) -> int | None:
    """Stop the home's worker, if one runs; its pid."""
    return local_service.stop(home, NAME, ("stop", str(home), None, None))


def main(argv: list[str] | None = None) -> int:
    return local_service.main(argv, "Omniva's speech-recognition worker", serve, DEFAULT_IDLE_S)


if __name__ == "__main__":
    raise SystemExit(main())
