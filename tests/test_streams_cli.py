"""`corridor publish`, `record` and `worker` from the command line, on a real broker.

A log published onto the topics and recorded back is one `corridor replay` accepts unchanged,
giving the same `kpis.json` as the original; a time range of the worker's archive records the
events of that range; `--speed` paces a log in event time; and the newcomer's demo
(`worker --embedded-broker --demo-days 1`) runs end to end.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from api.store.sql_store import SqlStore
from corridor.cli import run_commands
from corridor.contract import eventlog
from corridor.contract.events import Event
from corridor.scenario import DEFAULT_START
from corridor.store_contract import TwinStore
from streams import cli
from streams.live.memory_store import MemoryStore
from streams.publish import publish
from streams.settings import KafkaSettings
from tests.broker_fixtures import SEED, generated_day, run_worker, settings_env

pytestmark = [pytest.mark.broker]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def kafka_env(kafka_settings: KafkaSettings, monkeypatch: pytest.MonkeyPatch) -> KafkaSettings:
    """This test's topics, as the command line reads them: from the environment."""
    for name, value in settings_env(kafka_settings).items():
        monkeypatch.setenv(name, value)
    return kafka_settings


def replay_report(log: Path, out: Path) -> bytes:
    parser = argparse.ArgumentParser()
    run_commands.add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["replay", str(log), "--seed", str(SEED), "--out", str(out)])
    args.quiet = True
    assert args.handler(args) == 0
    return (out / "kpis.json").read_bytes()


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_published_then_recorded_log_replays_to_the_same_report(
    kafka_env: KafkaSettings, tmp_path: Path, suffix: str
) -> None:
    original = tmp_path / "day.jsonl"
    eventlog.write_log(generated_day(), original)
    recorded = tmp_path / f"recorded{suffix}"

    assert cli.main(["publish", str(original)]) == 0
    assert cli.main(["record", str(recorded), "--timeout", "30"]) == 0

    again, first = (
        json.loads(replay_report(path, tmp_path / out))
        for path, out in ((recorded, "b"), (original, "a"))
    )
    # The report names its input by the digest of the file's bytes, which differ by design
    # (another file, another format); every figure must be the same.
    assert again["run"].pop("input")["kind"] == first["run"].pop("input")["kind"] == "log"
    assert again == first


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_record_from_the_archive_takes_a_time_range(
    kafka_settings: KafkaSettings, tmp_path: Path, kind: str
) -> None:
    events = generated_day()
    publish(events, kafka_settings)
    store: TwinStore = (
        MemoryStore() if kind == "memory" else SqlStore.open(f"sqlite:///{tmp_path / 'twin.db'}")
    )
    run_worker(kafka_settings, store)
    start, end = DEFAULT_START + timedelta(hours=6), DEFAULT_START + timedelta(hours=9)
    out = tmp_path / "morning.jsonl"

    code = cli.main(
        [
            "record",
            str(out),
            "--from-archive",
            "--start",
            start.isoformat(),
            "--end",
            end.isoformat(),
        ],
        open_store=lambda _url: store,
    )

    assert code == 0
    recorded = [item for item in eventlog.read_log(out) if isinstance(item, Event)]
    wanted = {e.event_id for e in events if start <= e.ts < end}
    assert {e.event_id for e in recorded} == wanted
    assert [e.ts for e in recorded] == sorted(e.ts for e in recorded)


def test_publish_at_a_speed_keeps_the_event_time_spacing(kafka_settings: KafkaSettings) -> None:
    events = [e for e in generated_day() if e.ts < DEFAULT_START + timedelta(hours=1)]
    began = time.monotonic()

    stats = publish(events, kafka_settings, speed=3600.0)  # an hour of events in a second

    elapsed = time.monotonic() - began
    span = (events[-1].ts - events[0].ts).total_seconds() / 3600.0
    assert stats.produced == len(events)
    assert span * 0.95 <= elapsed <= span + 2.0


def test_a_bad_command_line_is_refused_with_a_message(
    kafka_env: KafkaSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["publish"]) == 2
    assert "give either a LOG or --generate" in capsys.readouterr().err


@pytest.mark.slow
def test_the_newcomer_demo_runs_with_its_own_broker(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "streams.cli", "worker", "--embedded-broker"]
    command += ["--demo-days", "1", "--exit-when-idle", "3", "--seed", str(SEED)]
    env = {key: value for key, value in os.environ.items() if not key.startswith("CORRIDOR_")}

    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr[-3000:]
    assert "rebuilt the twin from 0 archive entries" in done.stderr
    day = len(generated_day())
    assert f"consumed {day}, archived {day}" in done.stderr
