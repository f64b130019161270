"""The worker's event archive, one segment per committed batch.

A segment packs a batch's archive entries, in order, into one MessagePack payload: an event as
the array of its `ArchivedEvent` fields `[event_id, yard, ts, raw, topic, partition, offset]`, a
clock advance as its moment alone; times are MessagePack timestamps (UTC, to the microsecond),
so msgspec converts them, and builds the entries back, in C. One row per batch, not one per
event under a unique index on random event ids, keeps the commit short: see the live-worker
figures in `docs/performance.md` (`benchmarks/bench_worker.py`).

Uniqueness is the worker's: it refuses a repeated `event_id` before archiving (from the live
twin's memory of the last days, rebuilt from the archive on restart, and for an event older than
that window by asking `SqlStore.archived`, which unpacks the segments spanning its time), and it
commits the archive with its offsets, so no message is archived twice. The store keys each
segment by its first entry's key (an event id, or `advance@<moment>`, each archived once), so
committing the same batch twice stores it once.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from operator import attrgetter
from typing import NamedTuple

import msgspec

from corridor.store_contract import ArchivedEvent, ArchiveEntry, ClockAdvance, archive_key

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(list[ArchivedEvent | datetime]).decode
_TS = attrgetter("ts")
_TZINFO = attrgetter("tzinfo")


class Segment(NamedTuple):
    """A batch's archive entries, packed, with what the row shows without unpacking."""

    first_key: str
    entries: int
    events: int
    first_event_ts: datetime | None  # the earliest event time in the segment
    last_event_ts: datetime | None  # the latest
    payload: bytes


class CorruptSegmentError(ValueError):
    """A stored segment does not unpack: the archive was changed behind the worker's back."""


def pack(entries: Sequence[ArchiveEntry]) -> Segment:
    """One segment of `entries` (at least one), in their order.

    The entries are sorted out by comprehensions and C calls mapped over them, not a loop
    that appends: this runs in the store's commit thread, which holds the GIL through its
    Python code beside the worker's main thread (`api.store.upsert`)."""
    if not entries:
        raise ValueError("a segment holds at least one archive entry")
    moments = [entry.moment for entry in entries if isinstance(entry, ClockAdvance)]
    if moments:
        packed: Sequence[ArchivedEvent | datetime] = [
            entry.moment if isinstance(entry, ClockAdvance) else entry for entry in entries
        ]
        times = [entry.ts for entry in entries if not isinstance(entry, ClockAdvance)]
    else:
        packed = entries  # type: ignore[assignment]  # events only
        times = list(map(_TS, entries))
    _refuse_naive(times)
    _refuse_naive(moments)
    return Segment(
        first_key=archive_key(entries[0]),
        entries=len(packed),
        events=len(times),
        first_event_ts=min(times).astimezone(UTC) if times else None,
        last_event_ts=max(times).astimezone(UTC) if times else None,
        payload=_encode(packed),
    )


def unpack(payload: bytes) -> list[ArchiveEntry]:
    """A segment's entries, in their archived order (times in UTC)."""
    try:
        packed = _decode(payload)
    except msgspec.DecodeError as error:
        raise CorruptSegmentError(f"an archive segment does not unpack: {error}") from error
    return [ClockAdvance(item) if isinstance(item, datetime) else item for item in packed]


def _refuse_naive(moments: list[datetime]) -> None:
    """A naive time would come back as another instant: refuse it, as the SQL columns do."""
    if None in map(_TZINFO, moments):
        naive = next(moment for moment in moments if moment.tzinfo is None)
        raise ValueError(f"naive datetime {naive.isoformat()} refused: give an offset")
