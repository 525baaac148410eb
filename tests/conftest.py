import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import duckdb
import pytest

# The recordings the tests use travel with the repository (licences in tests/fixtures/media/MANIFEST.md).
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "media"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Each test process (pytest-xdist runs several) has a home of its own: nothing falls back on the
# repository's .omniva (the Makefile exports it) nor on a DAGSTER_HOME the shell may carry. Tests
# that need a home make their own under tmp_path; this one only catches what would leak.
_PROCESS_HOME = tempfile.mkdtemp(prefix="omniva-tests-")
atexit.register(shutil.rmtree, _PROCESS_HOME, True)
os.environ["OMNIVA_HOME"] = _PROCESS_HOME
os.environ.pop("DAGSTER_HOME", None)
# Speech-recognition workers the daemon-path tests start leave a minute after their last job.
os.environ.setdefault("OMNIVA_ASR_WORKER_IDLE_S", "60")
warnings.filterwarnings("ignore")


# pytest-xdist (``make test``, ``make test-fast``: ``-n auto --dist loadfile``): a module's tests
# run in one process, so its module-scoped servers and homes are set up once; the modules that
# start the Dagster daemon, Celery workers or PostgreSQL share one process, one after another, as
# they ran before xdist (their waits on queued runs assume no second such stack beside them).
SERVER_MODULES = frozenset(
    {
        "tests/integration/test_api.py",
        "tests/integration/test_production.py",
        "tests/integration/test_warm_runs.py",
    }
)
# The longest units are dealt first, so that none of them is left to run alone at the end.
LONGEST_FIRST = ("servers", "tests/integration/test_pipeline_e2e.py", "tests/assets/test_scenarios.py")


def _xdist_unit(nodeid: str) -> str:
    module = nodeid.split("::", 1)[0]
    return "servers" if module in SERVER_MODULES else module


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile`` with SERVER_MODULES as one unit, the units dealt in the order the
    workers list their tests (below). (Not xdist's own ``loadgroup``: it renames items through
    ``item._nodeid``, which pytest 9 no longer reads.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _xdist_unit(nodeid)

    config.option.loadscopereorder = False  # the order comes from pytest_collection_modifyitems
    return ModuleScheduling(config, log)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """In an xdist worker: the tests listed unit by unit, LONGEST_FIRST first, then the units with
    most tests (xdist's own order). A run without xdist keeps pytest's order."""
    if not hasattr(config, "workerinput"):  # (a worker's own --dist reads "no")
        return
    from collections import Counter

    sizes = Counter(_xdist_unit(item.nodeid) for item in items)

    def rank(item) -> tuple[int, int, str]:
        unit = _xdist_unit(item.nodeid)
        first = LONGEST_FIRST.index(unit) if unit in LONGEST_FIRST else len(LONGEST_FIRST)
        return first, -sizes[unit], unit

    items.sort(key=rank)  # stable: a unit's tests keep their order


@pytest.fixture(scope="session")
def fixtures() -> Path:
    if not FIXTURES.exists():
        pytest.fail(f"test media not found at {FIXTURES}: the repository's tests/fixtures/media is missing")
    return FIXTURES


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli_ok(env: dict, *args: str) -> str:
    """``omniva ARGS`` in a fresh process with ``env``; it must succeed; its output."""
    out = subprocess.run(
        [sys.executable, "-m", "omniva_app.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout.strip()


def omniva_cli(home: Path, yt_port: int, *args: str) -> subprocess.CompletedProcess:
    """``omniva ARGS`` in a fresh process with its own home and a loopback YouTube emulator port."""
    env = {**os.environ, "OMNIVA_HOME": str(home), "OMNIVA_YOUTUBE_API_ROOT": f"http://127.0.0.1:{yt_port}/"}
    env.pop("DAGSTER_HOME", None)
    return subprocess.run(
        [sys.executable, "-m", "omniva_app.cli", *args], env=env, capture_output=True, text=True, timeout=900
    )


def run_demo(home: Path, site_port: int, yt_port: int, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMNIVA_HOME": str(home), "OMNIVA_YOUTUBE_API_ROOT": f"http://127.0.0.1:{yt_port}/"}
    env.pop("DAGSTER_HOME", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "omniva_app.cli",
            "demo",
            "--port",
            str(site_port),
            "--youtube-port",
            str(yt_port),
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    home = tmp_path_factory.mktemp("omniva-home")
    ports = (free_port(), free_port())
    first = run_demo(home, *ports)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    db = duckdb.connect(str(home / "omniva.duckdb"), read_only=True)
    counts = {
        t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("videos", "clips", "renders", "upload_jobs", "schedules", "posts")
    }
    db.close()
    return {"home": home, "ports": ports, "first": first, "counts": counts}


class ApiServer:
    """``omniva api`` in a subprocess on loopback for a test module, its output in
    ``home/api.log``; ``start`` returns once it answers."""

    def __init__(self, proc: subprocess.Popen, log, base: str):
        self.proc, self.log, self.base = proc, log, base

    @classmethod
    def start(cls, home: Path, env: dict, port: int, timeout: float = 180) -> "ApiServer":
        import httpx

        log = open(home / "api.log", "w")  # noqa: SIM115 - closed by stop()
        proc = subprocess.Popen(
            [sys.executable, "-m", "omniva_app.cli", "api", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[1],
        )
        server = cls(proc, log, f"http://127.0.0.1:{port}")
        deadline = time.time() + timeout
        while True:
            try:
                if httpx.get(f"{server.base}/v1/openapi.json", timeout=2).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.time() < deadline, (home / "api.log").read_text()[-3000:]
            time.sleep(0.5)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture
def app(ui):
    """A dashboard page (``tests/browser.Page``) in the browser of the module's ``ui`` fixture;
    its alerts and page errors are checked when the test ends."""
    from tests.browser import Page

    page = Page(ui)
    yield page
    page.close()
