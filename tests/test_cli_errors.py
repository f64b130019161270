"""Bad command lines, as a planner types them: one line naming the thing and the fix, exit 2.

Each command line runs as its own `corridor` process (what the person at the terminal sees is
the whole of stderr and the exit code), in a folder holding the bad files it names. The
processes run a few at a time: the three broker cases wait for librdkafka's metadata timeout
(about 10 s) on a port nothing listens on, so they start first, each beside the two that use
the CPU (about 0.6 s each, most of it the imports), rather than last, keeping their slots idle
while nothing else runs.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from corridor.cli import main

ROOT = Path(__file__).resolve().parents[1]
LAUNCH = "import sys; from corridor.cli import main; sys.exit(main())"
DEAD_BROKER = ["--bootstrap-servers", "127.0.0.1:1"]  # nothing listens on port 1
DEAD_DATABASE = "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/twin"
UNWRITABLE = "/proc/corridor-out"  # procfs takes no new directory, even from root

# command line -> what its one line must say (the thing named, and the fix)
BAD_COMMAND_LINES: dict[str, tuple[list[str], str]] = {
    "replay of a missing log": (
        ["replay", "missing.jsonl"],
        "corridor replay: missing.jsonl: no such file; check the path",
    ),
    "replay of an empty file": (
        ["replay", "empty.jsonl"],
        "corridor replay: empty.jsonl: the file is empty; give a log with events",
    ),
    "replay of a CSV": (
        ["replay", "table.csv"],
        "corridor replay: table.csv: unknown log format; give a .jsonl, .jsonl.gz or .parquet",
    ),
    "replay of a directory": (
        ["replay", "folder"],
        "corridor replay: folder: is a directory; give the log file inside it",
    ),
    "replay of a log without one event": (
        ["replay", "junk.jsonl"],
        "junk.jsonl: the log has no valid event (2 rejected lines); check that it is an event log",
    ),
    "replay of a Parquet file that is not one": (
        ["replay", "junk.parquet"],
        "corridor replay: junk.parquet: the log cannot be read: not a Parquet file; check that it "
        "is an event log",
    ),
    "replay of a .gz that is not gzip": (
        ["replay", "junk.jsonl.gz"],
        "corridor replay: junk.jsonl.gz: the log cannot be read: not a gzip file; check that it is "
        "an event log",
    ),
    "replay of a DCSA file that is not JSON": (
        ["replay", "junk.json"],
        "corridor replay: junk.json: the log cannot be read: not JSON",
    ),
    "replay into a file": (
        ["replay", "day.jsonl", "--out", "afile.txt"],
        "corridor replay: afile.txt: is a file, not a directory; choose another --out",
    ),
    "replay into an unwritable place": (
        ["replay", "day.jsonl", "--out", UNWRITABLE],
        f"corridor replay: {UNWRITABLE}: cannot create the directory",
    ),
    "replay with a negative seed": (
        ["replay", "day.jsonl", "--seed", "-1"],
        "corridor replay: --seed must be non-negative, got -1",
    ),
    "replay until a word": (
        ["replay", "day.jsonl", "--until", "tomorrow"],
        "corridor replay: argument --until: not an RFC 3339 date-time: 'tomorrow' "
        "(see corridor replay --help)",
    ),
    "generate to a CSV": (
        ["generate", "--out", "table.csv"],
        "corridor generate: table.csv: unknown log format to write; give --out a .jsonl",
    ),
    "generate into a folder that is a file": (
        ["generate", "--out", "afile.txt/day.jsonl"],
        "corridor generate: afile.txt: is a file, not a directory; choose another --out",
    ),
    "generate 100000 days": (
        ["generate", "--days", "100000", "--out", "long.jsonl"],
        "corridor generate: --days must be from 1 to 366 (one year), got 100000",
    ),
    "simulate 0 days": (
        ["simulate", "--days", "0"],
        "corridor simulate: --days must be from 1 to 366 (one year), got 0",
    ),
    "simulate 'many' days": (
        ["simulate", "--days", "many"],
        "corridor simulate: argument --days: invalid int value: 'many' "
        "(see corridor simulate --help)",
    ),
    "simulate a missing scenario": (
        ["simulate", "--scenario", "missing.toml"],
        "corridor simulate: missing.toml: cannot read scenario: No such file or directory; "
        "fix the scenario (docs/scenarios.md)",
    ),
    "simulate a scenario that is not TOML": (
        ["simulate", "--scenario", "broken.toml"],
        "corridor simulate: broken.toml: not valid TOML",
    ),
    "simulate a scenario with an impossible value": (
        ["simulate", "--scenario", "lanes.toml"],
        "corridor simulate: lanes.toml: stations.tuanjiecun.gate.lanes: expected a whole "
        "number of at least 1, got -1; fix the scenario (docs/scenarios.md)",
    ),
    "simulate a scenario naming no yard we have": (
        ["simulate", "--scenario", "chengdu.toml"],
        "corridor simulate: chengdu.toml: ",
    ),
    "simulate a scenario 100000 days long": (
        ["simulate", "--scenario", "longrun.toml"],
        "corridor simulate: longrun.toml: run.days must be from 1 to 366 (one year), got 100000",
    ),
    "simulate keeping its log as a CSV": (
        ["simulate", "--log", "table.csv"],
        "corridor simulate: table.csv: unknown log format to write; give --log a .jsonl",
    ),
    "simulate into an unwritable place": (
        ["simulate", "--days", "1", "--out", UNWRITABLE],
        f"corridor simulate: {UNWRITABLE}: cannot create the directory",
    ),
    "no command": ([], "corridor: the following arguments are required: COMMAND"),
    "a command that does not exist": (
        ["frobnicate"],
        "corridor: argument COMMAND: invalid choice: 'frobnicate'",
    ),
    "a stations folder that does not exist": (
        ["--stations", "no-such-dir", "simulate"],
        "no-such-dir: not a directory (from CORRIDOR_STATIONS_DIR); fix the station file, or "
        "--stations / CORRIDOR_STATIONS_DIR",
    ),
    "import of a missing DCSA file": (
        ["import-dcsa", "missing.json", "--out", "dcsa.jsonl"],
        "corridor import-dcsa: missing.json: No such file or directory; check that it is a DCSA",
    ),
    "import to a CSV": (
        ["import-dcsa", "junk.json", "--out", "table.csv"],
        "corridor import-dcsa: table.csv: unknown log format to write; give --out a .jsonl",
    ),
    "publish of a missing log": (
        ["publish", "missing.jsonl", *DEAD_BROKER],
        "corridor publish: missing.jsonl: no such file; check the path",
    ),
    "publish to a broker that does not answer": (
        ["publish", "--generate", *DEAD_BROKER],
        "corridor publish: the Kafka broker at 127.0.0.1:1 does not answer (",
    ),
    "record from a broker that does not answer": (
        ["record", "recorded.jsonl", "--timeout", "5", *DEAD_BROKER],
        "corridor record: the Kafka broker at 127.0.0.1:1 does not answer (",
    ),
    "worker with topics of no partitions": (
        ["worker", "--partitions", "0", *DEAD_BROKER],
        "corridor worker: Kafka settings: 1 validation error for KafkaSettings; partitions; "
        "Input should be greater than or equal to 1",
    ),
    "worker of an unknown membership": (
        ["worker", "--membership", "both"],
        "corridor worker: argument --membership: invalid choice: 'both'",
    ),
    "worker on a broker that does not answer": (
        ["worker", "--store", "sqlite:///worker.db", *DEAD_BROKER],
        "corridor worker: the Kafka broker at 127.0.0.1:1 does not answer (",
    ),
    "worker given Kafka servers and told to start its own": (
        ["worker", "--embedded-broker", "--bootstrap-servers", "127.0.0.1:9092"],
        "corridor worker: --bootstrap-servers and --embedded-broker: the worker would ignore one; "
        "give --embedded-broker alone",
    ),
    "publish at a speed and a pace": (
        ["publish", "--generate", "--speed", "60", "--pace", "2026-01-05T08:00:00+08:00=60"],
        "corridor publish: give either --speed or --pace, not both; see corridor publish --help",
    ),
    "publish at a pace without a speed": (
        ["publish", "--generate", "--pace", "2026-01-05T08:00:00+08:00"],
        "corridor publish: argument --pace: expected TIME=SPEED, got '2026-01-05T08:00:00+08:00'",
    ),
    "corridor broker on a port that is not one": (
        ["broker", "--port", "70000"],
        "corridor broker: --port 70000: not a port; give a number from 1 to 65535",
    ),
    "up with no history": (
        ["up", "--days", "0"],
        "corridor up: --days must be from 1 to 30, got 0",
    ),
    "up at no speed": (
        ["up", "--speed", "0"],
        "corridor up: --speed must be positive (60 = an hour a minute), got 0",
    ),
    "up on a store it did not make": (
        ["up", "--store", "afile.txt"],
        "corridor up: --store afile.txt: exists and was not made by corridor up, which starts a "
        "new twin each run; give a new path",
    ),
    "up with a store URL": (
        ["up", "--store", "postgresql://db/twin"],
        "corridor up: --store postgresql://db/twin: give the path of an SQLite file",
    ),
    "up on port 0": (
        ["up", "--port", "0"],
        "corridor up: --port 0: not a port; give a number from 1 to 65535",
    ),
    "db upgrade of a database that does not answer": (
        ["db", "upgrade", "--database-url", DEAD_DATABASE],
        "corridor db upgrade: the database postgresql+psycopg://postgres:***@127.0.0.1:1/twin "
        "cannot be opened (",
    ),
}
WAIT_FOR_A_BROKER = [name for name in BAD_COMMAND_LINES if "a broker that" in name]
FIX_FOR_BROKER = "start it, or give --bootstrap-servers (or CORRIDOR_KAFKA_BOOTSTRAP_SERVERS)"
SERVICE_LOG_COMMANDS = {"worker"}  # its operating log (settings, migrations) is on stderr too


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding every bad file the command lines name, and one good log."""
    folder = tmp_path_factory.mktemp("bad-input")
    (folder / "empty.jsonl").write_bytes(b"")
    (folder / "junk.jsonl").write_text('{"a": 1}\nnot json\n')
    (folder / "junk.parquet").write_bytes(b"this is not parquet")
    (folder / "junk.jsonl.gz").write_bytes(b"plain text, not gzip")
    (folder / "junk.json").write_text("not json at all")
    (folder / "table.csv").write_text("truck,gate_in\nT1,2026-01-05T08:00:00+08:00\n")
    (folder / "afile.txt").write_text("a file, not a folder\n")
    (folder / "folder").mkdir()
    (folder / "lanes.toml").write_text("[stations.tuanjiecun.gate]\nlanes = -1\n")
    (folder / "broken.toml").write_text("lanes = = 1\n")
    (folder / "chengdu.toml").write_text("[stations.chengdu.gate]\nlanes = 2\n")
    (folder / "longrun.toml").write_text("[run]\ndays = 100000\n")
    assert main(["generate", "--days", "1", "--quiet", "--out", str(folder / "day.jsonl")]) == 0
    return folder


