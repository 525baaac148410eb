"""Start the YouTube emulator on demand for commands that publish (``omniva run``, ``demo``,
``api``) when uploads are configured to go to a loopback address and nothing answers there.
Real YouTube is never emulated."""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlparse

from omniva.settings import Layout
from omniva_devkit.youtube_emulator import DEV_TOKEN, YouTubeEmulator

DEFAULT_API_ROOT = "http://127.0.0.1:8089/"


def loopback_emulator(lay: Layout, api_root: str = DEFAULT_API_ROOT) -> YouTubeEmulator | None:
    """A started emulator under ``lay.home``, or None when ``api_root`` is not loopback or is served."""
    url = urlparse(api_root)
    if not api_root or url.hostname not in ("127.0.0.1", "localhost") or answers(api_root):
        return None
    # Omniva's emulator mode sends the fixed dev token, so this launcher accepts it explicitly
    # (strict otherwise: tokens it issued only; no "any token" lax mode).
    emulator = YouTubeEmulator(lay.home / "youtube-emulator", port=url.port or 80, dev_token=DEV_TOKEN)
    emulator.start()
    return emulator


def answers(api_root: str) -> bool:
    try:
        urllib.request.urlopen(api_root, timeout=1)  # noqa: S310 - loopback
        return True
    except urllib.error.HTTPError:
        return True  # something serves there (the emulator answers 404 on /)
    except OSError:
        return False
