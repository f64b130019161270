"""A worker's bounded stop: gone within `stop_within_s` of SIGTERM or SIGINT, broker or not.

`corridor worker` stops on SIGTERM or SIGINT (or when its starting process is gone,
`streams.parent_watch`) by finishing its batch, storing its last commit and its twin's
snapshot, flushing its outputs and closing its consumer (`Worker.close`). Without a broker two
of these could take long: the flush of a batch's outputs waits up to `flush_timeout_s` (30 s)
for a broker that does not come back, and librdkafka's own calls (a group consumer's close, a
metadata request) block in C for as long as they like; a worker rebuilding a large archive
notices the signal only when the rebuild is done. Leaked workers were seen to outlive SIGTERM
by 15 s and more. So once a stop is asked:

- the output flush stops waiting (`OutputSink.stopping`): one short flush, and what is not
  delivered stays queued and is counted. The store has every output of its commits: those not
  delivered miss from the KPI, alert and dead-letter topics only;
- a watchdog thread ends the process with `EXIT_STOP_OVERDUE` if the stop has not finished
  `stop_within_s` after it was asked (`os._exit`: a call blocked in C cannot be interrupted
  otherwise). The store stays consistent whatever is interrupted: each commit is one
  transaction (archive, offsets and outputs together), so an overdue stop is a crash at worst,
  after which a restart resumes from the last commit (`docs/streams.md`, "Exactly once").

Exit codes of `corridor worker`: 0, stopped with everything delivered; `EXIT_UNDELIVERED`
(75, as for a broker lost: `streams.broker_outage`), stopped and stored, but outputs were not
delivered because the broker did not answer; `EXIT_STOP_OVERDUE` (75 too), the stop did not
finish in time and the process was ended. 75 is sysexits' "temporary failure": the state is
stored and a start later resumes it.
"""

import logging
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Protocol

from streams.broker_outage import EXIT_BROKER_LOST

log = logging.getLogger(__name__)

EXIT_UNDELIVERED = EXIT_BROKER_LOST
EXIT_STOP_OVERDUE = EXIT_BROKER_LOST


class Stopping(Protocol):
    """What a bounded stop needs of the worker: its output sink."""

    @property
    def sink(self) -> "StoppableSink": ...


class StoppableSink(Protocol):
    stopping: threading.Event | None

    @property
    def undelivered(self) -> int: ...


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT (the current batch is finished, then the worker
    stops)."""
    stop = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: finishing the current batch", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop


class StopDeadline:
    """Ends the process with `EXIT_STOP_OVERDUE` if `finished` is not called within
    `within_s` of `stop` being set (see the module docstring)."""

    def __init__(
        self,
        stop: threading.Event,
        within_s: float,
        *,
        end: Callable[[int], object] = os._exit,
    ) -> None:
        self.stop, self.within_s, self.end = stop, within_s, end
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="stop-deadline", daemon=True)
        self.thread.start()

    def finished(self) -> None:
        """The stop is done (or the worker ended otherwise): the watchdog stands down."""
        self.done.set()
        self.stop.set()  # wakes the watchdog, which then sees `done`

    def _watch(self) -> None:
        self.stop.wait()
        if self.done.wait(self.within_s):
            return
        log.error(
            "the stop did not finish within %g s (stop_within_s): exiting with %d; the store "
            "holds the last commit",
            self.within_s,
            EXIT_STOP_OVERDUE,
        )
        for handler in logging.getLogger().handlers:
            handler.flush()
        self.end(EXIT_STOP_OVERDUE)


def bound(worker: Stopping, stop: threading.Event, within_s: float) -> StopDeadline:
    """Make the worker's stop on `stop` last at most `within_s`: its flush stops waiting and a
    watchdog ends what still blocks."""
    worker.sink.stopping = stop
    return StopDeadline(stop, within_s)


def exit_code(worker: Stopping) -> int:
    """After a stop: 0, or `EXIT_UNDELIVERED` when outputs stayed queued."""
    undelivered = worker.sink.undelivered
    if undelivered:
        log.warning("stopped with %d outputs not delivered (the store has them)", undelivered)
        return EXIT_UNDELIVERED
    return 0