def run_corridor(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`corridor ARGV` from this tree, in `cwd`, with none of the caller's CORRIDOR_* settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CORRIDOR_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-c", LAUNCH, *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def outcomes(workdir: Path) -> Iterator[dict[str, subprocess.CompletedProcess[str]]]:
    """Every bad command line's process: the broker cases' waits first, beside two at a time."""
    first = sorted(BAD_COMMAND_LINES, key=lambda name: name not in WAIT_FOR_A_BROKER)
    with ThreadPoolExecutor(max_workers=len(WAIT_FOR_A_BROKER) + 2) as pool:
        futures = {
            name: pool.submit(run_corridor, BAD_COMMAND_LINES[name][0], workdir) for name in first
        }
        yield {name: future.result() for name, future in futures.items()}


def problem_lines(name: str, stderr: str) -> list[str]:
    """stderr's lines; for a service, those that are not its operating log (its own lines)."""
    lines = stderr.splitlines()
    argv = BAD_COMMAND_LINES[name][0]
    if argv and argv[0] in SERVICE_LOG_COMMANDS:
        lines = [line for line in lines if line.startswith(f"corridor {argv[0]}")]
    return lines


def test_there_are_at_least_twenty_bad_command_lines() -> None:
    assert len(BAD_COMMAND_LINES) >= 20


@pytest.mark.parametrize("name", list(BAD_COMMAND_LINES))
def test_a_bad_command_line_gets_one_line_and_exit_code_2(
    name: str, outcomes: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    done = outcomes[name]
    says = BAD_COMMAND_LINES[name][1]

    assert "Traceback" not in done.stderr
    assert done.returncode == 2, done.stderr
    lines = problem_lines(name, done.stderr)
    assert len(lines) == 1, done.stderr
    assert says in lines[0]
    assert lines[0].startswith("corridor")


@pytest.mark.parametrize("name", WAIT_FOR_A_BROKER)
def test_a_broker_that_does_not_answer_is_named_with_the_fix(
    name: str, outcomes: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    assert FIX_FOR_BROKER in outcomes[name].stderr


def test_a_database_password_never_reaches_the_terminal(
    outcomes: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    done = outcomes["db upgrade of a database that does not answer"]
    assert "s3cret" not in done.stderr
    assert "Connection refused" in done.stderr


def test_nothing_was_written_where_it_was_refused(
    workdir: Path, outcomes: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    assert outcomes  # every command above has run
    assert (workdir / "afile.txt").read_text() == "a file, not a folder\n"
    assert not (workdir / "long.jsonl").exists()
    assert not (workdir / "dcsa.jsonl").exists()
    assert not list(workdir.glob("out/*"))  # --out is created before reading, left empty


def test_debug_shows_the_traceback_and_still_the_line(workdir: Path) -> None:
    for argv in (["--debug", "replay", "missing.jsonl"], ["replay", "missing.jsonl", "--debug"]):
        done = run_corridor(argv, workdir)

        assert done.returncode == 2
        assert "Traceback (most recent call last)" in done.stderr
        assert "in check_input_log" in done.stderr
        last = done.stderr.splitlines()[-1]
        assert last == "corridor replay: missing.jsonl: no such file; check the path"


def test_a_bug_is_one_line_without_debug_and_a_traceback_with_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def broken(_args: object) -> int:
        return 1 // 0

    monkeypatch.setattr("corridor.cli.run_commands.run_simulate", broken)

    assert main(["simulate", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "corridor simulate: internal error: ZeroDivisionError: integer division or modulo by "
        "zero; run `corridor --debug ...` for the traceback, and report it"
    ]
    assert main(["--debug", "simulate", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "1 // 0" in err
