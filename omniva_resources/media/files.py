"""Atomic writes: every output goes to a temporary name in the same folder and is renamed
into place only when complete, so a crash never leaves a half-written file where a
finished one is expected."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def partial_path(out_path: Path) -> Path:
    """Where ffmpeg writes ``out_path`` until it succeeded (hidden, same extension so
    ffmpeg picks the same container)."""
    return out_path.with_name(f".{out_path.stem}.partial{out_path.suffix}")


def copy_atomic(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.partial")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)
    return dst


def write_text_atomic(path: Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
