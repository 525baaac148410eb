"""The one place a subprocess runs ffmpeg or ffprobe.

Which binaries run is an ``FFmpegTools`` value that every media function takes (default:
``ffmpeg`` and ``ffprobe`` on PATH), so nothing here reads the environment; the
configuration layer fills it from OMNIVA_FFMPEG, OMNIVA_FFPROBE and OMNIVA_DISABLE_NVENC.
"""

from __future__ import annotations

import functools
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from omniva.errors import RenderError

FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"


@dataclass(frozen=True, slots=True)
class FFmpegTools:
    """The binaries to run, and whether the NVENC encoder may be tried."""

    ffmpeg: str = FFMPEG
    ffprobe: str = FFPROBE
    disable_nvenc: bool = False
    threads: int = 0  # encoder threads; 0: ffmpeg's default (renders run side by side set it)


DEFAULT_TOOLS = FFmpegTools()


def run(cmd: Sequence[str], what: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command to completion, text output; RenderError naming ``what`` when the
    binary is missing or (with ``check``) the command fails."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise RenderError(
            f"{cmd[0]} is not installed or not on PATH ({what}). Install ffmpeg "
            "(`apt-get install ffmpeg`, done by `make setup`)."
        ) from exc
    if check and proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise RenderError(f"{what} failed (exit {proc.returncode}): {tail}")
    return proc


def run_binary(cmd: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
    """Run a command whose stdout is raw data (PCM, frames); the caller checks the exit code."""
    return subprocess.run(cmd, capture_output=True, check=False)


def stream_frames(cmd: Sequence[str], frame_bytes: int) -> Iterator[bytes]:
    """Run a command whose stdout is fixed-size frames and yield them one at a time (memory stays
    one frame whatever the file's length); a failed command raises ``RenderError`` with its
    stderr's tail after the last frame."""
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        except FileNotFoundError as exc:
            raise RenderError(f"{cmd[0]} is not installed or not on PATH.") from exc
        assert proc.stdout is not None  # stdout=PIPE
        try:
            while len(frame := proc.stdout.read(frame_bytes)) == frame_bytes:
                yield frame
        finally:
            proc.stdout.close()
            code = proc.wait()
        if code != 0:
            err.seek(0)
            raise RenderError(err.read().decode("utf-8", "replace")[-300:].strip() or f"exit {code}")


def try_run(cmd: Sequence[str], timeout_s: float) -> subprocess.CompletedProcess[str] | None:
    """Run a command that may hang or be missing (a remote URL, an encoder test);
    None when it could not run or ran out of time."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def run_with_input(cmd: Sequence[str], chunks: Iterable[np.ndarray]) -> tuple[int, str]:
    """Stream uint8 arrays to the command's stdin; returns (exit code, stderr)."""
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None  # stdin=PIPE
    try:
        for chunk in chunks:
            proc.stdin.write(np.ascontiguousarray(chunk, dtype=np.uint8).tobytes())
    finally:
        proc.stdin.close()
    err = proc.stderr.read().decode() if proc.stderr else ""
    return proc.wait(), err


def ffmpeg_version(tools: FFmpegTools = DEFAULT_TOOLS) -> str:
    """The first line of ``ffmpeg -version`` (it names the build), for lineage."""
    return _version_of(tools)


def ffmpeg_build(tools: FFmpegTools = DEFAULT_TOOLS) -> str:
    """``ffmpeg_version``, or why there is none: for lineage, which must not fail where
    ffmpeg is missing (the stage that needs ffmpeg reports that)."""
    try:
        return ffmpeg_version(tools)
    except Exception as exc:
        return f"unavailable ({exc})"


@functools.cache  # keyed by the tools alone, however the caller spelled the call
def _version_of(tools: FFmpegTools) -> str:
    out = run([tools.ffmpeg, "-version"], what="ffmpeg -version").stdout
    return out.splitlines()[0] if out else "unknown"
