"""A streamed replay equals the whole-log sort, holding a bounded stretch of the log.

`corridor.engine.twin.replay` sorts a sequence whole and streams any other iterable through
`corridor.engine.yard_order.InYardOrder`. Releases happen every `CHUNK` events; a small chunk
here makes a few days of traffic go through many releases, so the seams are exercised.
"""

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from corridor import jobs
from corridor.contract import eventlog
from corridor.contract.events import Event
from corridor.engine import yard_order
from corridor.engine.twin import replay
from corridor.engine.yard_order import InYardOrder, OutOfOrderError
from corridor.kpis.record_frames import record_frames
from corridor.kpis.report import dumps_report
from corridor.scenario import load_scenario
from tests.broker_fixtures import SEED, generated_day, stations

CHUNK = 500


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yard_order, "CHUNK", CHUNK)


def delayed_within(events: list[Event], spread: timedelta, seed: int) -> list[Event]:
    """The events in the order they would arrive, each delayed by up to `spread`."""
    rng = random.Random(seed)
    arrival = sorted((e.ts + spread * rng.random(), i) for i, e in enumerate(events))
    return [events[i] for _ts, i in arrival]


def same_twins(streamed: list[Event], whole: list[Event]) -> None:
    left = record_frames(replay(iter(streamed), stations(), SEED))
    right = record_frames(replay(whole, stations(), SEED))
    for name, frame in left.items():
        assert frame.equals(right[name]), name


def test_an_ordered_log_streams_to_the_same_records() -> None:
    events = generated_day(days=3)
    same_twins(events, events)


def test_a_log_out_of_order_within_the_bound_streams_to_the_same_records() -> None:
    events = generated_day(days=3)
    delayed = delayed_within(events, timedelta(hours=6), seed=4)
    same_twins(delayed, delayed)  # the same log, streamed and sorted whole


def test_only_about_a_bound_of_events_is_held() -> None:
    events = generated_day(days=4)
    ordered = InYardOrder(iter(events))
    behind = 0
    for count, _event in enumerate(ordered, 1):
        behind = max(behind, ordered.count - count)  # read from the log but not yet released
    busiest_day = 1.5 * len(events) / 4  # a day of traffic is not every day's average
    bound_days = yard_order.REORDER_BOUND / timedelta(days=1)
    assert behind <= busiest_day * bound_days + 2 * CHUNK < len(events) / 2
    assert ordered.count == len(events)
    assert ordered.first == min(event.ts for event in events)


def test_an_event_further_behind_than_the_bound_is_refused() -> None:
    events = generated_day(days=3)
    late = events.pop(10)
    events.insert(len(events) - 10, late)  # nearly three days late
    with pytest.raises(OutOfOrderError, match=late.event_id):
        list(InYardOrder(iter(events)))


def test_replay_log_sorts_an_unordered_log_whole(tmp_path: Path) -> None:
    events = generated_day(days=3)
    shuffled = random.Random(5).sample(events, len(events))
    ordered_log, shuffled_log = tmp_path / "ordered.jsonl", tmp_path / "shuffled.jsonl.gz"
    eventlog.write_log(events, ordered_log)
    eventlog.write_log(shuffled, shuffled_log)
    scenario = load_scenario(None)

    ordered = jobs.replay_log(ordered_log, scenario, seed=SEED)
    fallback = jobs.replay_log(shuffled_log, scenario, seed=SEED)

    assert ordered.events == fallback.events == len(events)
    assert dumps_report(without_input(fallback.report)) == dumps_report(
        without_input(ordered.report)
    )
    in_memory = jobs.replay_events(
        events, scenario, source=ordered.report["run"]["input"], seed=SEED, malformed=0
    )
    assert dumps_report(in_memory.report) == dumps_report(ordered.report)


def without_input(report: Any) -> dict[str, Any]:
    """The report without the digest of its input file (the two logs differ in bytes)."""
    return {**report, "run": {**report["run"], "input": None}}
