"""README's settings table holds to the code (issue #25, settings without environment hand-offs).

- Every ``OMNIVA_*`` variable the product reads (a grep of its packages, ``deploy/*.yaml`` and
  ``dagster.yaml``) is in README's Configuration tables, and every variable there is read.
- The Pipeline resources table names, for each variable, the resource field that
  ``omniva_resources.resources.ENV_SETTINGS`` fills from it, and setting the variable does fill it.
- No product module reads the environment when it is imported.
- Secrets reach Dagster as ``dg.EnvVar``; a front end's settings reach its runs as resource config.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from omniva_resources import resources as res

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("omniva", "cognitive_sensors", "omniva_resources", "omniva_assets", "omniva_app", "omniva_devkit")
CONFIG_FILES = (*sorted((ROOT / "deploy").glob("*.yaml")), ROOT / "dagster.yaml")
NAME = re.compile(r"\bOMNIVA_[A-Z0-9_]*")
PATTERN = re.compile(r"<[A-Z]+>$")  # OMNIVA_SCRAPE_INTERVAL_<PLATFORM>


def _product_files() -> list[Path]:
    return [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))] + list(CONFIG_FILES)


def _code_names() -> dict[str, str]:
    """Each OMNIVA_* name in the product (name -> first file:line). A name ending in "_" is a
    prefix the code completes (f"OMNIVA_RENDER_{field}", ``OMNIVA_SCRAPE_INTERVAL_<PLATFORM>``).
    ``ENV_SETTINGS`` adds the names it builds."""
    found: dict[str, str] = {}
    for path in _product_files():
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for name in NAME.findall(line):
                found.setdefault(name, f"{path.relative_to(ROOT)}:{n}")
    for s in res.ENV_SETTINGS:
        found.setdefault(s.variable, "omniva_resources/resources.py: ENV_SETTINGS")
    return found


def _configuration_rows() -> list[list[str]]:
    """The cells of every table row in README's "## Configuration" section."""
    text = (ROOT / "README.md").read_text()
    start = text.index("\n## Configuration\n")
    end = text.find("\n## ", start + 1)
    rows = []
    for line in text[start:end].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] not in ("variable",) and not set(cells[0]) <= set("-"):
            rows.append(cells)
    return rows


def _variables(cell: str) -> list[str]:
    """`OMNIVA_RENDER_WIDTH` / `_HEIGHT` -> OMNIVA_RENDER_WIDTH, OMNIVA_RENDER_HEIGHT."""
    out: list[str] = []
    for token in re.findall(r"`([^`]+)`", cell):
        if token.startswith("OMNIVA_"):
            out.append(token)
        elif token.startswith("_") and out:
            out.append("_".join(out[-1].split("_")[:2]) + token)
    return out


def _fields(cell: str) -> list[str]:
    """`render.width` / `height` -> render.width, render.height."""
    out: list[str] = []
    for token in re.findall(r"`([^`]+)`", cell):
        if "." in token:
            out.append(token)
        elif out:
            out.append(out[-1].split(".")[0] + "." + token)
    return out


def _readme_variables() -> list[str]:
    return [v for row in _configuration_rows() for v in _variables(row[0])]


def _readme_resource_fields() -> dict[str, str]:
    """Pipeline resources table: variable -> resource.field ((launchpad only) rows: field -> "")."""
    out: dict[str, str] = {}
    for row in _configuration_rows():
        fields = _fields(row[1]) if len(row) > 1 else []
        if not fields or not all(f.split(".")[0] in res._CLASSES for f in fields):
            continue  # the Deployment table: its second column says who reads the variable
        variables = _variables(row[0])
        if not variables:
            out.update({f: "" for f in fields})
            continue
        assert len(variables) == len(fields), f"README row {row[0]!r}: {variables} vs {fields}"
        out.update(zip(variables, fields, strict=True))
    return out


def test_every_variable_the_code_reads_is_in_the_readme():
    documented = set(_readme_variables())
    patterns = [v[: PATTERN.search(v).start()] for v in documented if PATTERN.search(v)]  # type: ignore[union-attr]
    missing = []
    for name, where in sorted(_code_names().items()):
        if name.endswith("_"):  # a prefix: some documented variable completes it
            ok = any(v.startswith(name) for v in documented)
        else:
            ok = name in documented or any(name.startswith(p) for p in patterns)
        if not ok:
            missing.append(f"{name} (read at {where})")
    assert not missing, "README's Configuration table misses: " + ", ".join(missing)


def test_every_variable_in_the_readme_is_read():
    code = _code_names()
    prefixes = [n for n in code if n.endswith("_")]
    unread = []
    for v in _readme_variables():
        m = PATTERN.search(v)
        if m:
            if v[: m.start()] not in prefixes:
                unread.append(v)
        elif v not in code:
            unread.append(v)
    assert not unread, "README's Configuration table lists variables nothing reads: " + ", ".join(unread)


