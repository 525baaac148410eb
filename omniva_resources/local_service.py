"""A long-lived helper process of this user's, found on a Unix socket in ``HOME/run/``: the
speech-recognition worker (``asr_worker``) and the daemon's warm run starter
(``omniva_app.run_zygote``).

The folder is 0700 and the key 0600: only this user's processes can ask, and
``multiprocessing.connection`` checks the key before anything is read. The first client starts
the service (detached, in its own session, one start at a time under a lock); later clients find
it on its socket.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import secrets
import select
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Client, Connection, answer_challenge, deliver_challenge
from pathlib import Path

from omniva import errors


def run_dir(home: Path) -> Path:
    folder = Path(home) / "run"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def key(home: Path, name: str) -> bytes:
    path = run_dir(home) / f"{name}.key"
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_text().strip().encode()
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def socket_path(home: Path, name: str) -> Path:
    """The service's socket: in the home's run folder, or, when that path is too long for a Unix
    socket (about 100 bytes), in this user's private folder under the system's temp folder."""
    path = run_dir(home) / f"{name}.sock"
    if len(str(path).encode()) < 100:
        return path
    private = Path(tempfile.gettempdir()) / f"omniva-{os.getuid()}"
    private.mkdir(mode=0o700, exist_ok=True)
    info = private.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise errors.ConfigError(
            f"{private} is not this user's private folder; remove it or set a shorter OMNIVA_HOME"
        )
    digest = hashlib.sha256(str(Path(home).resolve()).encode()).hexdigest()[:16]
    return private / f"{name}-{digest}.sock"


@contextmanager
def start_lock(home: Path, name: str) -> Iterator[None]:
    with (run_dir(home) / f"{name}.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def try_connect(home: Path, name: str) -> Connection | None:
    try:
        return Client(str(socket_path(home, name)), family="AF_UNIX", authkey=key(home, name))
    except (FileNotFoundError, ConnectionRefusedError):
        return None


def start(home: Path, name: str, argv: Sequence[str]) -> None:
    """Start ``python ARGV`` detached (it outlives the process that starts it), logging to
    ``HOME/run/NAME.log``."""
    log = (run_dir(home) / f"{name}.log").open("ab")
    subprocess.Popen(
        [sys.executable, *argv],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
        close_fds=True,
    )


def connect(
    home: Path, name: str, argv: Sequence[str], timeout_s: float, what: str, off_hint: str
) -> Connection:
    """A connection to the home's service, starting one if none answers (one start at a time)."""
    conn = try_connect(home, name)
    if conn is not None:
        return conn
    with start_lock(home, name):
        conn = try_connect(home, name)  # another process may have started it meanwhile
        if conn is None:
            socket_path(home, name).unlink(missing_ok=True)  # left by one that died
            start(home, name, argv)
            deadline = time.monotonic() + timeout_s
            while conn is None and time.monotonic() < deadline:
                time.sleep(0.05)
                conn = try_connect(home, name)
    if conn is None:
        log = run_dir(home) / f"{name}.log"
        raise errors.ConfigError(f"the {what} did not start within {timeout_s:.0f} s (see {log}); {off_hint}")
    return conn


def stop(home: Path, name: str, request: tuple) -> int | None:
    """Ask the home's service to stop, if one runs (``request``: its own stop message); its pid."""
    conn = try_connect(home, name)
    if conn is None:
        return None
    with conn:
        conn.send(request)
        try:
            return int(conn.recv()[1])
        except EOFError:
            return None


def serve(home: Path, name: str, idle_s: float, answer: Callable[[Connection], None]) -> None:
    """Serve the home's socket one connection at a time (``answer`` with each, after the key
    check), and exit the process once ``idle_s`` pass without one.

    The exit does not race a client: the socket is unlinked first, so a client from then on finds
    no service and starts a new one, and a client that connected before the unlink is served
    before the process leaves."""
    path = socket_path(home, name)
    authkey = key(home, name)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    os.chmod(path, 0o600)
    server.listen(16)
    last = time.monotonic()
    while True:
        wait = last + idle_s - time.monotonic()
        ready, _, _ = select.select([server], [], [], max(0.0, wait))
        if not ready and wait <= 0:
            path.unlink(missing_ok=True)  # no client can connect from here on
            while select.select([server], [], [], 0)[0]:  # one connected just before: serve it
                _accept_and_answer(server, authkey, answer)
            os._exit(0)
        if ready:
            _accept_and_answer(server, authkey, answer)
            last = time.monotonic()


def _accept_and_answer(server: socket.socket, authkey: bytes, answer: Callable[[Connection], None]) -> None:
    sock, _ = server.accept()
    sock.setblocking(True)
    conn = Connection(sock.detach())
    try:
        try:
            # a wrong key raises here, before anything is read; it must not stop the service
            deliver_challenge(conn, authkey)
            answer_challenge(conn, authkey)
        except Exception:  # noqa: BLE001
            return
        answer(conn)
    finally:
        conn.close()


def main(
    argv: list[str] | None, description: str, serve: Callable[[Path, float], None], idle_s: float
) -> int:
    """A service's command line: ``--home HOME --idle SECONDS``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--home", required=True, type=Path)
    parser.add_argument("--idle", type=float, default=idle_s)
    args = parser.parse_args(argv)
    serve(args.home, args.idle)
    return 0
