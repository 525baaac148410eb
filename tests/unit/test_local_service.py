"""The long-lived services' socket loop (``omniva_resources.local_service.serve``): one request at
a time, the key checked first, and an idle exit that never drops a client that already connected."""

import contextlib
import os
import signal
import threading
import time

import pytest

from omniva_resources import local_service


def _echo(conn) -> None:
    conn.send(("echo", conn.recv(), os.getpid()))


@pytest.fixture
def service(tmp_path):
    """``serve`` with a 0.5 s idle time in a forked child; yields (home, pid)."""
    path = local_service.socket_path(tmp_path, "t")
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            local_service.serve(tmp_path, "t", 0.5, _echo)
        finally:
            os._exit(1)
    deadline = time.monotonic() + 10
    while not path.exists():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    yield tmp_path, pid
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def test_it_answers_with_the_key_only_and_exits_when_idle(service):
    home, pid = service
    with local_service.try_connect(home, "t") as conn:
        conn.send(1)
        assert conn.recv() == ("echo", 1, pid)
    from multiprocessing.connection import AuthenticationError, Client

    with pytest.raises(AuthenticationError):
        Client(str(local_service.socket_path(home, "t")), family="AF_UNIX", authkey=b"not the key")
    with local_service.try_connect(home, "t") as conn:  # still serving
        conn.send(2)
        assert conn.recv() == ("echo", 2, pid)
    assert os.waitpid(pid, 0) == (pid, 0)  # left by itself once idle
    assert not local_service.socket_path(home, "t").exists()
    assert local_service.try_connect(home, "t") is None  # the next client starts a new one


def test_a_client_that_connected_when_the_idle_time_ran_out_is_answered(service):
    """The service is frozen past its idle time while a client connects: when it resumes, it
    answers that client before it leaves (before, the idle exit could drop it mid-handshake)."""
    home, pid = service
    os.kill(pid, signal.SIGSTOP)
    time.sleep(1.0)  # past the idle time
    got: list = []

    def client() -> None:
        with local_service.try_connect(home, "t") as conn:
            conn.send("late")
            got.append(conn.recv())

    t = threading.Thread(target=client)
    t.start()
    time.sleep(0.2)  # connected, waiting for the frozen service's key check
    os.kill(pid, signal.SIGCONT)
    t.join(10)
    assert got == [("echo", "late", pid)]
    assert os.waitpid(pid, 0) == (pid, 0)
