"""The command line starts without its heavy dependencies (issue #20, cold start).

`omniva --help`, `omniva transcribe --help` and importing ``omniva_app.cli`` must not import
Dagster, torch, whisperx, DuckDB, FastAPI or the Google API client: each command imports what it
uses when it runs. Timings are measured by ``bench/cold_start.py``, not asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from omniva_app import cli

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("dagster", "torch", "whisperx", "duckdb", "fastapi", "googleapiclient")
# The omniva packages' modules that pull those in (or are slow by themselves).
HEAVY_OWN = (
    "omniva_app.driver",
    "omniva_app.launch",
    "omniva_app.summary",
    "omniva_assets",
    "omniva_devkit",
    "omniva_resources.warehouse",
    "omniva_resources.lineage",
    "omniva_resources.insights",
    "omniva_resources.youtube",
    "omniva_resources.resources",
    "omniva_resources.sources",
    "omniva_resources.asr",
)

PROBE = """
import json, sys
heavy, own, argv = json.loads(sys.argv[1])
if argv:
    from omniva_app.cli import main
    try:
        main(argv)
    except SystemExit:
        pass
else:
    import omniva_app.cli
loaded = sorted(sys.modules)
print(json.dumps({
    "heavy": [m for m in loaded if m.split(".")[0] in heavy],
    "own": [m for m in loaded if any(m == o or m.startswith(o + ".") for o in own)],
}))
"""


def _modules_after(argv: list[str]) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps([HEAVY, HEAVY_OWN, argv])],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_importing_the_cli_imports_nothing_heavy():
    """The brief's own probe, verbatim: a fresh interpreter, `import omniva_app.cli`."""
    code = (
        "import omniva_app.cli, sys; print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'dagster','torch','whisperx','duckdb','fastapi','googleapiclient'}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]"
    assert _modules_after([]) == {"heavy": [], "own": []}


@pytest.mark.parametrize("argv", [["--help"], ["transcribe", "--help"], ["creators", "add", "--help"]])
def test_help_imports_nothing_heavy(argv):
    assert _modules_after(argv) == {"heavy": [], "own": []}


def test_probe_sees_a_heavy_command():
    """The probe can fail: a command that needs the driver does import Dagster."""
    got = _modules_after(["warehouse", "--no-such-option"])  # argparse exits before running
    assert got == {"heavy": [], "own": []}
    code = "import omniva_app.driver, sys; print('dagster' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.stdout.strip() == "True", proc.stderr[-2000:]


def _omniva(*args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("omniva")
    cmd = [str(exe), *args] if exe.exists() else [sys.executable, "-m", "omniva_app.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_omniva_help_lists_every_command():
    proc = _omniva("--help")
    assert proc.returncode == 0, proc.stderr
    for command in (
        "transcribe",
        "creators",
        "sources",
        "projects",
        "run",
        "demo",
        "explain",
        "lineage",
        "quarantine",
        "warehouse",
        "youtube-emulator",
        "youtube",
        "api",
    ):
        assert command in proc.stdout
    assert "Open clip farm on Dagster." in proc.stdout


def test_omniva_transcribe_help_lists_its_options():
    proc = _omniva("transcribe", "--help")
    assert proc.returncode == 0, proc.stderr
    for option in (
        "file",
        "--json",
        "--model",
        "--device",
        "--compute-type",
        "--batch-size",
        "--word-timing",
        "--language",
        "--multilingual-model",
    ):
        assert option in proc.stdout
    assert "whisperx-align" in proc.stdout


def test_unknown_command_still_exits_2():
    proc = _omniva("no-such-command")
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr


def test_transcribe_defaults_are_the_asr_resources(monkeypatch):
    """The CLI keeps no defaults: transcribe's options left out take the asr_model resource's
    settings, its defaults with no OMNIVA_ASR_* set (without importing Dagster: the probes
    above), the environment's through ``resources_from_env`` otherwise."""
    from omniva_resources.asr import AsrSettings
    from omniva_resources.resources import AsrResource, resources_from_env

    for name in [n for n in os.environ if n.startswith("OMNIVA_ASR_")]:
        monkeypatch.delenv(name)
    assert cli._asr_settings() == AsrSettings() == AsrResource().settings()
    env = {"OMNIVA_ASR_MODEL": "bundled:base", "OMNIVA_ASR_BATCH_SIZE": "2", "OMNIVA_ASR_LANGUAGE": "es"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli._asr_settings() == resources_from_env(env)["asr_model"].settings()
    assert (cli._asr_settings().model, cli._asr_settings().batch_size) == ("bundled:base", 2)


def test_the_parser_takes_no_defaults_from_the_environment(monkeypatch):
    monkeypatch.setenv("OMNIVA_ASR_MODEL", "bundled:base")
    monkeypatch.setenv("OMNIVA_CHANNEL", "chan-x")
    monkeypatch.setenv("OMNIVA_SAMPLE_PORT", "9999")
    parser = cli.build_parser()
    t = parser.parse_args(["transcribe", "f.wav"])
    assert (t.model, t.device, t.compute_type, t.batch_size, t.word_timing) == (None,) * 5
    assert parser.parse_args(["youtube", "auth", "--client-secrets", "c.json"]).channel is None
    d = parser.parse_args(["demo"])
    assert (d.port, d.youtube_port, d.max_clips_per_video) == (None, None, 2)


def test_run_config_reaches_every_run_the_launcher_starts(tmp_path, monkeypatch):
    """``omniva demo`` hands its settings to its runs as run config (resource config), merged
    with the runner's own (its loggers), so they reach a run in any process."""
    import dagster as dg

    from omniva_app.driver import Runner
    from omniva_app.launch import QUIET, Launcher
    from omniva_assets.definitions import defs
    from omniva_assets.policy import Launch
    from omniva_resources.resources import resources_from_env, resources_run_config

    monkeypatch.setenv("OMNIVA_HOME", str(tmp_path))
    seen = []

    class Recorder(Launcher):
        def submit(self, job_name, tags=None, partition_key=None, *, run_config=None, **kwargs):
            seen.append(run_config)
            return "run-1"

    overrides = {"clip_rules": {"max_clips_per_video": 2}, "youtube_api": {"api_root": "http://127.0.0.1:1/"}}
    extra = resources_run_config(resources_from_env({}, overrides), overrides)
    with dg.instance_for_test() as instance:
        runner = Runner(defs, instance, launcher=Recorder(instance), run_config=extra)
        assert runner._submit("clip_job", Launch("1|v", "new", {})) == "run-1"
    (config,) = seen
    assert config["loggers"] == QUIET["loggers"]
    assert config["resources"]["clip_rules"]["config"]["max_clips_per_video"] == 2
    assert config["resources"]["youtube_api"]["config"]["api_root"] == "http://127.0.0.1:1/"
    # every field, not only the overridden ones: Dagster falls back to class defaults otherwise
    assert config["resources"]["clip_rules"]["config"]["quorum"] == 0.5


def test_spacy_loads_without_torch_and_leaves_torch_importable():
    """thinc imports torch when it is installed; Omniva's CNN pipeline never uses it, so spaCy is
    imported without it (1 s of every analysing run), and torch still imports afterwards."""
    code = (
        "import sys, json\n"
        "from omniva_resources import nlp\n"
        "doc = nlp.load_pipeline()('Walter Lewin taught physics at MIT.')\n"
        "before = 'torch' in sys.modules\n"
        "import torch\n"
        "print(json.dumps({'torch_before': before, 'torch_after': 'torch' in sys.modules,\n"
        "    'ents': [e.label_ for e in doc.ents]}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen == {"torch_before": False, "torch_after": True, "ents": ["PERSON", "ORG"]}
