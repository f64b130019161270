"""The live twin at a past moment: a stored snapshot at or before it, and the archive between.

The worker stores its live twin's snapshot now and then (`streams.twin_restart`); the archive
after one is every admit and advance the worker made since. Restoring the snapshot and feeding
the archive up to the last clock advance at or before `at` gives the twin exactly as the
worker had it when its watermark was there: the yard states it stored then, and the KPI
snapshots it computed (`GET /yards/{yard}/state?at=`, `/yards/{yard}/kpis?at=`, served by
`api.past_views`). Pure: the caller reads the store.
"""

from collections.abc import Iterable, Iterator, Mapping

from corridor.store_contract import ArchiveEntry, ClockAdvance
from stations.spec import StationSpec
from streams.live.reorder import Micros, to_micros
from streams.live.state import LiveSnapshot
from streams.live.twin import LiveTwin


class OutOfReachError(ValueError):
    """`at` is after everything archived: the twin has not been there yet."""


def twin_at(
    snapshot: LiveSnapshot,
    archive_after: Iterable[ArchiveEntry],
    stations: Mapping[str, StationSpec],
    at: Micros,
) -> LiveTwin:
    """The live twin at its last watermark at or before `at` (the snapshot's must be)."""
    if snapshot.watermark is None or snapshot.watermark > at:
        raise ValueError("the snapshot is not at or before the moment asked for")
    live = LiveTwin.restored(snapshot, stations)
    fed = _Until(archive_after, at)
    live.rebuild(fed)
    if not fed.passed and snapshot.watermark != at and live.watermark != at:
        raise OutOfReachError("the archive ends before this moment")
    return live


class _Until:
    """The archive entries up to the last advance at or before `at`; `passed`: a later one
    was seen (so the twin really stayed at its watermark until after `at`)."""

    def __init__(self, entries: Iterable[ArchiveEntry], at: Micros) -> None:
        self.entries, self.at, self.passed = entries, at, False

    def __iter__(self) -> Iterator[ArchiveEntry]:
        pending: list[ArchiveEntry] = []  # admits wait for the advance that releases them
        for entry in self.entries:
            if isinstance(entry, ClockAdvance):
                if to_micros(entry.moment) > self.at:
                    self.passed = True
                    return
                yield from pending
                pending.clear()
                yield entry
            else:
                pending.append(entry)
