"""The project's own rules, executable: import contracts, lint and strict typing."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["corridor", "stations", "streams", "api"]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def test_core_never_imports_kafka_sql_or_web_code() -> None:
    result = _run(str(Path(sys.executable).with_name("lint-imports")), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


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


def test_the_import_contract_bites() -> None:
    """A yard-physics module that imports SQL code must break the contract."""
    probe = ROOT / "stations" / "_contract_probe.py"
    probe.write_text(
        '"""Deliberate violation, removed by the test."""\n\nimport sqlmodel  # noqa: F401\n'
    )
    try:
        result = _run(str(Path(sys.executable).with_name("lint-imports")), "--no-cache")
    finally:
        probe.unlink()
    assert result.returncode != 0
    assert "stations._contract_probe -> sqlmodel" in result.stdout
