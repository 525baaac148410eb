"""The long-lived speech-recognition worker: the models load once for every step that asks."""

import subprocess
import time
from multiprocessing.connection import Client
from pathlib import Path

import pytest

from omniva.errors import NoSpeechError
from omniva_resources import asr, asr_worker
from omniva_resources.resources import AsrResource

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "media"


@pytest.fixture
def home(tmp_path):
    yield tmp_path
    asr_worker.stop(tmp_path)


def test_the_worker_loads_the_models_once_for_many_requests(home, tmp_path):
    settings = asr.AsrSettings()
    first = asr_worker.transcribe(home, FIXTURES / "jfk.flac", settings, idle_s=60)
    again = asr_worker.transcribe(home, FIXTURES / "jfk.flac", settings, idle_s=60)
    assert "ask not what your country" in first.transcript.text.lower()
    assert again.transcript == first.transcript
    assert again.pid == first.pid and again.served == first.served + 1
    assert again.loads == first.loads <= 2  # the language detector and tiny.en, once
    # A typed error comes back as the same error, naming the file.
    silent = tmp_path / "silence.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "3", str(silent)],
        check=True,
    )
    with pytest.raises(NoSpeechError, match="silence.wav"):
        asr_worker.transcribe(home, silent, settings, idle_s=60)
    # Only a client with the home's key is heard; the worker keeps serving the others.
    with pytest.raises(Exception):  # noqa: B017 - multiprocessing.AuthenticationError
        Client(str(asr_worker.socket_path(home)), family="AF_UNIX", authkey=b"not the key").send("x")
    assert asr_worker.transcribe(home, FIXTURES / "jfk.flac", settings, idle_s=60).pid == first.pid
    assert oct(asr_worker.run_dir(home).stat().st_mode & 0o777) == "0o700"
    assert oct(asr_worker.socket_path(home).stat().st_mode & 0o777) == "0o600"


def test_an_idle_worker_exits(home):
    asr_worker.connect(home, idle_s=1.0).close()
    assert asr_worker.socket_path(home).exists()
    deadline = time.monotonic() + 15
    while asr_worker.socket_path(home).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not asr_worker.socket_path(home).exists()


def test_runs_the_daemon_launches_use_the_worker_unless_switched_off():
    assert AsrResource().use_worker(launched_by_daemon=True)
    assert not AsrResource().use_worker(launched_by_daemon=False)
    assert AsrResource(worker="on").use_worker(launched_by_daemon=False)
    assert not AsrResource(worker="off").use_worker(launched_by_daemon=True)
    with pytest.raises(Exception, match="OMNIVA_ASR_WORKER"):
        AsrResource(worker="sometimes").use_worker(launched_by_daemon=True)


def test_a_long_home_gets_its_socket_in_a_private_temp_folder(tmp_path):
    home = tmp_path / ("h" * 120)
    path = asr_worker.socket_path(home)
    assert len(str(path)) < 100 and path.parent.stat().st_mode & 0o077 == 0
    assert path == asr_worker.socket_path(home)  # the same home, the same socket
    try:
        asr_worker.connect(home, idle_s=2.0).close()
        assert path.exists()
    finally:
        asr_worker.stop(home)
