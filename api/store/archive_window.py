"""The recent archive: the events the live worker accepted in a window of event time.

A forecast (`api.forecasts`) rebuilds the yards by replaying the last days of what the worker
accepted, not the whole archive. Each segment row carries its earliest and latest event time,
so only the segments that reach into the window are read and unpacked.
"""

from datetime import datetime

from sqlalchemy import Engine, func, select

from api.store import archive_segments
from api.store import tables as m
from api.store.tables import table_of
from corridor.contract.events import DecodeError, Event, decode_event
from corridor.store_contract import ArchivedEvent


def newest_event_time(engine: Engine) -> datetime | None:
    """The latest event time in the archive (None: nothing archived yet)."""
    table = table_of(m.ArchiveSegment)
    with engine.connect() as connection:
        newest: datetime | None = connection.execute(
            select(func.max(table.c.last_event_ts))
        ).scalar_one()
    return newest


def events_between(engine: Engine, since: datetime, until: datetime) -> list[Event]:
    """The archived events stamped in [since, until), decoded, in archive order."""
    table = table_of(m.ArchiveSegment)
    query = (
        select(table.c.payload)
        .where(table.c.last_event_ts >= since, table.c.first_event_ts < until)
        .order_by(table.c.seq)
    )
    events: list[Event] = []
    with engine.connect() as connection:
        for (payload,) in connection.execute(query):
            for entry in archive_segments.unpack(bytes(payload)):
                if isinstance(entry, ArchivedEvent) and since <= entry.ts < until:
                    event = decode_event(entry.raw)
                    if not isinstance(event, DecodeError):  # accepted once, so never
                        events.append(event)
    return events
