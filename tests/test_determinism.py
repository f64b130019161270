"""Same log, same seed: byte-identical kpis.json; yard interleaving changes nothing per yard."""

import json
import random
from pathlib import Path

import pytest

from corridor.cli import main
from corridor.contract import eventlog
from corridor.scenario import DEFAULT_START
from corridor.traffic.generator import generate
from stations.spec import load_all_stations


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("log") / "two-days.jsonl"
    eventlog.write_log(generate(load_all_stations(), days=2, seed=5, start=DEFAULT_START), path)
    return path


def replay_to(log: Path, out: Path, seed: int = 9) -> bytes:
    assert main(["replay", str(log), "--seed", str(seed), "--out", str(out), "--quiet"]) == 0
    return (out / "kpis.json").read_bytes()


def test_same_log_and_seed_give_identical_bytes(log: Path, tmp_path: Path) -> None:
    first = replay_to(log, tmp_path / "a")
    second = replay_to(log, tmp_path / "b")
    assert first == second
    assert json.loads(first)["corridor"]["trucks"] > 0


def test_another_seed_changes_the_kpis(log: Path, tmp_path: Path) -> None:
    assert replay_to(log, tmp_path / "a", seed=9) != replay_to(log, tmp_path / "b", seed=10)


def test_yard_interleaving_does_not_change_per_yard_kpis(log: Path, tmp_path: Path) -> None:
    lines = log.read_bytes().splitlines()
    by_yard: dict[str, list[bytes]] = {}
    for line in lines:
        by_yard.setdefault(json.loads(line)["yard"], []).append(line)
    # re-interleave: keep each yard's own order, shuffle which yard goes next
    rng = random.Random(3)
    cursors = dict.fromkeys(by_yard, 0)
    shuffled: list[bytes] = []
    while cursors:
        yard = rng.choice(sorted(cursors))
        shuffled.append(by_yard[yard][cursors[yard]])
        cursors[yard] += 1
        if cursors[yard] == len(by_yard[yard]):
            del cursors[yard]
    assert shuffled != lines
    other = tmp_path / "shuffled.jsonl"
    other.write_bytes(b"\n".join(shuffled) + b"\n")
    original = json.loads(replay_to(log, tmp_path / "a"))
    reordered = json.loads(replay_to(other, tmp_path / "b"))
    assert original["yards"] == reordered["yards"]
    assert original["corridor"] == reordered["corridor"]
