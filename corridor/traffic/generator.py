"""Synthetic traffic for the corridor yards: v1 events, seeded, in event-time order.

`generate` yields N days of traffic for any of the corridor's yards, either *realistic* (trains
from the timetable, a day/night truck profile, import boxes brought by trains and collected
later, reefer telemetry with the odd power cut and excursion; see `corridor.traffic.yard`) or
*poisson* (flat Poisson truck arrivals and nothing else, for checking the gate against
queueing theory). The same stations, days, seed, start and mode always give the same events
in the same order; each yard draws from its own random streams, so a yard's events do not
depend on which other yards are generated.

Events are emitted in timestamp order, ties broken by yard order (the order of `stations`)
then by generation order; only events stamped in [start, start + days) are emitted. Each
yard is generated a day at a time in numpy and its events are built lazily, so memory stays
bounded for a year or more.
"""

import itertools
import math
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Literal

import numpy as np

from corridor.contract.events import EARLIEST_TS, LATEST_TS, Event
from corridor.traffic.batch import KIND_BITS, KIND_MASK, DayBatch
from corridor.traffic.draws import owner_codes
from corridor.traffic.timebase import (
    MS_PER_DAY,
    MS_PER_SECOND,
    Ints,
    millisecond_offsets,
    second_offsets,
)
from corridor.traffic.yard import (
    MAX_IMPORT_TRAINS_PER_DAY,
    PoissonYard,
    RealisticYard,
    YardTraffic,
    yard_instants,
)
from stations.spec import StationSpec

Mode = Literal["realistic", "poisson"]
MAX_SEED = 2**63
MAX_DAYS = 36_500  # a century: every timestamp must stay within 2000-2099 anyway
_Chunk = tuple[Ints, Ints, Ints, Ints]  # rows as (ms since start, code, index, sequence)


def generate(
    stations: Mapping[str, StationSpec],
    *,
    days: int,
    seed: int,
    start: datetime,
    mode: Mode = "realistic",
    poisson_trucks_per_hour: Mapping[str, float] | None = None,
    observed_share: float = 0.2,
    progress: Callable[[int], None] | None = None,
    replication: int = 0,
) -> Iterator[Event]:
    """`days` days of traffic from `start` (aware) for the given yards, in ts order.

    `replication` picks independent random streams of the same seed (`corridor.replications`);
    replication 0 is a single run's traffic.

    `progress`, if given, is called with the number of whole days emitted so far, once per
    day. Arguments are checked before the first event is drawn; a bad one raises ValueError
    naming it.
    """
    _check_period(days, seed, start)
    _check_share("observed_share", observed_share)
    if not stations:
        raise ValueError("stations: no yard to generate")
    _check_numbers_apart(stations)
    yards = [
        _YardRows(
            _source(
                spec,
                yard,
                seed,
                start,
                days,
                mode,
                poisson_trucks_per_hour,
                observed_share,
                replication=replication,
            ),
            mode,
            seed,
            days,
        )
        for yard, spec in stations.items()
    ]
    return _events(yards, days, progress)


def _events(
    yards: list["_YardRows"], days: int, progress: Callable[[int], None] | None
) -> Iterator[Event]:
    """The days' events as one iterator (chained lists: no Python step per event)."""
    return itertools.chain.from_iterable(_days(yards, days, progress))


def _days(
    yards: list["_YardRows"], days: int, progress: Callable[[int], None] | None
) -> Iterator[list[Event]]:
    """Draw every yard a day at a time; yield each finished day, yards merged by ts."""
    for day in range(days + 1):
        chunks = [yard.advance(day) for yard in yards]
        if day == 0:
            continue  # nothing is final before the first day has been drawn
        yield _merged(yards, chunks, (day - 1) * MS_PER_DAY)
        if progress is not None:
            progress(day)


