import os
import socket
import warnings
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "media"
if not FIXTURES.exists():  # a checkout elsewhere: allow pointing at the fixtures
    FIXTURES = Path(os.environ.get("OMNIVA_FIXTURES", FIXTURES))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
warnings.filterwarnings("ignore")


@pytest.fixture(scope="session")
def fixtures() -> Path:
    if not FIXTURES.exists():
        pytest.fail(f"test media not found at {FIXTURES}; set OMNIVA_FIXTURES to shared/fixtures/media")
    return FIXTURES


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
