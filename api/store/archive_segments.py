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
from typing import NamedTuple

import msgspec

from corridor.store_contract import ArchivedEvent, ArchiveEntry, ClockAdvance, archive_key

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(list[ArchivedEvent | datetime]).decode


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
    """One segment of `entries` (at least one), in their order."""
    if not entries:
        raise ValueError("a segment holds at least one archive entry")
    packed: list[ArchivedEvent | datetime] = []
    times: list[datetime] = []
    for entry in entries:
        if isinstance(entry, ClockAdvance):
            packed.append(_aware(entry.moment))
        else:
            times.append(_aware(entry.ts))
            packed.append(entry)
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


def _aware(moment: datetime) -> datetime:
    """A naive time would come back as another instant: refuse it, as the SQL columns do."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()} refused: give an offset")
    return moment
