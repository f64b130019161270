"""The worker's event archive, one segment per committed batch.

A segment packs a batch's archive entries, in order, into one MessagePack payload: an event as
`[event_id, yard, ts, raw, topic, partition, offset]`, a clock advance as its moment alone
(times in integer microseconds since 1970, UTC). One row per batch instead of one per event:
the row-per-event archive, with a unique index on random event ids, was more than half of the
store commit while a worker caught up.

Uniqueness is the worker's: it refuses a repeated `event_id` before archiving (and rebuilds that
memory from the archive on restart), and it commits the archive with its offsets, so no message
is archived twice. The store keys each segment by its first entry's key (an event id, or
`advance@<moment>`, each archived once), so committing the same batch twice stores it once.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import msgspec

from corridor.clock import in_zone_of
from corridor.outputs import ArchivedEvent, ArchiveEntry, ClockAdvance

_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_encode = msgspec.msgpack.Encoder().encode
PackedEvent = tuple[str, str, int, bytes, str, int, int]
_decode = msgspec.msgpack.Decoder(list[PackedEvent | int]).decode


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


def entry_key(entry: ArchiveEntry) -> str:
    """An entry's key in the archive: its event id, or `advance@<UTC moment>`."""
    if isinstance(entry, ClockAdvance):
        return f"advance@{entry.moment.astimezone(UTC).isoformat()}"
    return entry.event_id


def pack(entries: Sequence[ArchiveEntry]) -> Segment:
    """One segment of `entries` (at least one), in their order."""
    if not entries:
        raise ValueError("a segment holds at least one archive entry")
    packed: list[PackedEvent | int] = []
    times: list[int] = []
    for entry in entries:
        if isinstance(entry, ClockAdvance):
            packed.append(_micros(entry.moment))
            continue
        ts = _micros(entry.ts)
        times.append(ts)
        packed.append(
            (entry.event_id, entry.yard, ts, entry.raw, entry.topic, entry.partition, entry.offset)
        )
    return Segment(
        first_key=entry_key(entries[0]),
        entries=len(packed),
        events=len(times),
        first_event_ts=_moment(min(times)) if times else None,
        last_event_ts=_moment(max(times)) if times else None,
        payload=_encode(packed),
    )


def unpack(payload: bytes) -> list[ArchiveEntry]:
    """A segment's entries, in their archived order."""
    try:
        packed = _decode(payload)
        return [_entry(item) for item in packed]
    except (msgspec.DecodeError, OverflowError) as error:
        raise CorruptSegmentError(f"an archive segment does not unpack: {error}") from error


def _entry(item: PackedEvent | int) -> ArchiveEntry:
    if isinstance(item, int):
        return ClockAdvance(_moment(item))
    event_id, yard, ts, raw, topic, partition, offset = item
    return ArchivedEvent(event_id, yard, _moment(ts), raw, topic, partition, offset)


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()} refused: give an offset")
    return (moment - in_zone_of(moment, _UNIX_EPOCH)) // _MICROSECOND


def _moment(micros: int) -> datetime:
    return _UNIX_EPOCH + timedelta(microseconds=micros)
