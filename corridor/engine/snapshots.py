"""The twin's state as bytes: every yard's snapshot, the epoch and the event counts.

A `TwinSnapshot` is what a worker stores to restart in seconds instead of replaying its
archive, and what a forecast or what-if starts from (`corridor.engine.twin.Twin.fork`). It
is MessagePack (msgspec), not JSON: times that have not happened are NaN, which JSON cannot
carry, and level series are raw float64 bytes. The fields are documented in
`docs/snapshots.md`; a snapshot of another format or version, or corrupt bytes, are refused
with a `SnapshotError` naming what is wrong.
"""

from datetime import datetime
from typing import TypeVar

import msgspec

from stations.snapshot import SnapshotError
from stations.snapshot_format import FORMAT as YARD_FORMAT
from stations.snapshot_format import VERSION as YARD_VERSION
from stations.snapshot_format import YardSnapshot

FORMAT = "corridor-twin-snapshot"
VERSION = 1
T = TypeVar("T")


class CountsState(msgspec.Struct, forbid_unknown_fields=True):
    """`corridor.engine.twin.EventCounts`: rejections by reason, late events, applied events
    by yard and type."""

    rejected: dict[str, int]
    late: int
    per_yard: dict[str, dict[str, int]]


class TwinSnapshot(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The twin at one instant: its yards (by id, in the twin's order), its epoch (ISO 8601,
    None before the first event), the event ids it refuses as repeats (None when its caller
    refuses them), and how many records of each table a live store has drained already."""

    format: str = FORMAT
    version: int = VERSION
    seed: int
    replication: int
    epoch: datetime | None
    yards: dict[str, YardSnapshot]
    counts: CountsState
    seen: list[str] | None
    drained: dict[str, dict[str, int]]


class _Header(msgspec.Struct):
    """The two fields read first, so another version is refused by name, not by a field."""

    format: str = ""
    version: int = 0


def decode_versioned(data: bytes, kind: type[T], what: str, format: str, version: int) -> T:
    """`data` as a `kind` (MessagePack), once its header names `format` and `version`; garbage,
    another format or version, or corrupt bytes raise `SnapshotError` naming `what`. The
    engine's and the live twin's snapshots (`streams.live.state`) are both read so."""
    try:
        header = msgspec.msgpack.decode(data, type=_Header)
    except msgspec.ValidationError as error:  # MessagePack, but no header: something else
        raise SnapshotError(f"not a {what}: {error}") from None
    except msgspec.DecodeError as error:  # truncated or malformed bytes
        raise SnapshotError(f"corrupt {what}: {error}") from None
    if header.format != format:
        raise SnapshotError(f"not a {what} (format {header.format!r}, want {format!r})")
    if header.version != version:
        raise SnapshotError(
            f"{what} version {header.version}, this twin reads version {version} only; "
            "rebuild the state from the archive"
        )
    try:
        return msgspec.msgpack.decode(data, type=kind)
    except msgspec.DecodeError as error:
        raise SnapshotError(f"corrupt {what}: {error}") from None


def encode(snapshot: TwinSnapshot) -> bytes:
    """The snapshot as MessagePack bytes."""
    return msgspec.msgpack.encode(snapshot)


def decode(data: bytes) -> TwinSnapshot:
    """A snapshot from `encode`'s bytes; anything else raises `SnapshotError`."""
    snapshot = decode_versioned(data, TwinSnapshot, "twin snapshot", FORMAT, VERSION)
    for yard in snapshot.yards.values():
        if yard.format != YARD_FORMAT or yard.version != YARD_VERSION:
            raise SnapshotError(
                f"yard snapshot {yard.yard}: format {yard.format!r} version {yard.version}, "
                f"want {YARD_FORMAT!r} version {YARD_VERSION}"
            )
    return snapshot
