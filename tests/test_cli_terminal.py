"""What a terminal shows: `corridor --version`, and progress bars only where someone watches.

The bars are tested on a real pseudo-terminal (with a size, as a terminal window has), and the
same commands with stderr on a pipe must print nothing there at all.
"""

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAUNCH = "import sys; from corridor.cli import main; sys.exit(main())"
PHASES = ("generating", "simulating", "replaying", "writing")


def corridor(argv: list[str]) -> list[str]:
    return [sys.executable, "-c", LAUNCH, *argv]


def environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CORRIDOR_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def run_on_a_terminal(argv: list[str], cwd: Path) -> tuple[int, str]:
    """`corridor ARGV` with stderr on a 100-column pseudo-terminal: (exit code, what it showed)."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    with (cwd / "stdout.txt").open("wb") as stdout:
        process = subprocess.Popen(
            corridor(argv), cwd=cwd, env=environment(), stdin=subprocess.DEVNULL,
            stdout=stdout, stderr=terminal,
        )  # fmt: skip
        os.close(terminal)
        shown = bytearray()
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        code = process.wait(timeout=120)
    os.close(controller)
    return code, shown.decode("utf-8", errors="replace")


def test_version_names_the_package_and_its_version(tmp_path: Path) -> None:
    done = subprocess.run(
        corridor(["--version"]), cwd=tmp_path, env=environment(), capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 0
    assert done.stdout.startswith(f"corridor-twin {metadata.version('corridor-twin')} (Python 3.")
    assert done.stderr == ""


def test_simulate_shows_each_phase_on_a_terminal(tmp_path: Path) -> None:
    code, shown = run_on_a_terminal(["simulate", "--days", "1", "--out", "out"], tmp_path)

    assert code == 0, shown
    for phase in ("simulating", "writing"):  # generated and replayed together, a day at a time
        assert f"{phase}:" in shown
    assert "/1 [" in shown  # the simulation bar counts days: n/1
    assert (tmp_path / "out" / "kpis.json").exists()


def test_replay_of_a_generated_log_shows_its_phases_on_a_terminal(tmp_path: Path) -> None:
    code, shown = run_on_a_terminal(["generate", "--days", "1", "--out", "day.jsonl"], tmp_path)
    assert code == 0, shown
    assert "generating:" in shown

    code, shown = run_on_a_terminal(["replay", "day.jsonl", "--out", "out"], tmp_path)

    assert code == 0, shown
    assert "replaying:" in shown
    assert "writing:" in shown


def test_replications_show_their_bar_on_a_terminal(tmp_path: Path) -> None:
    argv = ["simulate", "--days", "1", "--replications", "2", "--out", "out"]

    code, shown = run_on_a_terminal(argv, tmp_path)

    assert code == 0, shown
    assert "replications:" in shown
    assert "/2 [" in shown  # counted in runs: n/2
    assert (tmp_path / "out" / "replications.parquet").exists()


def test_quiet_shows_no_bar_even_on_a_terminal(tmp_path: Path) -> None:
    code, shown = run_on_a_terminal(["simulate", "--days", "1", "--quiet", "--out", "o"], tmp_path)

    assert code == 0, shown
    assert not any(phase in shown for phase in PHASES)


@pytest.mark.parametrize("argv", [["simulate"], ["generate", "--out", "day.jsonl"]])
def test_no_bar_when_stderr_is_not_a_terminal(argv: list[str], tmp_path: Path) -> None:
    done = subprocess.run(
        corridor([*argv, "--days", "1"]), cwd=tmp_path, env=environment(),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "wrote" in done.stdout
