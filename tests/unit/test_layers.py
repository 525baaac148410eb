"""The house rules the import contract (pyproject.toml, `make lint`) cannot see: no module takes
a private name from another module, and nothing reads the environment at import time."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("omniva", "cognitive_sensors", "omniva_resources", "omniva_assets", "omniva_app", "omniva_devkit")


def _modules():
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            yield path, ast.parse(path.read_text(), filename=str(path))


def _is_environ_read(node: ast.AST) -> bool:
    """``os.environ[...]``, ``os.environ.get(...)``, ``os.getenv(...)``."""
    if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
        return isinstance(node.value, ast.Name) and node.value.id == "os"
    if isinstance(node, ast.Call):  # a module-level call of a function that reads it, by its name
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return "from_env" in name or "environ" in name
    return False


def test_no_private_name_is_imported_from_another_module():
    offenders = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module}.{alias.name}")
    assert not offenders, "private names imported across modules:\n" + "\n".join(offenders)


def test_no_module_reads_the_environment_at_import_time():
    """Module-level statements (and class bodies) must not read os.environ: settings are resource
    fields filled at run time, so the launchpad sees them and tests can set them."""
    offenders = []
    for path, tree in _modules():
        pending = [n for n in tree.body if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        while pending:
            node = pending.pop()
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue  # runs when called, not at import
            if isinstance(node, ast.If) and _is_main_guard(node):
                continue
            if _is_environ_read(node):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            pending.extend(ast.iter_child_nodes(node))
    assert not offenders, "environment read at import time:\n" + "\n".join(sorted(offenders))


def _is_main_guard(node: ast.If) -> bool:
    test = node.test
    return isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"


def test_asset_bodies_stay_thin():
    """An asset reads as 'load inputs, call the domain function, return the record': the work
    lives in the layers below, so no asset function grows past about 60 lines."""
    long = []
    for path, tree in _modules():
        if path.relative_to(ROOT).parts[0] != "omniva_assets":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and any(_is_asset_decorator(d) for d in node.decorator_list):
                body_lines = node.end_lineno - node.body[0].lineno + 1
                if body_lines > 60:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({body_lines} lines)")
    assert not long, "asset functions longer than 60 lines:\n" + "\n".join(long)


def _is_asset_decorator(node: ast.expr) -> bool:
    func = node.func if isinstance(node, ast.Call) else node
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in ("asset", "multi_asset", "asset_check", "multi_asset_check")
