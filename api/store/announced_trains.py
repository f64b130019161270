"""The departures a yard had announced at a moment and that were not yet due: what a what-if
may hold (`corridor.forecast.holds`), read from the worker's archive.

A departure is announced (`train.scheduled`) at most `ANNOUNCED_AHEAD` before it leaves, so the
segments reaching into [at - ANNOUNCED_AHEAD, at) hold every announcement of a train due after
`at`; only the entries that are announcements are decoded.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from api.store import archive_segments
from api.store import tables as m
from api.store.tables import table_of
from corridor.contract.events import TrainScheduled, decode_event
from corridor.forecast.start_state import ANNOUNCED_AHEAD
from corridor.store_contract import ArchivedEvent

_MARK = b"train.scheduled"


@dataclass(frozen=True, slots=True)
class Announced:
    """A departure as announced: its times."""

    train_id: str
    departure: datetime
    cutoff: datetime


def announced_departures(engine: Engine, yard: str, at: datetime) -> dict[str, Announced]:
    """The departures of `yard` announced before `at` and due to leave after it, by train id."""
    since = at - ANNOUNCED_AHEAD
    segments = table_of(m.ArchiveSegment)
    query = (
        select(segments.c.payload)
        .where(segments.c.last_event_ts >= since, segments.c.first_event_ts < at)
        .order_by(segments.c.seq)
    )
    found: dict[str, Announced] = {}
    with engine.connect() as connection:
        for (payload,) in connection.execute(query):
            for entry in archive_segments.unpack(bytes(payload)):
                if not isinstance(entry, ArchivedEvent) or entry.yard != yard:
                    continue
                if not since <= entry.ts < at or _MARK not in entry.raw:
                    continue
                event = decode_event(entry.raw)
                if isinstance(event, TrainScheduled) and event.departure > at:
                    found.setdefault(
                        event.train_id, Announced(event.train_id, event.departure, event.cutoff)
                    )
    return found
