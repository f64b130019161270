"""Driving a live twin the way the worker does, stopping at its KPI snapshot boundaries.

Each event is admitted with its encoded bytes (as read from a topic); every 500 events the
watermark moves to the newest event time less `LATENESS`, stopping on the way at each snapshot
boundary, a multiple of `EVERY` (7 h 15 min: not a divisor of a day, so the boundaries fall at
every hour of the day in turn), for the test to check the twin there.
"""

from collections.abc import Iterable, Iterator
from datetime import timedelta

from corridor.contract.events import Event, encode_event
from streams.live.reorder import from_micros, to_micros
from streams.live.twin import LiveTwin

LATENESS = to_micros(from_micros(0) + timedelta(minutes=5))
EVERY = to_micros(from_micros(0) + timedelta(hours=7, minutes=15))


def snapshot_boundaries(live: LiveTwin, events: Iterable[Event]) -> Iterator[int]:
    """Drive `live` through `events`, yielding each boundary (µs since the Unix epoch) with the
    twin advanced to it and no further; the drive goes on when the caller asks for the next."""
    for index, event in enumerate(events, 1):
        live.admit(event, encode_event(event))
        if index % 500 or live.newest is None:
            continue
        target = live.newest - LATENESS
        boundary = target - target % EVERY
        if live.watermark is not None and boundary > live.watermark:
            live.advance(boundary)
            yield boundary
        live.advance(target)
