"""The card's packages (pandas, ffmpeg-python, moviepy) measured against what Omniva does instead.

    .venv/bin/python bench/card_packages.py [--site /tmp/cardvenv/lib/python3.11/site-packages]
                                            [--rows 50000] [--repeat 5] [--json OUT]

``--site`` appends a folder to ``sys.path`` (after the project's own packages, so the
project's numpy wins): ffmpeg-python and moviepy are not Omniva dependencies; install them
into a throwaway venv (``python3.11 -m venv /tmp/cardvenv && /tmp/cardvenv/bin/pip install
ffmpeg-python "moviepy>=2"``) and point ``--site`` at it. A package that cannot be imported
is reported as such and its rows are skipped.

Rows (medians of ``--repeat`` runs):

- pandas: ``Warehouse.query`` (a list of dicts) against ``Warehouse.df`` (DuckDB builds the
  DataFrame) and ``pandas.DataFrame(query(...))``, on ``--rows`` Pantheon votes and on the
  five rows Lattice reads per video; and ``import pandas`` in a fresh interpreter.
- ffmpeg-python: the render's filter graph (two spans joined, then the ``fit`` layout, or the
  ``crop`` layout whose window moves by ``sendcmd`` on a named ``crop@c0``) built by
  ``omniva_resources.media`` (f-strings) and by ffmpeg-python; each command is run by ffmpeg
  for 1 s to check it is accepted, and the time to build it is measured.
- moviepy: a 5 s 1080x1920 crop of ``example.mp4`` and a 5 s 1080x1920 title card, made by
  moviepy 2 and by one ffmpeg command, same encoder settings (libx264 veryfast CRF 23, AAC);
  wall time and peak RSS of the whole process from ``/usr/bin/time -v`` (the largest single
  process in the tree: moviepy's own ffmpeg children are counted only if they are larger).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from omniva.records import stable_id  # noqa: E402
from omniva_resources.media.edit import input_args, relative, seek_window, video_edit  # noqa: E402
from omniva_resources.media.picture import picture_graph, sendcmd_file  # noqa: E402
from omniva_resources.media.render import video_codec_args  # noqa: E402
from omniva_resources.media.spec import CropPath, Reframe, RenderSpec  # noqa: E402
from omniva_resources.warehouse import Warehouse  # noqa: E402

FFMPEG = os.environ.get("OMNIVA_FFMPEG", "ffmpeg")
EXAMPLE = ROOT / "tests" / "fixtures" / "media" / "example.mp4"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
SPANS = [(1.0, 4.0), (6.0, 9.0)]
SPEC = RenderSpec()
ENCODE = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-c:a", "aac"]

rows_out: list[dict] = []


def row(package: str, what: str, value: str, note: str = "") -> None:
    rows_out.append({"package": package, "what": what, "value": value, "note": note})


def importable(name: str, package: str = "") -> bool:
    try:
        __import__(name)
    except ImportError as exc:
        row(package or name, "import", "not installed", str(exc).splitlines()[0])
        return False
    return True


def median_s(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


# ---------------------------------------------------------------------------- pandas
def pandas_rows(n_rows: int, repeat: int, work: Path) -> None:
    if not importable("pandas"):
        return
    import pandas as pd

    wh = Warehouse(work / "wh", work / "db.duckdb")
    agents = ("audience", "editor", "guardian", "horizon", "strategist")
    per_video = 5 * len(agents) * 4  # 20 candidates a video, five agents
    for v in range(max(1, n_rows // per_video)):
        key = f"video-{v}"
        wh.write_partition(
            "pantheon_votes",
            key,
            [
                {
                    "candidate_id": stable_id("cand", key, c),
                    "video_key": key,
                    "agent": a,
                    "score": (c * 7 + i) % 10 / 10,
                    "vote": "yes" if (c + i) % 3 else "no",
                    "confidence": 0.8,
                    "reason": f"{a} on candidate {c}: a plausible sentence of reasoning",
                }
                for c in range(20)
                for i, a in enumerate(agents)
            ],
        )
    n = wh.query("SELECT count(*) AS n FROM pantheon_votes")[0]["n"]
    every = "SELECT * FROM pantheon_votes"
    small = "SELECT * FROM pantheon_votes WHERE video_key = 'video-0' AND agent = 'horizon'"
    for label, sql in ((f"{n} rows", every), ("5 rows", small)):
        rows = median_s(lambda sql=sql: wh.query(sql), repeat)
        frame = median_s(lambda sql=sql: wh.df(sql), repeat)
        both = median_s(lambda sql=sql: pd.DataFrame(wh.query(sql)), repeat)
        row("pandas", f"{label}: Warehouse.query (dicts)", f"{rows * 1000:.1f} ms")
        row(
            "pandas",
            f"{label}: Warehouse.df",
            f"{frame * 1000:.1f} ms",
            f"{rows / frame:.2f}x the dicts' speed",
        )
        row("pandas", f"{label}: DataFrame(query())", f"{both * 1000:.1f} ms")
    cold = [_process_s([sys.executable, "-c", "import pandas"]) for _ in range(repeat)]
    bare = [_process_s([sys.executable, "-c", "pass"]) for _ in range(repeat)]
    row(
        "pandas",
        "import pandas, fresh process",
        f"{(statistics.median(cold) - statistics.median(bare)) * 1000:.0f} ms",
        f"pandas {pd.__version__}; beyond a bare interpreter",
    )


def _process_s(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t


# ---------------------------------------------------------------------------- ffmpeg-python
def crop_reframe() -> Reframe:
    return Reframe("crop", (CropPath(405, 720, 0, ((0.0, 100.0), (2.0, 100.0), (2.033, 700.0))),))


def omniva_command(layout: str, work: Path, out: list[str], codec: bool = True) -> list[str]:
    """The render's picture command as ``render_vertical`` builds it (the source's own audio
    stands in for the normalised WAV)."""
    ss, dur = seek_window(SPANS, 30.0)
    rel = relative(SPANS, ss)
    total = sum(b - a for a, b in SPANS)
    reframe = crop_reframe() if layout == "crop" else Reframe()
    pic, _ = picture_graph(reframe, SPEC, total, None, work)
    graph = video_edit(rel, 0.0) + ";" + pic
    cmd = [FFMPEG, "-nostdin", "-hide_banner", "-y", *input_args(EXAMPLE, ss, dur), "-i", str(EXAMPLE)]
    cmd += ["-filter_complex", graph, "-map", "[vout]", "-map", "1:a"]
    return cmd + (video_codec_args("libx264", SPEC, 4000) if codec else []) + out


def ffmpeg_python_command(layout: str, work: Path, out: str, **out_kw) -> list[str]:
    """The same graph with ffmpeg-python's node API."""
    import ffmpeg

    ss, dur = seek_window(SPANS, 30.0)
    rel = relative(SPANS, ss)
    w, h = SPEC.width, SPEC.height
    src = ffmpeg.input(str(EXAMPLE), ss=f"{ss:.6f}", t=f"{dur:.3f}")
    parts = [src.video.trim(start=f"{a:.6f}", end=f"{b:.6f}").setpts("PTS-STARTPTS") for a, b in rel]
    vc = ffmpeg.concat(*parts, v=1, a=0)
    if layout == "crop":
        path = crop_reframe().paths[0]
        cmdfile = work / "crop0.cmd"  # the crop window's moves, as picture_graph writes them
        sendcmd_file(path, SPEC.fps, sum(b - a for a, b in SPANS), "crop@c0", cmdfile)
        pic = (
            vc.filter("fps", SPEC.fps)
            .filter("sendcmd", f=str(cmdfile))
            .filter("crop@c0", w=path.width, h=path.height, x=100, y=path.y)
            .filter("scale", w, h, flags="bicubic")
            .filter("setsar", 1)
        )
    else:
        split = vc.filter_multi_output("split")
        bg = (
            split[0]
            .filter("scale", w // 4, h // 4, force_original_aspect_ratio="increase")
            .filter("crop", w // 4, h // 4)
            .filter("boxblur", 12, 2)
            .filter("scale", w, h)
        )
        fg = split[1].filter("scale", w, h, force_original_aspect_ratio="decrease")
        pic = ffmpeg.overlay(bg, fg, x="(W-w)/2", y="(H-h)/2").filter("setsar", 1).filter("fps", SPEC.fps)
    vout = pic.filter("format", "yuv420p")
    audio = ffmpeg.input(str(EXAMPLE)).audio
    kw = {"c:v": "libx264", "preset": SPEC.preset, "crf": SPEC.crf, "pix_fmt": "yuv420p", **out_kw}
    return ffmpeg.output(vout, audio, out, **kw).global_args("-nostdin", "-hide_banner").compile(FFMPEG)


def ffmpeg_python_rows(repeat: int, work: Path) -> None:
    if not importable("ffmpeg", "ffmpeg-python") or not hasattr(__import__("ffmpeg"), "filter_multi_output"):
        return
    from importlib.metadata import version

    # 1 s of decoded output, one checksum a frame: the two graphs are the same if these are.
    raw = {"c:v": "rawvideo", "c:a": "pcm_s16le", "t": 1, "f": "framemd5"}
    probe = [arg for k, v in raw.items() for arg in (f"-{k}", str(v))] + ["-"]
    n = 200
    for layout in ("fit", "crop"):
        ours = _frame_md5s(omniva_command(layout, work, probe, codec=False))
        theirs_cmd = ffmpeg_python_command(layout, work, "-", **raw)
        theirs = _frame_md5s(theirs_cmd)
        t_ours = timeit.repeat(
            lambda layout=layout: omniva_command(layout, work, probe), number=n, repeat=repeat
        )
        t_theirs = timeit.repeat(
            lambda layout=layout: ffmpeg_python_command(layout, work, "-", **raw), number=n, repeat=repeat
        )
        graph = theirs_cmd[theirs_cmd.index("-filter_complex") + 1]
        row(
            "ffmpeg-python",
            f"{layout}: Omniva f-strings, build",
            f"{min(t_ours) / n * 1e6:.0f} µs",
            f"ffmpeg ran it: {len(ours)} frames of picture and sound checksummed",
        )
        row(
            "ffmpeg-python",
            f"{layout}: ffmpeg-python, build + compile",
            f"{min(t_theirs) / n * 1e6:.0f} µs",
            f"same frames as Omniva's: {bool(ours) and ours == theirs}; graph {len(graph)} chars",
        )
    row("ffmpeg-python", "version", version("ffmpeg-python"), "last release 2019; depends on `future`")


def _frame_md5s(cmd: list[str]) -> list[str]:
    """ffmpeg's framemd5 lines (stream, pts, size, md5) for ``cmd``; empty when ffmpeg refused it."""
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return (
        [ln for ln in proc.stdout.splitlines() if ln and not ln.startswith("#")]
        if proc.returncode == 0
        else []
    )


# ---------------------------------------------------------------------------- moviepy
MOVIEPY_CROP = """
import sys
sys.path.append({site!r})
from moviepy import VideoFileClip
clip = VideoFileClip({src!r}).subclipped(0, 5)
clip = clip.cropped(x_center=640, y_center=360, width=405, height=720).resized((1080, 1920))
clip.write_videofile({out!r}, fps=30, codec="libx264", preset="veryfast", audio_codec="aac",
                     ffmpeg_params=["-crf", "23", "-pix_fmt", "yuv420p"], logger=None)
"""
MOVIEPY_CARD = """
import sys
sys.path.append({site!r})
from moviepy import ColorClip, CompositeVideoClip, TextClip
bg = ColorClip((1080, 1920), color=(29, 38, 51), duration=5)
text = TextClip(font={font!r}, text="Why the sky is blue", font_size=96, color="white",
                size=(960, None), method="caption", duration=5).with_position("center")
CompositeVideoClip([bg, text]).write_videofile({out!r}, fps=30, codec="libx264",
    preset="veryfast", ffmpeg_params=["-crf", "23", "-pix_fmt", "yuv420p"], logger=None)
"""


def ffmpeg_crop(out: Path) -> list[str]:
    return [FFMPEG, "-nostdin", "-y", "-t", "5", "-i", str(EXAMPLE), "-vf",
            "crop=405:720:437:0,scale=1080:1920,fps=30", *ENCODE, str(out)]  # fmt: skip


def ffmpeg_card(out: Path) -> list[str]:
    text = f"drawtext=fontfile={FONT}:text='Why the sky is blue':fontsize=96:fontcolor=white"
    return [FFMPEG, "-nostdin", "-y", "-f", "lavfi", "-i", "color=c=0x1d2633:s=1080x1920:r=30:d=5",
            "-vf", f"{text}:x=(w-text_w)/2:y=(h-text_h)/2", *ENCODE[:8], str(out)]  # fmt: skip


def moviepy_rows(repeat: int, work: Path, site: str) -> None:
    if not importable("moviepy"):
        return
    from importlib.metadata import version

    env = {**os.environ, "FFMPEG_BINARY": _which(FFMPEG)}  # moviepy encodes with the same ffmpeg
    for what, script, command in (
        ("5 s 1080x1920 crop of example.mp4", MOVIEPY_CROP, ffmpeg_crop),
        ("5 s 1080x1920 title card", MOVIEPY_CARD, ffmpeg_card),
    ):
        out_m, out_f = work / "moviepy.mp4", work / "ffmpeg.mp4"
        code = script.format(site=site, src=str(EXAMPLE), out=str(out_m), font=str(FONT))
        m = [_timed([sys.executable, "-c", code], env) for _ in range(repeat)]
        f = [_timed(command(out_f), env) for _ in range(repeat)]
        for name, runs, out in (("moviepy", m, out_m), ("ffmpeg", f, out_f)):
            wall = statistics.median(r[0] for r in runs)
            rss = statistics.median(r[1] for r in runs)
            row(
                "moviepy",
                f"{what}: {name}",
                f"{wall:.2f} s, {rss:.0f} MiB",
                f"{out.stat().st_size // 1024} KiB out",
            )
    row("moviepy", "version", version("moviepy"), f"ffmpeg for both: {env['FFMPEG_BINARY']}")


def _which(cmd: str) -> str:
    from shutil import which

    return which(cmd) or cmd


def _timed(cmd: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of ``cmd`` from GNU time."""
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {proc.stderr[-800:]}")
    wall = re.search(
        r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", proc.stderr
    )
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert wall and rss, proc.stderr[-800:]
    seconds = int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3))
    return seconds, int(rss.group(1)) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--site", default="", help="a site-packages folder holding ffmpeg-python and moviepy")
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if args.site:
        sys.path.append(args.site)
    with tempfile.TemporaryDirectory(prefix="omniva-card-") as tmp:
        work = Path(tmp)
        pandas_rows(args.rows, args.repeat, work)
        ffmpeg_python_rows(args.repeat, work)
        moviepy_rows(max(1, args.repeat // 2), work, args.site)
    print(f"| package | what | measured | note |\n|---|---|---|---|  ({os.cpu_count()} CPUs)")
    for r in rows_out:
        print(f"| {r['package']} | {r['what']} | {r['value']} | {r['note']} |")
    if args.json:
        args.json.write_text(json.dumps(rows_out, indent=2) + "\n")


if __name__ == "__main__":
    main()
