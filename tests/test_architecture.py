"""The project's own rules, executable: import contracts, no import cycles, module sizes,
lint and strict typing."""

import graphlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["corridor", "stations", "streams", "api"]
MAX_MODULE_LINES = 400
MAX_MODULES_DIRECTLY_IN_CORRIDOR = 8


def _run(*command: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}  # the tree in `cwd` wins over any installed copy
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def _lint_imports(cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return _run(str(Path(sys.executable).with_name("lint-imports")), "--no-cache", cwd=cwd)


def test_core_never_imports_kafka_sql_or_web_code() -> None:
    result = _lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_import_cycle_between_any_modules() -> None:
    """Module to module, across the four packages, no module imports one that imports it back
    (directly or through others); imports inside functions and under TYPE_CHECKING count."""
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    imports = {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}
    assert len(imports) > 50  # the packages were found, not an empty graph
    try:
        graphlib.TopologicalSorter(imports).prepare()
    except graphlib.CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")


def _modules() -> list[str]:
    return sorted(
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
    )


@pytest.mark.parametrize("module", _modules())
def test_no_module_is_over_400_lines(module: str) -> None:
    lines = len((ROOT / module).read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module} has {lines} lines"


def test_corridor_keeps_its_modules_in_subpackages() -> None:
    """At most 8 modules (the package's own `__init__` aside) sit directly in `corridor/`."""
    flat = sorted(
        path.name for path in (ROOT / "corridor").glob("*.py") if path.name != "__init__.py"
    )
    assert flat  # the folder was found
    assert len(flat) <= MAX_MODULES_DIRECTLY_IN_CORRIDOR, flat


def test_ruff_finds_nothing() -> None:
    result = _run(sys.executable, "-m", "ruff", "check", *PACKAGES, "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_formatted() -> None:
    result = _run(
        sys.executable, "-m", "ruff", "format", "--check", *PACKAGES, "tests", "benchmarks"
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_strict_passes() -> None:
    result = _run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr


def _copy_of_the_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_import_contract_bites(tmp_path: Path) -> None:
    """A yard-physics module that imports SQL code breaks the contract (in a copy of the tree)."""
    tree = _copy_of_the_tree(tmp_path)
    assert _lint_imports(tree).returncode == 0  # the copy keeps the contract as the tree does
    (tree / "stations" / "_contract_probe.py").write_text(
        '"""Deliberate violation."""\n\nimport sqlmodel  # noqa: F401\n'
    )
    result = _lint_imports(tree)
    assert result.returncode != 0
    assert "stations._contract_probe -> sqlmodel" in result.stdout
    assert not (ROOT / "stations" / "_contract_probe.py").exists()