def _merged(yards: list["_YardRows"], chunks: list[_Chunk], lo_ms: int) -> list[Event]:
    """One day's events of all yards in (ts, yard order, sequence) order.

    Events are built in bulk per (yard, day drawn, kind) group, then put in ts order.
    """
    built: list[Event] = []
    slot_of_row: list[Ints] = []
    for yard, (ms, code, index, sequence) in zip(yards, chunks, strict=True):
        by_group = np.argsort(code, kind="stable")
        bounds = np.flatnonzero(np.diff(code[by_group])) + 1
        for group in np.split(by_group, bounds) if len(by_group) else []:
            key = int(code[group[0]])
            built += yard.events(key, index[group], sequence[group], ms[group], lo_ms)
        placed = np.empty(len(ms), dtype=np.int64)
        placed[by_group] = np.arange(len(ms)) + sum(len(rows) for rows in slot_of_row)
        slot_of_row.append(placed)
    if not built:
        return []
    all_ms = np.concatenate([chunk[0] for chunk in chunks])
    slots = np.concatenate(slot_of_row)[np.argsort(all_ms, kind="stable")]
    return [built[slot] for slot in slots.tolist()]


class _YardRows:
    """One yard's pending event rows, a day at a time, in (ts, generation) order.

    A day's facts may emit events up to 24 h earlier (a train is announced a day before it
    leaves, a truck dispatched up to 24 h before its eta), so once day d has been drawn
    every pending row before day d is final.
    """

    def __init__(self, source: YardTraffic, mode: Mode, seed: int, days: int) -> None:
        self._source = source
        self._end_ms = days * MS_PER_DAY
        self._days = days
        self._batches: dict[int, DayBatch] = {}
        nothing = np.zeros(0, np.int64)
        self._pending: tuple[Ints, Ints, Ints] = (nothing, nothing, nothing)
        self._emitted = 0
        self._prefix = _id_prefix(source, mode, seed)
        self._seconds, self._millis = second_offsets(), millisecond_offsets()

    def advance(self, day: int) -> _Chunk:
        """Draw day `day`; return the rows now final (ms, code, index, sequence)."""
        fresh = self._batches[day] = self._source.day(day)
        rows = zip(self._pending, fresh.rows(day, self._end_ms), strict=True)
        ms, code, index = (np.concatenate(pair) for pair in rows)
        by_time = np.argsort(ms, kind="stable")
        ms, code, index = ms[by_time], code[by_time], index[by_time]
        horizon = day * MS_PER_DAY if day < self._days else self._end_ms
        cut = int(np.searchsorted(ms, horizon))
        self._pending = ms[cut:], code[cut:], index[cut:]
        sequence = np.arange(self._emitted + 1, self._emitted + cut + 1, dtype=np.int64)
        self._emitted += cut
        final = code[:cut]
        live = {day, *(self._pending[1] >> KIND_BITS).tolist(), *(final >> KIND_BITS).tolist()}
        for old_day in [d for d in self._batches if d not in live]:
            del self._batches[old_day]
        return ms[:cut], final, index[:cut], sequence

    def events(self, code: int, index: Ints, sequence: Ints, ms: Ints, lo_ms: int) -> list[Event]:
        """Build one group of rows (same day drawn, same kind), all stamped in [lo_ms, +1 day)."""
        day_start = self._source.instants.at(lo_ms)
        seconds, millis = self._seconds, self._millis
        offset = ms - lo_ms
        ts = [day_start + seconds[s] for s in (offset // MS_PER_SECOND).tolist()]
        rest = offset % MS_PER_SECOND
        if rest.any():
            ts = [moment + millis[m] for moment, m in zip(ts, rest.tolist(), strict=True)]
        ids = [f"{self._prefix}{n}" for n in sequence.tolist()]
        batch = self._batches[code >> KIND_BITS]
        return batch.events(code & KIND_MASK, index.tolist(), ids, ts)


def _id_prefix(source: YardTraffic, mode: Mode, seed: int) -> str:
    """Event ids name the yard, mode, seed and period start, so two generated logs never clash."""
    stamp = f"{source.instants.start:%Y%m%dT%H%M}"
    return f"{source.code}-{mode[0].upper()}{seed}-{stamp}-"


def _source(
    spec: StationSpec,
    yard: str,
    seed: int,
    start: datetime,
    days: int,
    mode: Mode,
    rates: Mapping[str, float] | None,
    observed_share: float,
    *,
    replication: int,
) -> YardTraffic:
    if spec.id != yard:
        raise ValueError(f"stations[{yard!r}] is the spec of {spec.id!r}")
    instants = yard_instants(spec, start)
    if mode == "poisson":
        per_hour = _poisson_rate(rates, yard)
        return PoissonYard(
            spec,
            seed=seed,
            instants=instants,
            days=days,
            per_hour=per_hour,
            replication=replication,
        )
    if mode != "realistic":
        raise ValueError(f"mode: expected 'realistic' or 'poisson', got {mode!r}")
    _check_traffic(spec)
    return RealisticYard(
        spec,
        seed=seed,
        instants=instants,
        days=days,
        observed=observed_share,
        replication=replication,
    )


def _check_numbers_apart(stations: Mapping[str, StationSpec]) -> None:
    """Two yards drawing from one serial block under one owner code would repeat numbers."""
    users: dict[tuple[int, str], str] = {}
    for yard, spec in stations.items():
        block = spec.container_numbers.serial_block
        for owner in owner_codes(spec.container_numbers):
            other = users.setdefault((block, owner), yard)
            if other != yard:
                raise ValueError(
                    f"{yard}.containers: serial block {block} under owner code {owner} is "
                    f"already {other}'s; give one of them another block or other owner_codes"
                )


def _poisson_rate(rates: Mapping[str, float] | None, yard: str) -> float:
    if rates is None or yard not in rates:
        raise ValueError(f"poisson_trucks_per_hour: no rate for yard {yard!r}")
    rate = rates[yard]
    if not (isinstance(rate, int | float) and math.isfinite(rate) and rate >= 0):
        raise ValueError(f"poisson_trucks_per_hour[{yard!r}]: expected a rate >= 0, got {rate!r}")
    return float(rate)


def _check_period(days: int, seed: int, start: datetime) -> None:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days: expected a whole number from 1 to {MAX_DAYS}, got {days!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < MAX_SEED:
        raise ValueError(f"seed: expected a whole number in [0, 2**63), got {seed!r}")
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError(f"start: expected an aware datetime, got naive {start.isoformat()}")
    if not EARLIEST_TS <= start < LATEST_TS - timedelta(days=days + 60):
        raise ValueError(f"start: the period must lie in 2000-2099, got {start.isoformat()}")


def _check_share(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: expected a share between 0 and 1, got {value!r}")


def _check_traffic(spec: StationSpec) -> None:
    """What the generator needs beyond what the spec parser checks."""
    traffic, where = spec.traffic, f"{spec.id}.traffic"
    for name in ("export_boxes_per_day", "import_boxes_per_day"):
        value = getattr(traffic, name)
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{where}.{name}: expected a finite number >= 0, got {value}")
    trains = traffic.import_trains_per_day
    if not 0 <= trains <= MAX_IMPORT_TRAINS_PER_DAY:
        limit = f"{MAX_IMPORT_TRAINS_PER_DAY:g}"
        raise ValueError(f"{where}.import_trains_per_day: expected 0 to {limit}, got {trains}")
    if trains == 0 and traffic.import_boxes_per_day > 0:
        raise ValueError(f"{where}.import_trains_per_day: import boxes need at least one train")
    interval = traffic.reading_interval_min
    if not interval >= 1:
        raise ValueError(
            f"{where}.reading_interval_min: expected at least 1 minute, got {interval}"
        )
