"""GPU probe: what a CUDA machine offers Omniva's render and ASR steps, measured.

Run on a machine with an NVIDIA GPU (a lent device here; CI has none):

    python3 bench/gpu_probe.py [--frames 150] [--json out.json]

- the GPU, driver and the encoder/decoder session counters (``nvidia-smi``);
- H.264 encoding of 1080x1920 frames through libavcodec (PyAV): ``h264_nvenc`` (NVENC,
  the encoder Omniva's ``media.h264_encoder()`` picks when a one-frame test encode works)
  and ``libx264`` at Omniva's preset on every core, frames per second each, or the error;
- H.264 decoding through NVDEC (``h264_cuvid``) against the software decoder;
- whether the CUDA libraries that faster-whisper/whisperx's CTranslate2 backend links
  (``libcublas.so.12``, cuDNN 9) can be loaded, and which CUDA runtime torch has.

Prints a Markdown table and writes JSON. Only PyAV and numpy are needed.
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import json
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PRESET = {"libx264": {"preset": "veryfast", "crf": "23", "profile": "high"}, "h264_nvenc": {"preset": "p4"}}


def _smi() -> str:
    try:
        return subprocess.run(
            [
                "nvidia-smi",
                "--query-gpu=name,driver_version,memory.total,encoder.stats.sessionCount",
                "--format=csv,noheader",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return f"nvidia-smi failed: {exc}"


def _frames(n: int, w: int = 1080, h: int = 1920):
    import av

    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (h // 16, w // 16, 3), dtype=np.uint8).repeat(16, 0).repeat(16, 1)
    out = []
    for k in range(n):
        img = np.roll(base, k * 7, axis=1)
        out.append(av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p"))
    return out


def encode(codec: str, frames, path: Path) -> dict:
    import av

    try:
        container = av.open(str(path), "w")
        stream = container.add_stream(codec, rate=30)
        stream.width, stream.height, stream.pix_fmt = frames[0].width, frames[0].height, "yuv420p"
        stream.options = PRESET.get(codec, {})
        started = time.perf_counter()
        for f in frames:
            for p in stream.encode(f):
                container.mux(p)
        for p in stream.encode(None):
            container.mux(p)
        container.close()
        wall = time.perf_counter() - started
        return {
            "ok": True,
            "fps": round(len(frames) / wall, 1),
            "realtime_x": round(len(frames) / 30 / wall, 2),
        }
    except Exception as exc:  # report any encoder failure as the result
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def decode(codec: str | None, src: Path) -> dict:
    import av

    try:
        container = av.open(str(src))
        stream = container.streams.video[0]
        ctx = av.CodecContext.create(codec, "r") if codec else stream.codec_context
        if codec:
            ctx.extradata = stream.codec_context.extradata
        n, started = 0, time.perf_counter()
        for packet in container.demux(stream):
            for _ in ctx.decode(packet):
                n += 1
        wall = time.perf_counter() - started
        return {"ok": n > 0, "frames": n, "fps": round(n / wall, 1)}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def cuda_libraries() -> dict:
    out = {}
    try:
        found = subprocess.run(
            ["find", "/usr", "/opt", "/lib", "-xdev", "-name", "libcublas.so*"],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        found = []
    dirs = sorted({str(Path(p).parent) for p in found})
    out["libcublas_found"] = sorted({Path(p).name for d in dirs for p in glob.glob(f"{d}/libcublas.so*")})
    for lib in ("libcublas.so.12", "libcudnn.so.9", "libcublas.so.13"):
        try:
            ctypes.CDLL(lib)
            out[lib] = "loads"
        except OSError:
            found = [f"{d}/{lib}" for d in dirs if os.path.exists(f"{d}/{lib}")]
            try:
                if found:
                    ctypes.CDLL(found[0])
                    out[lib] = f"loads from {found[0]}"
                else:
                    out[lib] = "absent"
            except OSError as exc:
                out[lib] = f"present, fails to load: {exc}"
    try:
        import torch

        out["torch"] = (
            f"{torch.__version__}, CUDA {torch.version.cuda}, device: {torch.cuda.get_device_name(0)}"
        )
    except Exception as exc:
        out["torch"] = f"unavailable: {exc}"
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--json", default="gpu_probe.json")
    ap.add_argument("--work", default="/tmp/omniva-gpu-probe")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    import av

    result = {
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs",
        "gpu": _smi(),
        "pyav": av.__version__,
        "codecs": sorted(c for c in av.codecs_available if "nvenc" in c or "cuvid" in c or c == "libx264"),
    }
    frames = _frames(args.frames)
    result["encode"] = {c: encode(c, frames, work / f"{c}.mp4") for c in ("h264_nvenc", "libx264")}
    sample = REPO / "sample" / "media" / "example.mp4"
    result["decode"] = {
        "h264_cuvid (NVDEC)": decode("h264_cuvid", sample),
        "h264 (CPU)": decode(None, sample),
    }
    result["cuda_libraries"] = cuda_libraries()
    Path(args.json).write_text(json.dumps(result, indent=2))
    print(f"GPU probe on {result['machine']}: {result['gpu']}; PyAV {result['pyav']}\n")
    print("| step | codec | result |\n|---|---|---|")
    for kind in ("encode", "decode"):
        for codec, r in result[kind].items():
            detail = f"{r['fps']} frames/s" if r.get("ok") else r.get("error", "no frames")
            if r.get("realtime_x"):
                detail += f" ({r['realtime_x']}x real time at 30 fps, 1080x1920)"
            print(f"| {kind} | {codec} | {detail} |")
    for k, v in result["cuda_libraries"].items():
        print(f"| ASR backend | {k} | {v} |")


if __name__ == "__main__":
    main()
