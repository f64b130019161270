"""The store's commits in a writer process of the worker's own (`store_writer = "process"`).

A store commit is Python work (the archive segment packed, the record rows and the outputs
checked, SQLAlchemy's statements built) beside the database's own: in a thread of the worker
it holds the worker's GIL in turn with the engine, so on two cores the commit's CPU adds to the
engine's instead of running beside it (`docs/performance.md`, "the ratio's bound on 2 cores").
`ProcessCommits` does what `streams.commits.OrderedCommits` does, in a spawned child process
that opens the same store (`CORRIDOR_KAFKA_STORE_WRITER=process`; small live batches aside,
see the class): the worker encodes each batch (`streams.batch_wire`: C calls over its bulk)
and sends it down a pipe; the writer commits it in one transaction, as the thread did, and
answers with the outcome. One batch at a time and in order: a commit is sent only once the
previous one's outcome is in, so the guarantees of `streams.commits` hold unchanged (offsets
in the same transaction as the archive and outputs, fencing checked inside it, a foreground
commit stored before the step returns, a failed commit raised in the worker at its next
commit or wait).

The writer lives and dies with the worker. It ignores SIGINT and SIGTERM (the worker's to
handle: it finishes, commits last, then closes the writer) and ends when the worker closes it
or when the worker is gone: a thread watches the parent's sentinel (a pipe the parent holds,
closed by the kernel when the parent dies, however it dies) and exits the process at once,
mid-transaction or not. So no commit lands after the worker died, when a restarted worker may
already have read the stored offsets (a transaction cut off is rolled back by the database:
crash equivalence). A writer that dies first is a `StoreWriterError` at the worker's next
commit or wait: that batch and any after it are not stored, and the worker stops (a restart
resumes from the stored offsets, as after a crash).
"""

import atexit
import contextlib
import logging
import multiprocessing
import os
import pickle
import shutil
import signal
import tempfile
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection

from corridor.runtime import orphan_watch, tune_gc_for_a_long_lived_twin
from corridor.store_contract import ReopenableStore, StoreOpener, TwinBatch, TwinStore
from streams import batch_wire
from streams.commits import OrderedCommits

log = logging.getLogger(__name__)

STOP = b""  # the worker's last message: close the store and exit
CLOSE_WITHIN_S = 30.0  # after the last commit, the writer's time to close its store and exit
SHARED_MEMORY = "/dev/shm"  # where the batches are spooled (else the temporary directory)
LOCAL_BELOW = 1_000  # archive entries: a smaller batch is committed in the worker process


def commits_for(
    store: TwinStore, writer: str, writer_from: int = LOCAL_BELOW
) -> "OrderedCommits | ProcessCommits":
    """The worker's commits: in a writer process when asked (`writer` "process") and the store
    can be opened from one, else in a thread of the worker (the in-memory stores); batches of
    fewer than `writer_from` archive entries in the worker all the same (`ProcessCommits`)."""
    if writer == "process" and isinstance(store, ReopenableStore):
        opener = store.reopener()
        if opener is not None:
            return ProcessCommits(opener, store, writer_from=writer_from)
    return OrderedCommits(store)


class StoreWriterError(RuntimeError):
    """The writer process is gone (or answered nonsense): the batch in flight is not stored."""