def test_readme_names_the_field_each_variable_fills():
    readme = _readme_resource_fields()
    code = {s.variable: f"{s.resource}.{s.field}" for s in res.ENV_SETTINGS}
    code[res.PLATFORM_INTERVAL_PREFIX + "<PLATFORM>"] = "scrape.platform_interval_s"
    wrong = [
        f"{v}: README says {readme.get(v) or 'nothing'}, the code fills {f}"
        for v, f in code.items()
        if readme.get(v) != f
    ]
    wrong += [
        f"{v}: README says {f}, the code reads no such variable"
        for v, f in readme.items()
        if v.startswith("OMNIVA_") and v not in code
    ]
    assert not wrong, "README's Pipeline resources table: " + "; ".join(wrong)
    for field in readme.keys() | set(readme.values()):  # launchpad-only fields exist too
        if "." in field:
            key, name = field.split(".")
            assert name in res._CLASSES[key].model_fields, f"README names {field}: no such field"


_SAMPLES = {int: "7", float: "7.5", res._flag: "1", res._not_off: "0", res._any_value: "1"}


@pytest.mark.parametrize("setting", res.ENV_SETTINGS, ids=lambda s: s.variable)
def test_each_variable_fills_its_field(setting):
    raw = _SAMPLES.get(setting.parse, "sample-value")
    default = res.resources_from_env({})
    if getattr(default[setting.resource], setting.field) is True:  # type: ignore[literal-required]
        raw = "0"  # a switch that is on by default: turn it off
    if setting.variable == "OMNIVA_HORIZON_FILE":
        raw = str(ROOT / "config" / "horizon.yaml")  # read while the resources are built
    built = res.resources_from_env({setting.variable: raw})
    assert getattr(built[setting.resource], setting.field) == setting.parse(raw)  # type: ignore[literal-required]
    assert getattr(default[setting.resource], setting.field) != setting.parse(raw)  # type: ignore[literal-required]


def test_overrides_beat_the_environment_and_unknown_names_are_refused():
    built = res.resources_from_env(
        {"OMNIVA_MAX_CLIPS_PER_VIDEO": "5"}, {"clip_rules": {"max_clips_per_video": 2}}
    )
    assert built["clip_rules"].max_clips_per_video == 2
    with pytest.raises(res.ConfigError, match="no field max_clips"):
        res.resources_from_env({}, {"clip_rules": {"max_clips": 2}})
    with pytest.raises(res.ConfigError, match="no resource named clips"):
        res.resources_from_env({}, {"clips": {}})


def test_secrets_reach_dagster_as_env_vars(monkeypatch):
    """The proxy (it may carry a user and password) is a dg.EnvVar: the launchpad and the run's
    config show its name; the run and callers outside Dagster still get the value."""
    monkeypatch.setenv("OMNIVA_PROXY", "http://user:pw@proxy.example:3128")
    secrets = [s for s in res.ENV_SETTINGS if s.secret]
    assert [s.variable for s in secrets] == ["OMNIVA_PROXY"]
    scrape = res.resources_from_env()["scrape"]
    assert isinstance(scrape.proxy, dg.EnvVar)
    config = res.resources_run_config({"scrape": scrape}, ["scrape"])
    assert config["resources"]["scrape"]["config"]["proxy"] == {"env": "OMNIVA_PROXY"}
    assert "pw@" not in json.dumps(config)
    assert res.source_settings_from_env().proxy == "http://user:pw@proxy.example:3128"

    @dg.asset
    def probe(scrape: res.ScrapeSettings, clip_rules: res.ClipRules) -> tuple:
        return scrape.source_settings().proxy, clip_rules.max_clips_per_video, clip_rules.quorum

    overrides = {"clip_rules": {"max_clips_per_video": 1}, "scrape": {"max_retries": 4}}
    built = res.resources_from_env(overrides={"clip_rules": {"quorum": 0.7}})
    run_config = res.resources_run_config(res.resources_from_env(overrides=overrides), overrides)
    result = dg.materialize([probe], resources=dict(built), run_config=run_config)
    # The run config's resources win, every field of them (quorum back to the code's 0.5 here,
    # since the run config carries it too), the proxy still read from the environment.
    assert result.output_for_node("probe") == ("http://user:pw@proxy.example:3128", 1, 0.5)


