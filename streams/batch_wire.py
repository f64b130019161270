"""A `TwinBatch` as bytes, for the store's writer process (`streams.store_writer`).

The worker makes these bytes on its own GIL, so they must be cheap to make: the bulk of a
catch-up batch (its archive entries, some 10,000, and its records, several per event) is
MessagePack by one msgspec call each, C over plain tuples (a `NamedTuple` is an array, a time
a MessagePack timestamp); the rest (snapshots, partials, yard views, dead letters: tens of
objects) is pickled. Pickling the whole batch cost about eight times as much, most of it
Python calls per archive entry (`ArchivedEvent.__getnewargs__`) and per record
(`docs/performance.md`). Records the store does not keep (`StoreOpener.records_not_kept`:
lifts, readings, levels, half of a batch's records) are not sent at all.

What the writer gets back is the batch the store would have been given, but for two things
that do not change what it stores: times come back in UTC (the same instants; the store keeps
UTC), and records as plain tuples of their values (the store writes values in field order).
"""

import dataclasses
import pickle
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import msgspec

from corridor.store_contract import ArchivedEvent, ArchiveEntry, ClockAdvance, TwinBatch

_encode = msgspec.msgpack.Encoder().encode
_decode_entries = msgspec.msgpack.Decoder(list[tuple[Any, ...]]).decode
_decode_records = msgspec.msgpack.Decoder(dict[str, list[tuple[Any, ...]]]).decode


def encode(batch: TwinBatch, records_not_kept: Iterable[str] = ()) -> bytes:
    """The batch as bytes (the module docstring), less the records named in `records_not_kept`."""
    dropped = frozenset(records_not_kept)
    records = {name: rows for name, rows in batch.records.items() if name not in dropped}
    rest = dataclasses.replace(batch, archived=[], records={})
    try:
        bulk: tuple[bytes, bytes] | tuple[list[ArchiveEntry], dict[str, Any]] = (
            _encode(batch.archived),
            _encode(records),
        )
    except (TypeError, ValueError, OverflowError):  # a value msgspec refuses: pickled, slower
        bulk = (batch.archived, records)
    return pickle.dumps((rest, *bulk), protocol=pickle.HIGHEST_PROTOCOL)


def decode(data: bytes) -> TwinBatch:
    """The batch from `encode`'s bytes."""
    rest, archived, records = pickle.loads(data)
    batch: TwinBatch = rest
    if isinstance(archived, bytes):
        batch.archived = [_entry(item) for item in _decode_entries(archived)]
        batch.records = _decode_records(records)
    else:
        batch.archived, batch.records = archived, records
    return batch


def _entry(item: tuple[Any, ...]) -> ArchiveEntry:
    """An archive entry from its array: a clock advance has its moment alone."""
    if len(item) == 1:
        moment: datetime = item[0]
        return ClockAdvance(moment)
    return ArchivedEvent(*item)
