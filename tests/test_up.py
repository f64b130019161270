"""`corridor up` as a newcomer runs it: one process that brings the whole twin to life.

Run as a real process on free ports, in a folder of its own: it starts the embedded broker, the
worker, the API and a traffic feed; the dashboard (in headless Chromium, `tests/chromium.py`)
and the API then show all three yards with trucks counted and at least 20 points in every 24 h
chart, from a week of history caught up at start. Its screenshot is kept as a CI artifact
(`.artifacts/dashboard-up.png`). SIGINT stops it all: no process it started is left and no port
is bound. A part that dies stops the others, and `up` says which; a busy port is refused before
anything starts. `feed_plan` never places an event after the wall clock.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest

from corridor.cli import build_parser
from corridor.cli.up_command import LIVE_LEAD, MAX_HISTORY_DAYS, feed_plan
from streams.broker import free_port
from tests.broker_fixtures import port_free
from tests.chromium import Chromium

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).resolve().parent.parent / ".artifacts"
MIN_POINTS = 20  # per 24 h chart series (issue 13)
CHARTS = ("dwell", "turn", "queue", "teu")


class Up:
    """A running `corridor up` process, its ports and its output files."""

    def __init__(self, folder: Path, *extra: str) -> None:
        self.folder = folder
        self.port, self.broker_port = free_port(), free_port()
        self.out, self.err = folder / "up.out", folder / "up.err"
        env = {key: value for key, value in os.environ.items() if not key.startswith("CORRIDOR_")}
        env["PYTHONPATH"] = str(ROOT)
        argv = ["up", "--port", str(self.port), "--broker-port", str(self.broker_port), *extra]
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "corridor.cli", *argv],
                cwd=folder,
                env=env,
                stdout=out,
                stderr=err,
            )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_started(self, timeout: float = 240.0) -> list[psutil.Process]:
        """Wait for the dashboard line; then every process `up` started, grandchildren too."""
        deadline = time.monotonic() + timeout
        while "corridor up: dashboard" not in self.out.read_text():
            assert self.process.poll() is None, self.err.read_text()
            assert time.monotonic() < deadline, self.out.read_text() + self.err.read_text()
            time.sleep(0.5)
        return psutil.Process(self.process.pid).children(recursive=True)

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.base + path, timeout=10) as response:
            return json.load(response)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def run_up(tmp_path: Path) -> Iterator[Any]:
    """Start `corridor up` with the given options; killed at the end if still running."""
    started: list[Up] = []

    def start(*extra: str) -> Up:
        started.append(Up(tmp_path, *extra))
        return started[-1]

    yield start
    for up in started:
        up.stop()


def all_gone(family: list[psutil.Process], timeout: float = 10.0) -> list[str]:
    """The processes of `family` still there after `timeout` (zombies count as there)."""
    _gone, alive = psutil.wait_procs(family, timeout=timeout)
    left = []
    for process in alive:
        try:
            left.append(f"{process.pid} {process.status()} {process.cmdline()}")
        except psutil.NoSuchProcess:
            continue
    return left


def warm(up: Up) -> dict[str, int]:
    """Points per 24 h chart series (1h snapshots, by the hour: the dashboard's own query)."""
    points: dict[str, int] = {}
    yards = [yard["id"] for yard in up.get("/yards")]
    assert len(yards) == 3
    for scope in [*yards, "corridor"]:
        base = "/corridor/kpis" if scope == "corridor" else f"/yards/{scope}/kpis"
        try:
            latest = up.get(f"{base}?window=24h")
            history = up.get(f"{base}/history?window=1h&interval=1h")
        except OSError:  # not yet: 404 before the first snapshot
            return {}
        if latest["kpis"]["trucks"] <= 0:
            return {}
        points[scope] = len(history["points"])
    return points


@pytest.mark.broker
@pytest.mark.browser
@pytest.mark.slow
def test_up_brings_the_twin_to_life_and_ctrl_c_leaves_nothing_behind(
    run_up: Any, chromium: Chromium
) -> None:
    up = run_up("--days", "7", "--seed", "11")
    family = up.wait_started()
    names = " ".join(" ".join(p.cmdline()) for p in family)
    for part in ("broker", "tansu", "worker", "api", "publish"):
        assert part in names, names

    deadline = time.monotonic() + 300
    while min(warm(up).values(), default=0) < MIN_POINTS:
        assert up.process.poll() is None, up.err.read_text()
        assert time.monotonic() < deadline, f"not warm after 300 s: {warm(up)}"
        time.sleep(2)

    refused = {row["reason"]: row["count"] for row in up.get("/dead-letters")["reasons"]}
    assert "rejected:ts_future" not in refused, refused  # no event ever ahead of the clock
    chromium.navigate(up.base + "/")
    counts = " && ".join(
        f"[...document.querySelectorAll('svg[data-chart={chart}]')].every("
        f"(svg) => Number(svg.dataset.points || 0) >= {MIN_POINTS})"
        for chart in CHARTS
    )
    chromium.wait_for(f"document.querySelectorAll('.yard[data-scope]').length === 3 && {counts}",
                      timeout=120)  # fmt: skip
    chromium.screenshot(ARTIFACTS / "dashboard-up.png")
    assert not chromium.errors

    up.process.send_signal(signal.SIGINT)
    assert up.process.wait(timeout=90) == 0, up.err.read_text()
    assert "corridor up: stopped" in up.out.read_text()
    assert all_gone(family) == []
    assert port_free(up.port)
    assert port_free(up.broker_port)


@pytest.mark.broker
@pytest.mark.slow
def test_a_part_that_dies_stops_the_others_and_up_says_which(run_up: Any) -> None:
    up = run_up("--days", "1")
    family = up.wait_started()
    record = json.loads((up.folder / "corridor-up" / "up.json").read_text())
    os.kill(record["parts"]["worker"]["pid"], signal.SIGKILL)

    assert up.process.wait(timeout=90) == 1
    said = up.err.read_text()
    assert "corridor up: worker was killed by SIGKILL" in said
    assert "stopping the other parts" in said
    assert all_gone(family) == []
    assert port_free(up.port)
    assert port_free(up.broker_port)


@pytest.mark.broker
@pytest.mark.slow
def test_up_for_a_while_stops_by_itself(run_up: Any) -> None:
    """`--for 6` counts from the dashboard line: the API still answers 3 s after it (a timer
    started with the process, 4 s or more before the line, would have stopped it by then)."""
    up = run_up("--days", "1", "--for", "6")
    family = up.wait_started()
    seen = time.monotonic()
    assert family, "no part was running to stop"
    time.sleep(max(0.0, seen + 3.0 - time.monotonic()))
    assert up.get("/health")["status"] == "ok"

    assert up.process.wait(timeout=120) == 0, up.err.read_text()
    assert up.out.read_text().endswith("corridor up: stopped\n")
    assert all_gone(family) == []
    assert port_free(up.port)


def test_a_busy_port_is_refused_before_anything_starts(run_up: Any, tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        up = run_up("--port", str(port))
        code = up.process.wait(timeout=120)
    lines = up.err.read_text().splitlines()
    assert code == 2
    assert lines == [
        f"corridor up: --port {port}: cannot listen there (address already in use); give "
        "another port, or stop what uses it"
    ]
    assert not (tmp_path / "corridor-up").exists()


@pytest.mark.parametrize("days", [1, 7, MAX_HISTORY_DAYS])
def test_the_feed_never_runs_ahead_of_the_wall_clock(days: int) -> None:
    now = datetime(2026, 11, 30, 13, 47, 12, tzinfo=UTC)
    plan = feed_plan(now, days)
    assert (
        plan.live_from
        == datetime(2026, 11, 29, 13, tzinfo=UTC)
        == now - LIVE_LEAD - timedelta(minutes=47, seconds=12)
    )
    assert plan.warm_from == plan.live_from - timedelta(days=1)
    assert plan.start == plan.live_from - timedelta(days=days)
    args = build_parser().parse_args(["publish", *plan.publish_args(60.0)])
    assert args.no_future  # so no event is sent before its time: none is ever refused
    assert [(step.start, step.speed) for step in args.pace] == [
        (plan.warm_from, 1200.0),
        (plan.live_from, 60.0),
    ]
    assert args.start == plan.start
    assert args.days == plan.days