def _import_time_env_reads(tree: ast.AST) -> list[int]:
    """Lines outside any function body (module and class level, decorators, argument defaults)
    that touch ``os.environ`` / ``os.getenv``."""
    lines: list[int] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for d in [*node.decorator_list, *node.args.defaults, *[k for k in node.args.kw_defaults if k]]:
                visit(d)
            return
        if isinstance(node, ast.Lambda):
            return
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr in ("environ", "environb", "getenv", "putenv", "unsetenv")
        ):
            lines.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return lines


def test_no_product_module_reads_the_environment_at_import():
    found = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            text = path.read_text()
            assert "from os import environ" not in text and "from os import getenv" not in text, path
            found += [f"{path.relative_to(ROOT)}:{n}" for n in _import_time_env_reads(ast.parse(text))]
    assert not found, "the environment is read at import time: " + ", ".join(found)


IMPORT_PROBE = """
import importlib, json, os, pkgutil, traceback
seen = []
cls = type(os.environ)
get = cls.__getitem__
def spy(self, key):
    if isinstance(key, str) and key.startswith("OMNIVA_"):
        seen.append(key + " " + traceback.format_stack(limit=4)[0].strip().splitlines()[0])
    return get(self, key)
cls.__getitem__ = spy
for pkg in json.loads(os.sys.argv[1]):
    module = importlib.import_module(pkg)
    for info in pkgutil.walk_packages(module.__path__, pkg + "."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
imported = list(seen)
os.environ.get("OMNIVA_PROBE_SELF_CHECK")
print(json.dumps({"imported": imported, "self_check": len(seen) == len(imported) + 1}))
"""


def test_importing_every_product_module_reads_no_setting():
    """The same, at run time: importing every module (indirect reads included, e.g. a module
    constant computed by a function that reads the environment) reads no OMNIVA_* variable."""
    # No OMNIVA_* set: a library that copies the whole environment at import (wsgiref does)
    # then reads none; a module that asks for one is still seen (the lookup is what counts).
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIVA_")}
    proc = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, json.dumps(PACKAGES)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got == {"imported": [], "self_check": True}


def test_the_cli_hands_no_setting_over_through_the_environment():
    """omniva_app/cli.py and sources_cli.py set no environment variable (settings go to the
    resources as configuration), except the third-party libraries' quiet switches."""
    allowed = {"HF_HUB_OFFLINE", "TQDM_DISABLE"}
    for path in (ROOT / "omniva_app" / "cli.py", ROOT / "omniva_app" / "sources_cli.py"):
        text = path.read_text()
        assert "putenv" not in text and "os.environ.update" not in text, path
        for name in re.findall(r"os\.environ(?:\[|\.setdefault\(|\.pop\()\s*['\"]([A-Z_]+)", text):
            assert name in allowed, f"{path.name} sets {name} in the environment"


def test_the_demo_and_the_resource_agree_on_the_emulator():
    """`omniva demo` and `omniva youtube-emulator` without --port use the emulator address
    the youtube_api resource defaults to."""
    from omniva_devkit.loopback import DEFAULT_API_ROOT

    assert res.YouTubeResource.model_fields["api_root"].default == DEFAULT_API_ROOT


@dg.asset
def settings_probe(clip_rules: res.ClipRules, scrape: res.ScrapeSettings) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={"max_clips": clip_rules.max_clips_per_video, "proxy": scrape.source_settings().proxy or ""}
    )


def settings_probe_job() -> dg.JobDefinition:
    """Built again in the step's own process, from that process's environment."""
    defs = dg.Definitions(
        assets=[settings_probe],
        jobs=[dg.define_asset_job("settings_probe_job", selection=[settings_probe])],
        resources=dict(res.resources_from_env()),
        executor=dg.multiprocess_executor,
    )
    return defs.resolve_job_def("settings_probe_job")


def test_a_front_ends_settings_reach_a_run_in_another_process(monkeypatch, tmp_path):
    """The step runs in a child process that builds the resources from its own environment:
    the front end's override arrives through the run config, the secret by its variable's name."""
    monkeypatch.setenv("OMNIVA_PROXY", "http://user:pw@proxy.example:3128")
    monkeypatch.delenv("OMNIVA_MAX_CLIPS_PER_VIDEO", raising=False)
    overrides = {"clip_rules": {"max_clips_per_video": 1}, "scrape": {"max_entries": 9}}
    run_config = res.resources_run_config(res.resources_from_env(overrides=overrides), overrides)
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        result = dg.execute_job(dg.reconstructable(settings_probe_job), instance, run_config=run_config)
        assert result.success
        (event,) = result.get_asset_materialization_events()
        metadata = event.step_materialization_data.materialization.metadata
        assert metadata["max_clips"].value == 1
        assert metadata["proxy"].value == "http://user:pw@proxy.example:3128"
        stored = instance.get_run_by_id(result.run_id)
        assert stored is not None and "pw@" not in json.dumps(stored.run_config)
