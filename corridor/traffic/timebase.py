"""Time in the traffic generator: whole milliseconds since the start of the generated period.

A yard's timetable and truck profile are written in local time ("departure 02:30", "hour 8 is
busy"), while events carry aware timestamps. The generator keeps every instant as an integer
number of milliseconds since `start` (exact, cheap to sort in numpy) and turns it into a
datetime in the yard's own UTC offset only when it builds an event. Offsets are fixed
("+08:00"): none of the corridor yards observes daylight saving.
"""

import bisect
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache

import numpy as np
import numpy.typing as npt

from stations.spec import RailSpec

MS_PER_SECOND = 1_000
MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

_OFFSET = re.compile(r"^([+-])([01][0-9]|2[0-3]):([0-5][0-9])$")


def parse_utc_offset(text: str, where: str) -> timezone:
    """A fixed offset such as "+08:00" (or "Z"/"UTC"); errors name the field."""
    if text in ("Z", "UTC"):
        return UTC
    match = _OFFSET.match(text)
    if match is None:
        raise ValueError(f"{where}: expected a UTC offset such as +08:00, got {text!r}")
    sign = -1 if match[1] == "-" else 1
    return timezone(sign * timedelta(hours=int(match[2]), minutes=int(match[3])))


@cache
def second_offsets() -> tuple[timedelta, ...]:
    """Every second of a day as a timedelta: adding one is 10x cheaper than building one."""
    return tuple(timedelta(0, second) for second in range(86_400))


@cache
def millisecond_offsets() -> tuple[timedelta, ...]:
    return tuple(timedelta(0, 0, 0, milli) for milli in range(1_000))


class Instants:
    """Milliseconds since the period start, as aware datetimes in a yard's local offset."""

    __slots__ = ("_days", "_millis", "_seconds", "local_ms0", "start")

    def __init__(self, start: datetime, zone: timezone) -> None:
        self.start = start.astimezone(zone)
        midnight = self.start.replace(hour=0, minute=0, second=0, microsecond=0)
        self.local_ms0 = (self.start - midnight) // timedelta(milliseconds=1)
        """Milliseconds from local midnight to the period start (places local hours)."""
        self._days: dict[int, datetime] = {}
        self._seconds = second_offsets()
        self._millis = millisecond_offsets()

    def at(self, ms: int) -> datetime:
        """The instant `ms` milliseconds after the period start."""
        day, rest = divmod(ms, MS_PER_DAY)
        base = self._days.get(day)
        if base is None:
            base = self._days[day] = self.start + timedelta(days=day)
        second, milli = divmod(rest, MS_PER_SECOND)
        moment = base + self._seconds[second]
        return moment + self._millis[milli] if milli else moment

    def local_hour(self, ms: Ints | Floats) -> Ints:
        """The local hour of day (0-23) of each instant."""
        return ((ms + self.local_ms0) // MS_PER_HOUR % 24).astype(np.int64)

    def local_date(self, day_offset: int) -> date:
        """The local calendar date `day_offset` days after the start's local date."""
        return self.start.date() + timedelta(days=day_offset)


@dataclass(frozen=True, slots=True)
class Departure:
    """One timetabled train leaving the yard: times in ms since the period start."""

    train_id: str
    ms: int
    cutoff_ms: int
    capacity_teu: int
    destination: str


class Timetable:
    """The daily departures of one yard, unrolled over the period (and a few days around it)."""

    def __init__(self, rail: RailSpec, code: str, instants: Instants, days: int) -> None:
        unrolled = [
            departure
            for day in range(-1, days + 4)
            for departure in _departures_of(rail, code, instants, day)
        ]
        unrolled.sort(key=lambda departure: departure.ms)
        self._departures = unrolled
        self._departure_ms = [departure.ms for departure in unrolled]
        self._departure_array = np.array(self._departure_ms, dtype=np.int64)
        self.latest_cutoff_h = max((entry.cutoff_h for entry in rail.timetable), default=0.0)
        """No box is booked on a train closer than this: it would miss the cut-off."""
        self._cutoffs = np.sort(np.array([d.cutoff_ms for d in unrolled], dtype=np.int64))

    def leaving_between(self, lo_ms: int, hi_ms: int) -> list[Departure]:
        """Departures in [lo_ms, hi_ms), in departure order."""
        first = bisect.bisect_left(self._departure_ms, lo_ms)
        stop = bisect.bisect_left(self._departure_ms, hi_ms)
        return self._departures[first:stop]

    def booked_trains(self, eta_ms: Ints, lead_ms: Ints) -> list[str | None]:
        """The departure each export box is booked on: the first leaving at least `lead_ms`
        after the box's eta (None past the unrolled timetable)."""
        position = np.searchsorted(self._departure_array, eta_ms + lead_ms, side="left")
        departures, n = self._departures, len(self._departures)
        return [departures[p].train_id if p < n else None for p in position.tolist()]

    def first_cutoff(self, ms: Ints) -> Ints:
        """For each instant, the earliest cut-off not before it (-1 if there is none).

        An export box in the yard by then may be booked on that train (or a later one) and
        is loaded only after a cut-off, so it is surely in the yard until the earliest
        cut-off not before its arrival.
        """
        position = np.searchsorted(self._cutoffs, ms, side="left")
        padded = np.append(self._cutoffs, -1)
        return padded[position]


def _departures_of(rail: RailSpec, code: str, instants: Instants, day: int) -> list[Departure]:
    local = instants.local_date(day)
    seen: dict[str, int] = {}
    departures = []
    for entry in rail.timetable:
        hours, minutes = (int(part) for part in entry.departure.split(":"))
        ms = (day * 1440 + hours * 60 + minutes) * MS_PER_MINUTE - instants.local_ms0
        hhmm = f"{hours:02d}{minutes:02d}"
        seen[hhmm] = seen.get(hhmm, 0) + 1
        suffix = f"-{seen[hhmm]}" if seen[hhmm] > 1 else ""
        departures.append(
            Departure(
                train_id=f"{code}-{local:%Y%m%d}-{hhmm}{suffix}",
                ms=ms,
                cutoff_ms=ms - round(entry.cutoff_h * MS_PER_HOUR),
                capacity_teu=entry.capacity_teu,
                destination=entry.destination,
            )
        )
    return departures
