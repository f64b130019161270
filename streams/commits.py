"""Store commits, one at a time and in order, overlapped with the next batch while catching up
or after a live KPI snapshot.

Waiting for the store commit is a large share of a catch-up (`docs/performance.md`), part of
it inside the database, where the GIL is released. Here a full batch (the worker is behind) is
committed in a background thread while the worker consumes, decodes and applies the next one.
Live, a batch that carries KPI snapshots is committed in the background too: its snapshots are
already on the KPI topic, and a commit in the foreground (partials, records, views: tens of
milliseconds) delayed the next batch, and so the next KPI moment, by as much (produce -> KPI
latency, `docs/performance.md`). Any other partial batch (the worker is live) is committed at
once, so such a step returns with its outputs stored. Either way, a commit starts only after
the previous one finished, so commits land in batch order and each is one atomic transaction:
a crash loses at most the batches not yet committed, which are read again from the stored
offsets. A commit that fails raises in the worker at its next commit (or `wait`), before
anything later is stored.
"""

from concurrent.futures import Future, ThreadPoolExecutor

from corridor.store_contract import TwinBatch, TwinStore


class OrderedCommits:
    """Commits batches to a `TwinStore` in order, at most one in the background."""

    def __init__(self, store: TwinStore) -> None:
        self.store = store
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-commit")
        self._pending: Future[None] | None = None

    @property
    def pending(self) -> bool:
        """Whether a commit is still running in the background."""
        return self._pending is not None and not self._pending.done()

    def commit(self, batch: TwinBatch, *, background: bool) -> None:
        """Commit `batch` after the previous one: in the background, or before returning."""
        self.wait()
        if background:
            self._pending = self._writer.submit(self.store.commit, batch)
        else:
            self.store.commit(batch)

    def wait(self) -> None:
        """Until the background commit (if any) is stored; re-raises its error."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Wait for the last commit and stop the background thread."""
        try:
            self.wait()
        finally:
            self._writer.shutdown()
