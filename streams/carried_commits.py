"""Live batches carried past a store commit that is still running, so the loop does not wait.

The worker's commits run one at a time and in order (`streams.commits`): a batch with KPI
snapshots is committed in the background, and the next step's commit used to wait for it
first. A store commit now and then takes far longer than a step: SQLite's first WAL checkpoint
(the file grown by the checkpointed pages, then synced) took 180-470 ms on a loaded machine,
once in every 20 s latency run, and the loop stood still meanwhile, so events produced then
waited for it before they were even consumed (`benchmarks/latency_parts.py`: the slowest 1 %
of events had 140-440 ms of commit waits in their latency). Here a live batch that finds a
commit still running is held instead (`carry=True`), and the next batches are merged into it
(`merged`) until the running commit is done; then the held batch is committed as one. The
loop goes on consuming, applying and publishing KPI snapshots (which are flushed to their
topic before their batch is committed, as always: at least once).

A merged batch is what committing its parts one after the other would have stored: the
archive, records, snapshots, partials and dead letters in order, the offsets and the views as
the later part has them, the flags added up. A twin snapshot is stored after its commit's
archive segment (`api.store.twin_snapshots`), so a batch carrying one is never held or merged
into (what came after it would be restored as if before it): it is committed at once, after
the running commit, and the worker puts none on a batch while a commit is running
(`Worker._finish`), so that such a wait stays rare. Crash safety is unchanged: one atomic
transaction per commit, offsets with their outputs; a crash loses what was not committed,
which is read again from the stored offsets.
"""

from dataclasses import fields, replace
from typing import Protocol

from corridor.store_contract import TwinBatch


class Commits(Protocol):
    """The commits the worker hands its batches to (`streams.commits.OrderedCommits`)."""

    @property
    def pending(self) -> bool: ...
    def commit(self, batch: TwinBatch, *, background: bool) -> None: ...
    def wait(self) -> None: ...
    def close(self) -> None: ...


class CarriedCommits:
    """`Commits` that hold a live batch (merging later ones) while a commit is running."""

    def __init__(self, inner: Commits) -> None:
        self.inner = inner
        self.held: TwinBatch | None = None
        self.carried = 0  # batches held rather than handed over at once

    @property
    def pending(self) -> bool:
        """Whether a commit is running or a batch is held."""
        return self.held is not None or self.inner.pending

    @property
    def holding(self) -> bool:
        """Whether a batch is held (the next step commits it, even with nothing new)."""
        return self.held is not None

    def commit(self, batch: TwinBatch, *, background: bool, carry: bool = False) -> None:
        """Commit `batch`, merged after the held one (then in the background: it has waited
        already), as `inner` would; or, with `carry` and a commit still running, hold it. A
        batch with a twin snapshot is never held (the module docstring)."""
        if self.held is not None:
            batch, self.held, background = merged(self.held, batch), None, True
        if carry and batch.twin_snapshot is None and self.inner.pending:
            self.held = batch
            self.carried += 1
            return
        self.inner.commit(batch, background=background)

    def wait(self) -> None:
        """Until everything handed over is stored, the held batch included."""
        held, self.held = self.held, None
        if held is not None:
            self.inner.commit(held, background=False)
        self.inner.wait()

    def close(self) -> None:
        """Store the held batch and wait for the last commit, then stop committing."""
        try:
            self.wait()
        finally:
            self.inner.close()


_JOINED = ("archived", "snapshots", "partials", "dead_letters")  # in order: earlier, later
_LATER = ("group", "lag", "yards_ahead", "twin_snapshot", "fence")  # as the later batch has it
_VIEWS = ("yard_states", "reefers", "boxes", "yards")  # complete: the later's, if it has any
_ADDED = ("offsets", "records", "flags")  # merged key by key (`merged`)
RULES = frozenset(_JOINED + _LATER + _VIEWS + _ADDED)


def merged(earlier: TwinBatch, later: TwinBatch) -> TwinBatch:
    """One batch that stores what committing `earlier` and then `later` would store."""
    if earlier.twin_snapshot is not None:
        raise ValueError("a batch with a twin snapshot is committed before anything after it")
    unknown = {item.name for item in fields(TwinBatch)} - RULES
    if unknown:  # a new field needs its rule here before batches can be merged
        raise TypeError(f"no merge rule for TwinBatch fields {sorted(unknown)}")
    changes: dict[str, object] = {
        name: [*getattr(earlier, name), *getattr(later, name)] for name in _JOINED
    }
    for name in _VIEWS:
        if not getattr(later, name):
            changes[name] = list(getattr(earlier, name))
    records = {name: list(rows) for name, rows in earlier.records.items()}
    for name, rows in later.records.items():
        records[name] = [*records.get(name, []), *rows]
    flags = dict(earlier.flags)
    for kind, count in later.flags.items():
        flags[kind] = flags.get(kind, 0) + count
    changes.update(offsets={**earlier.offsets, **later.offsets}, records=records, flags=flags)
    return replace(later, **changes)  # type: ignore[arg-type]
