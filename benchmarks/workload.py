"""What the benchmarks run on: the baseline scenario's generated traffic, and their common start.

Most scripts here begin alike: parse the arguments, tune the garbage collector as `corridor
worker` does (where they measure what the worker runs), load the baseline scenario's three
yards and generate traffic for them from `DEFAULT_START`, by days or by a count of events.
They do it here, so that every script generates the same traffic the same way and differs only
in what it measures; and the broker benchmarks name their runs' topics here, apart from the
defaults and from each other.
"""

import argparse
import itertools
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from corridor.contract.events import Event
from corridor.runtime import tune_gc_for_a_long_lived_twin
from corridor.scenario import DEFAULT_START, load_scenario
from corridor.traffic.generator import generate
from stations.spec import StationSpec

if TYPE_CHECKING:
    from streams.live.twin import LiveTwin

Stations = Mapping[str, StationSpec]
EVENTS_PER_DAY = 4000  # three baseline yards, realistic mode: at least this many


def parser(doc: str | None, *, days: int | None = None) -> argparse.ArgumentParser:
    """A script's argument parser, described by its docstring's first line; with `days`, its
    option `--days` (of generated traffic), `days` by default."""
    made = argparse.ArgumentParser(description=(doc or "").split("\n")[0])
    if days is not None:
        made.add_argument("--days", type=int, default=days, help="days of generated traffic")
    return made


def begin(parser: argparse.ArgumentParser, *, tune_gc: bool) -> tuple[argparse.Namespace, Stations]:
    """The parsed arguments and the baseline stations; `tune_gc`: the collector tuned as
    `corridor worker` tunes it (for every figure after)."""
    args = parser.parse_args()
    if tune_gc:
        tune_gc_for_a_long_lived_twin()
    return args, load_scenario(None).stations


def traffic(stations: Stations, days: int, seed: int) -> Iterator[Event]:
    """`days` of generated traffic from `DEFAULT_START`, in time order."""
    return generate(stations, days=days, seed=seed, start=DEFAULT_START)


def generated(stations: Stations, days: int, seed: int) -> list[Event]:
    """Every event of `days` of generated traffic, in time order."""
    return list(traffic(stations, days, seed))


def days_for(count: int) -> int:
    """Days of generated traffic that hold at least `count` events."""
    return max(1, -(-count // EVENTS_PER_DAY))


def backlog(stations: Stations, count: int, seed: int) -> Iterator[Event]:
    """The first `count` events of the generated traffic (the same whatever the days: the
    generator's first events do not depend on how many days follow)."""
    return itertools.islice(traffic(stations, days_for(count), seed), count)


def warmed_live_twin(
    stations: Stations, events: list[Event], tail: int, seed: int, lateness: int
) -> "LiveTwin":
    """A `LiveTwin` fed every event but the last `tail`, advanced to `lateness` microseconds
    before the first of those, its records drained (as the worker's store takes them): the
    state a live KPI moment's benchmark then steps through the tail from. Imported here, so
    the `LiveTwin` is the one of the tree on `PYTHONPATH`."""
    from streams.live.reorder import to_micros
    from streams.live.twin import LiveTwin

    live = LiveTwin(stations, seed)
    for event in events[:-tail]:
        live.admit(event, b"")
    live.advance(to_micros(events[-tail - 1].ts) - lateness)
    assert live.twin is not None
    live.twin.drain()
    return live


def own_topics(prefix: str) -> dict[str, Any]:
    """`KafkaSettings` topic names of a run's own (`prefix.dispatch`, ...), every topic the
    worker reads or writes, so that runs on one broker share none."""
    return {
        "topic_dispatch": f"{prefix}.dispatch",
        "topic_reefer": f"{prefix}.reefer",
        "topic_trains": f"{prefix}.trains",
        "topic_dead_letter": f"{prefix}.dead-letter",
        "topic_kpi": f"{prefix}.kpi",
        "topic_alerts": f"{prefix}.alerts",
    }
