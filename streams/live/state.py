"""The live twin's state as data: the engine's snapshot plus the buffer, watermark and ids.

`LiveTwin.snapshot()` gives a `LiveSnapshot`: the twin's snapshot (`corridor.engine.snapshots`),
the events held in the reorder buffer (raw bytes, where they came from, their place in the
buffer's order), the watermark and newest event time, and the accepted event ids that refuse
repeats, by the day they may be forgotten. `LiveTwin.restored` loads it: fed the same admits
and advances afterwards, it gives the records of a live twin never stopped. Encoded as
MessagePack like the engine's snapshot; the format is in `docs/snapshots.md` ("The live twin").

Version 2 dropped version 1's `accepted`, every remembered id listed a second time beside
`ids_by_day` (the same ids: the twin adds each to both and forgets whole days from both). A
version 1 snapshot is still read (`decode`), and refused if its two lists disagree: a
snapshot is a cache of the archive, which the worker then replays instead.
"""

import itertools

import msgspec

from corridor.engine.snapshots import TwinSnapshot, decode_versioned
from stations.snapshot import SnapshotError as SnapshotError  # what `decode` raises

FORMAT = "corridor-live-twin-snapshot"
VERSION = 2
_WHAT = "live twin snapshot"


class HeldState(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    """An event waiting in the reorder buffer: its yard, time (µs since 1970), rank, arrival
    number, raw bytes, and origin (topic, partition, offset, key, headers; topic None: none).
    Header values are bytes (a text value as UTF-8, as Kafka carries it)."""

    yard: str
    ts: int
    rank: int
    arrival: int
    raw: bytes
    topic: str | None
    partition: int
    offset: int
    key: bytes | None
    headers: list[tuple[str, bytes | None]] | None


class AlertsState(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    """The reefer alerts' memory (`streams.live.reefer_alerts`): their bound and grid step, and
    per yard the last boundary decided (µs) and the reefers under the bound there (sorted), so a
    restored worker repeats no alert and misses none."""

    bound_min: float
    every: int
    decided: list[tuple[str, int]]
    under: list[tuple[str, list[str]]]


class LiveSnapshot(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The live twin at a watermark (see the module docstring)."""

    format: str = FORMAT
    version: int = VERSION
    seed: int
    twin: TwinSnapshot | None
    watermark: int | None
    newest: int | None
    reordered: int
    ids_by_day: list[tuple[int, list[str]]]  # accepted ids by the day they may be forgotten
    forgotten_before: int | None  # microseconds: the horizon of the last forgetting
    retention: int  # microseconds: how long accepted ids and drained records are kept
    buffer_yards: list[str]
    arrivals: int
    held: list[HeldState]
    alerts: AlertsState | None = None  # None: the twin decides no reefer alerts

    def accepted_ids(self) -> set[str]:
        """Every accepted id still remembered (those of `ids_by_day`)."""
        return set(itertools.chain.from_iterable(ids for _, ids in self.ids_by_day))


def encode(snapshot: LiveSnapshot) -> bytes:
    """The live twin's snapshot as MessagePack bytes."""
    return msgspec.msgpack.encode(snapshot)


class LiveSnapshotV1(LiveSnapshot, kw_only=True):
    """Version 1: the same, with the accepted ids listed once more (`accepted`)."""

    accepted: list[str]


def decode(data: bytes) -> LiveSnapshot:
    """A live snapshot from `encode`'s bytes (or version 1's); anything else raises
    `SnapshotError`."""
    try:
        return decode_versioned(data, LiveSnapshot, _WHAT, FORMAT, VERSION)
    except SnapshotError:
        if _version(data) != 1:
            raise
    return _from_version_1(decode_versioned(data, LiveSnapshotV1, _WHAT, FORMAT, 1))


class _Version(msgspec.Struct):
    version: int = 0


def _version(data: bytes) -> int | None:
    try:
        return msgspec.msgpack.decode(data, type=_Version).version
    except msgspec.MsgspecError:
        return None


def _from_version_1(old: LiveSnapshotV1) -> LiveSnapshot:
    """Version 1's snapshot as version 2's, if its two lists of ids hold the same ids."""
    fields = msgspec.structs.asdict(old)
    accepted = set(fields.pop("accepted"))
    snapshot = LiveSnapshot(**{**fields, "version": VERSION})
    if accepted != snapshot.accepted_ids():
        raise SnapshotError(
            f"{_WHAT} version 1: its accepted ids ({len(accepted)}) are not those by day"
            f" ({len(snapshot.accepted_ids())}); rebuild the state from the archive"
        )
    return snapshot
