"""A what-if lever: hold announced departures for some minutes, and what the held trains take.

A scenario's `[[hold]]` entries (`yard`, `train` — a train id, or `"next"` for the yard's next
announced departure — and `minutes`, 1 … 1440) name departures already announced at now. The
scenario's forks hold them (`stations.holding`: before the cut-off the loading window moves,
so boxes cleared after the old cut-off still make the train; once loading has begun the train
only leaves later). Both sides resolve the same trains from the same state at now, so the
baseline measures, unheld, the very trains the scenario holds.

Per held train and replication (`HeldOutcome`): when it left against its timetable
(`departure_delay_min`), the boxes and TEU it took, and `left_behind`, the boxes their shippers
booked on it that did not leave with it. A held train's lateness (`trains_late`) is judged
against its timetable: the hold is a delay the comparison must show beside what it gained.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import msgspec

from corridor.engine.clock import to_datetime
from corridor.engine.twin import Twin
from corridor.forecast.measures import LATE_AFTER_MIN
from stations.box import Box
from stations.holding import Held, HoldError, hold_departure, next_departure
from stations.types import Minutes
from stations.yard import Yard

NEXT = "next"
"""`train = "next"`: the yard's announced departure due to leave next."""
MAX_HOLD_MIN = 24 * 60
MAX_HOLDS = 16
HOLD_FIGURES = ("departure_delay_min", "boxes_loaded", "teu_loaded", "left_behind")


class _Entry(msgspec.Struct, forbid_unknown_fields=True):
    yard: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    train: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    minutes: Annotated[int, msgspec.Meta(gt=0, le=MAX_HOLD_MIN)]


@dataclass(frozen=True, slots=True)
class TrainHold:
    """Hold `train_id` (or `NEXT`) at `yard` for `minutes`."""

    yard: str
    train_id: str
    minutes: int


@dataclass(frozen=True, slots=True)
class HeldOutcome:
    """One held train in one replication (None: it had not left by the end of the run)."""

    yard: str
    train_id: str
    scheduled_departure: datetime  # the timetable's
    held_departure: datetime  # the scenario's (the timetable's on the baseline side)
    departed: datetime | None
    departure_delay_min: float | None
    boxes_loaded: int | None
    teu_loaded: int | None
    left_behind: int | None

    def figures(self) -> dict[str, float | None]:
        """The compared figures, by `HOLD_FIGURES` name."""
        return {name: _float(getattr(self, name)) for name in HOLD_FIGURES}


def parse_holds(entries: Any, yards: Iterable[str]) -> tuple[TrainHold, ...]:
    """The scenario's `hold` entries, checked; ValueError naming the entry and field."""
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise ValueError("hold: expected a list of tables ([[hold]] in TOML)")
    if len(entries) > MAX_HOLDS:
        raise ValueError(f"hold: at most {MAX_HOLDS} trains, got {len(entries)}")
    try:
        parsed = msgspec.convert(entries, list[_Entry])
    except msgspec.ValidationError as error:
        where, _, what = str(error).partition(" - at `$")
        raise ValueError(f"hold{what.rstrip('`')}: {where}") from None
    known = set(yards)
    holds: list[TrainHold] = []
    for index, entry in enumerate(parsed):
        if entry.yard not in known:
            names = ", ".join(sorted(known))
            raise ValueError(f"hold[{index}].yard: unknown yard {entry.yard!r} (known: {names})")
        hold = TrainHold(entry.yard, entry.train, entry.minutes)
        if any((h.yard, h.train_id) == (hold.yard, hold.train_id) for h in holds):
            raise ValueError(f"hold[{index}]: {hold.yard} {hold.train_id} is held twice")
        holds.append(hold)
    return tuple(holds)


def resolve(twin: Twin, holds: Sequence[TrainHold]) -> tuple[TrainHold, ...]:
    """The holds with `NEXT` replaced by the train it means in `twin` (at now); a train not
    announced there, or gone already, raises `HoldError` naming it."""
    resolved: list[TrainHold] = []
    for hold in holds:
        yard = twin.yards[hold.yard]
        train = next_departure(yard).train_id if hold.train_id == NEXT else hold.train_id
        plan = yard.railway.known.get(train)
        if plan is None:
            raise HoldError(f"{hold.yard}: no departure {train!r} is announced at now")
        if plan not in yard.railway.plans:
            raise HoldError(f"{hold.yard} {train}: already left, cannot be held")
        if any((r.yard, r.train_id) == (hold.yard, train) for r in resolved):
            raise HoldError(f"{hold.yard} {train} is held twice")
        resolved.append(TrainHold(hold.yard, train, hold.minutes))
    return tuple(resolved)


def apply(twin: Twin, holds: Sequence[TrainHold]) -> list[Held]:
    """Hold the (resolved) trains in `twin`, at now."""
    return [hold_departure(twin.yards[h.yard], h.train_id, float(h.minutes)) for h in holds]


def unheld(twin: Twin, holds: Sequence[TrainHold]) -> list[Held]:
    """The trains' times as scheduled, for the baseline side (which holds nothing)."""
    found = []
    for h in holds:
        plan = twin.yards[h.yard].railway.known[h.train_id]
        found.append(Held(h.train_id, plan.departure, plan.cutoff, plan.departure, plan.cutoff))
    return found


def outcome(twin: Twin, yard_id: str, held: Held) -> HeldOutcome:
    """What the train did in this run (the twin run to its end)."""
    assert twin.epoch is not None
    epoch, yard = twin.epoch, twin.yards[yard_id]
    visit = next(
        (
            v
            for v in reversed(yard.records.train_visits)
            if v.direction == "export" and v.train_id == held.train_id
        ),
        None,
    )
    scheduled = to_datetime(held.departure, epoch)
    held_to = to_datetime(held.held_departure, epoch)
    if visit is None:  # not left by the end of the run
        return HeldOutcome(yard_id, held.train_id, scheduled, held_to, None, None, None, None, None)
    return HeldOutcome(
        yard_id,
        held.train_id,
        scheduled,
        held_to,
        to_datetime(visit.departed, epoch),
        visit.departed - held.departure,
        visit.boxes,
        visit.teu,
        _left_behind(yard, held.train_id),
    )


def late_against_timetable(
    late: dict[str, bool], held: Held, found: HeldOutcome, begin: Minutes, end: Minutes
) -> None:
    """Judge a held train's lateness (`YardOutcome.trains_late`, in place) by its timetable,
    not by its held departure: due in [begin, end), it is late unless it left on time."""
    late.pop(held.train_id, None)
    if begin <= held.departure < end:
        delay = found.departure_delay_min
        late[held.train_id] = delay is None or delay > LATE_AFTER_MIN


def _left_behind(yard: Yard, train_id: str) -> int:
    """Boxes booked on `train_id` by their shippers that did not leave with it."""
    seen: dict[str, Box] = {box.container_id: box for box in yard.boxes.values()}
    for plan in yard.railway.known.values():
        for box in plan.booked:
            seen.setdefault(box.container_id, box)
    return sum(1 for box in seen.values() if box.booked_on == train_id and box.train_id != train_id)


def _float(value: float | int | None) -> float | None:
    return (
        None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
    )
