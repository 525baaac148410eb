"""Throwaway PostgreSQL and Redis servers on loopback, for tests and for trying the production
topology on one machine without containers (see docs/deployment.md).

Each server lives in its own temporary folder on a free 127.0.0.1 port and is stopped (and
its folder removed) when the context exits. They are the same programs the compose file runs
(``postgres`` and ``redis-server`` from Debian's packages, ``scripts/setup.sh`` installs them).
``initdb`` refuses to run as root, so as root the PostgreSQL server runs as ``postgres``.
"""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


class ServiceUnavailable(RuntimeError):
    """The server's programs are not installed here."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with code {proc.returncode}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def postgres_bindir() -> Path:
    """Where ``initdb``/``pg_ctl`` are: ``OMNIVA_PG_BINDIR``, ``pg_config --bindir`` or Debian's folder."""
    candidates = [os.environ.get("OMNIVA_PG_BINDIR", "")]
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for c in candidates:
        if c and (Path(c) / "initdb").exists() and (Path(c) / "pg_ctl").exists():
            return Path(c)
    raise ServiceUnavailable("PostgreSQL server binaries not found (apt-get install postgresql)")


@dataclass(frozen=True, slots=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    bindir: Path

    def env(self, db_name: str) -> dict[str, str]:
        """The variables ``deploy/dagster.yaml`` reads."""
        return {
            "OMNIVA_PG_HOST": self.host,
            "OMNIVA_PG_PORT": str(self.port),
            "OMNIVA_PG_USER": self.user,
            "OMNIVA_PG_PASSWORD": self.password,
            "OMNIVA_PG_DB": db_name,
        }

    def url(self, db_name: str) -> str:
        return f"postgresql+psycopg2://{self.user}:{self.password}@{self.host}:{self.port}/{db_name}"

    def create_database(self, name: str) -> str:
        import psycopg2

        con = psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password, dbname="postgres"
        )
        try:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')  # name chosen by the caller (tests)
        finally:
            con.close()
        return name

    def query(self, db_name: str, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg2

        con = psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password, dbname=db_name
        )
        try:
            with con.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            con.close()


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", "postgres", "--", *cmd]
    return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(cmd)]


@contextmanager
def postgres(
    user: str = "omniva", password: str = "omniva-test", timeout: float = 60
) -> Iterator[PostgresServer]:
    """A fresh PostgreSQL cluster on 127.0.0.1:<free port>, password authentication over TCP."""
    bindir = postgres_bindir()
    root = Path(tempfile.mkdtemp(prefix="omniva-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    (root / "pwfile").write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sock, "postgres", "postgres")
        shutil.chown(root / "pwfile", "postgres", "postgres")
    port = free_port()
    log = root / "server.log"
    try:
        subprocess.run(
            _as_postgres(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    user,
                    f"--pwfile={root / 'pwfile'}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        options = (
            f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            _as_postgres(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=timeout + 30,
        )
        _wait_for_port(port, timeout)
        yield PostgresServer("127.0.0.1", port, user, password, bindir)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True, slots=True)
class RedisServer:
    host: str
    port: int

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"


@contextmanager
def redis(timeout: float = 30) -> Iterator[RedisServer]:
    """A fresh, non-persistent Redis on 127.0.0.1:<free port>."""
    exe = shutil.which("redis-server")
    if not exe:
        raise ServiceUnavailable("redis-server not found (apt-get install redis-server)")
    root = Path(tempfile.mkdtemp(prefix="omniva-redis-"))
    port = free_port()
    with open(root / "server.log", "wb") as log:
        proc = subprocess.Popen(
            [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            + ["--dir", str(root), "--daemonize", "no"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_port(port, timeout, proc)
        yield RedisServer("127.0.0.1", port)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(root, ignore_errors=True)
