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
- a watchdog thread ends the process with `EXIT_STOP_OVERDUE` if the process is not gone
  `stop_within_s` after the stop was asked (`os._exit`: a call blocked in C cannot be
  interrupted otherwise). The store stays consistent whatever is interrupted: each commit is
  one transaction (archive, offsets and outputs together), so an overdue stop is a crash at
  worst, after which a restart resumes from the last commit (`docs/streams.md`, "Exactly
  once").

The bound is the whole exit's, not only `Worker.close`'s: the watchdog is never disarmed in
`corridor worker` (`StopDeadline.exiting`), so the embedded broker's stop and the interpreter's own
exit after the command returns (joining non-daemon threads, exit handlers such as multiprocessing's
join of its children, destructors such as librdkafka's) are bounded too (a worker that stops by
itself starts the clock then: once closed after `--exit-when-idle`, before its close when its broker
is lost). Python's threads stop running once the interpreter begins tearing its modules down, so a
block met there is ended by `faulthandler`'s watchdog, a C thread, `TEARDOWN_MARGIN_S` later: it
writes every thread's stack to stderr and exits with `EXIT_TEARDOWN_OVERDUE`. So from the stop being
asked to the process being gone takes at most `stop_within_s`, or `stop_within_s +
TEARDOWN_MARGIN_S` when the block is in the teardown (`tests/test_worker_stop_exit.py` blocks each
phase). A clean exit within the bound keeps its exit code.

Exit codes of `corridor worker`: 0, stopped with everything delivered; `EXIT_UNDELIVERED`
(75, as for a broker lost: `streams.broker_outage`), stopped and stored, but outputs were not
delivered because the broker did not answer; `EXIT_STOP_OVERDUE` (75 too), the stop did not
finish in time and the process was ended; `EXIT_TEARDOWN_OVERDUE` (1, faulthandler's), the
interpreter's teardown did not finish in time (its state was stored before: restart it as for
75). 75 is sysexits' "temporary failure": the state is stored and a start later resumes it.
"""

import faulthandler
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
EXIT_TEARDOWN_OVERDUE = 1  # faulthandler's `dump_traceback_later(exit=True)` exits with 1
TEARDOWN_MARGIN_S = 2.0  # after stop_within_s, for a block in the interpreter's teardown


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
    """Ends the process with `EXIT_STOP_OVERDUE` if it is still running `within_s` after `stop`
    was set, unless `finished` was called (see the module docstring). With `teardown_margin_s`,
    faulthandler's C watchdog ends it with `EXIT_TEARDOWN_OVERDUE` that much later, for a
    block where no Python thread runs any more (the interpreter's teardown)."""

    def __init__(
        self,
        stop: threading.Event,
        within_s: float,
        *,
        end: Callable[[int], object] = os._exit,
        teardown_margin_s: float | None = None,
    ) -> None:
        self.stop, self.within_s, self.end = stop, within_s, end
        self.teardown_margin_s = teardown_margin_s
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="stop-deadline", daemon=True)
        self.thread.start()

    def exiting(self) -> None:
        """The worker's own work is over and the process exits: the bound holds until it is
        gone, counted from the stop asked (from now when none was: a worker that stopped by
        itself)."""
        self.stop.set()

    def finished(self) -> None:
        """The stop is done and the process goes on (an in-process caller): the watchdogs stand
        down."""
        self.done.set()
        self.stop.set()  # wakes the watchdog, which then sees `done`

    def _watch(self) -> None:
        self.stop.wait()
        if self.teardown_margin_s is not None and not self.done.is_set():
            faulthandler.dump_traceback_later(self.within_s + self.teardown_margin_s, exit=True)
        if self.done.wait(self.within_s):
            if self.teardown_margin_s is not None:
                faulthandler.cancel_dump_traceback_later()
            return
        log.error(
            "the worker was not gone within %g s (stop_within_s) of the stop: exiting with %d; "
            "the store holds the last commit",
            self.within_s,
            EXIT_STOP_OVERDUE,
        )
        for handler in logging.getLogger().handlers:
            handler.flush()
        self.end(EXIT_STOP_OVERDUE)


def bound(worker: Stopping, stop: threading.Event, within_s: float) -> StopDeadline:
    """Make the worker process's exit on `stop` last at most `within_s` (plus
    `TEARDOWN_MARGIN_S` for a block in the interpreter's teardown): its flush stops waiting and
    the watchdogs end what still blocks. Call `exiting` when the run is over, never
    `finished`."""
    worker.sink.stopping = stop
    return StopDeadline(stop, within_s, teardown_margin_s=TEARDOWN_MARGIN_S)


def exit_code(worker: Stopping) -> int:
    """After a stop: 0, or `EXIT_UNDELIVERED` when outputs stayed queued."""
    undelivered = worker.sink.undelivered
    if undelivered:
        log.warning("stopped with %d outputs not delivered (the store has them)", undelivered)
        return EXIT_UNDELIVERED
    return 0