class ProcessCommits:
    """`OrderedCommits`' interface, the commits done by a writer process (module docstring).

    The worker's thread encodes a batch and writes it to a spool file (one `write`, to shared
    memory where there is `/dev/shm`); a thread of its own ("store-writer-pipe") sends the
    file's name down the pipe and waits for the answer. Sent down the pipe itself, a batch of
    a few MB went in some twenty chunks, the sending thread taking the GIL from the worker's
    loop for each, a scheduling delay each on a loaded machine. A small batch (a live
    one: fewer than `writer_from` archive entries) is committed in this process, as by
    `OrderedCommits`, once the writer's last commit is in: for it a round trip to another
    process, woken by the scheduler twice, cost more wall time than the commit (the latency
    section of `benchmarks/bench_worker.py`: p99 doubled on a loaded machine)."""

    def __init__(
        self, opener: StoreOpener, store: TwinStore, *, writer_from: int = LOCAL_BELOW
    ) -> None:
        self.writer_from = writer_from
        self._local = OrderedCommits(store)  # the small batches', on this process's connection
        self._not_kept = opener.records_not_kept  # not sent: the store drops them
        shared = SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) else None
        self.spool = tempfile.mkdtemp(prefix="corridor-store-writer-", dir=shared)  # a dir
        self._batch_file = os.path.join(self.spool, "batch")  # one at a time: reused
        context = multiprocessing.get_context("spawn")  # the worker has threads: never fork
        self._connection, child = context.Pipe(duplex=True)
        self.process = context.Process(
            target=serve,
            args=(child, opener.open, self.spool),
            name="corridor-store-writer",
            daemon=True,
        )
        self.process.start()
        child.close()
        log.info("store writer process %d started", self.process.pid)
        self._pipe = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer-pipe")
        self._opening = self._pipe.submit(self._answer)  # before any batch goes down the pipe
        self._pending: Future[None] | None = None
        self._closed = False
        # A worker that exits without `close` (an error escaped its loop) must not hang in
        # multiprocessing's exit handler, which joins the writer (deaf to SIGTERM, waiting for
        # a batch): at exit the pipe is closed first, and the writer ends its last commit and
        # exits, as a thread's last commit would finish before the interpreter's exit.
        atexit.register(self._connection.close)
        self.handover_s = 0.0  # the worker's CPU time encoding batches (benchmarks)

    def opened(self) -> None:
        """Until the writer has opened the store (a second or two after it started); raises
        if it could not. Commits need not wait for it: small ones do not, large ones queue."""
        self._opening.result()

    @property
    def pending(self) -> bool:
        """Whether a commit is still under way."""
        in_writer = self._pending is not None and not self._pending.done()
        return in_writer or self._local.pending

    def commit(self, batch: TwinBatch, *, background: bool) -> None:
        """Commit `batch` after the previous one: in the background, or before returning."""
        self.wait()
        if len(batch.archived) < self.writer_from:
            self._local.commit(batch, background=background)
            return
        began = time.thread_time()
        data = batch_wire.encode(batch, self._not_kept)
        with open(self._batch_file, "wb") as spool:
            spool.write(data)
        self.handover_s += time.thread_time() - began
        self._pending = self._pipe.submit(self._round_trip, self._batch_file.encode())
        if not background:
            self.wait()

    def wait(self) -> None:
        """Until the last commit is stored; re-raises its error (or the writer's end)."""
        self._local.wait()
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Wait for the last commit, then stop the writer (closing its store)."""
        if self._closed:
            return
        self._closed = True
        try:
            self.wait()
        finally:
            self._stop()

    def _round_trip(self, data: bytes) -> None:
        self._opening.result()  # done (the pipe's thread ran it first): raises if it failed
        try:
            self._connection.send_bytes(data)
        except OSError as error:
            raise self._gone("before it was sent a batch") from error
        self._answer()

    def _answer(self) -> None:
        """The writer's answer to the last batch (or to its opening): raised if an error."""
        try:
            answer = self._connection.recv_bytes()
        except (EOFError, OSError) as error:
            raise self._gone("before it answered: the batch sent last is not stored") from error
        outcome = pickle.loads(answer)
        if isinstance(outcome, BaseException):
            raise outcome

    def _stop(self) -> None:
        self._local.close()
        self._pipe.shutdown()
        with contextlib.suppress(OSError):  # gone already: `wait` said so if a commit was lost
            self._connection.send_bytes(STOP)
        self.process.join(CLOSE_WITHIN_S)
        if self.process.is_alive():
            log.error("store writer %d did not exit: killed", self.process.pid)
            self.process.kill()
            self.process.join()
        self._connection.close()
        shutil.rmtree(self.spool, ignore_errors=True)

    def _gone(self, when: str) -> StoreWriterError:
        self.process.join(1.0)
        code = self.process.exitcode
        how = "still running" if code is None else f"exit code {code}"
        return StoreWriterError(f"the store writer process {self.process.pid} ended ({how}) {when}")


def serve(connection: Connection, open_store: Callable[[], TwinStore], spool: str) -> None:
    """The writer process's body: open the store, then commit each batch received, in order
    (a message names the spool file holding the batch)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker stops first, then closes us
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # A spawned process starts with the default collector: decoding a batch (tens of
    # thousands of tuples) then ran some 60 collections a batch, each scanning the imported
    # modules' objects, a third of the writer's time (`bench_store_commit.py`,
    # `docs/performance.md`). Tuned as the worker is: cycles, if any, still collected.
    tune_gc_for_a_long_lived_twin()
    _exit_with_parent(spool)
    try:
        store = open_store()
    except Exception as error:
        shutil.rmtree(spool, ignore_errors=True)  # the worker's too, but it may have exited
        connection.send_bytes(_outcome(error))
        return
    connection.send_bytes(_outcome(None))
    try:
        while name := connection.recv_bytes():
            try:
                with open(name, "rb") as spool_file:
                    data = spool_file.read()
                store.commit(batch_wire.decode(data))
                outcome = _outcome(None)
            except Exception as error:  # the worker's to raise, at its next commit or wait
                outcome = _outcome(error)
            connection.send_bytes(outcome)
    except EOFError:
        pass  # the worker closed its end without a word: nothing more to commit
    finally:
        shutil.rmtree(spool, ignore_errors=True)  # the worker's too, but it may have exited
        close = getattr(store, "close", None)
        if close is not None:
            close()


def _exit_with_parent(spool: str) -> None:
    """Exit the moment the worker is gone, whatever this process is doing (module docstring),
    removing the spool (the worker cannot); an open transaction is rolled back, not stored."""
    watch = orphan_watch("worker-watch", lambda: shutil.rmtree(spool, ignore_errors=True))
    if watch is not None:
        watch.start()


def _outcome(error: Exception | None) -> bytes:
    """The answer to a commit: None, or its error with the writer's traceback as a note."""
    if error is None:
        return pickle.dumps(None)
    error.add_note("in the store writer process:\n" + "".join(traceback.format_exception(error)))
    try:
        data = pickle.dumps(error, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.loads(data)  # some errors pickle but do not unpickle (their own __init__)
    except Exception:  # an error that does not cross: its text and the traceback
        text = f"{type(error).__name__}: {error}"
        substitute = StoreWriterError(f"the store commit failed: {text}")
        substitute.__notes__ = list(getattr(error, "__notes__", []))
        return pickle.dumps(substitute)
    return data
