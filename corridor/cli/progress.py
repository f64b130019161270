"""Progress bars for the long phases of a command: generation, replay, replications, writing.

A bar (tqdm, on stderr) is shown only when stderr is a terminal and the command is not
`--quiet`: a pipe, a log file or CI gets no control characters. Each phase is one bar that
disappears when it ends, so the summary that follows stays readable. A phase reports an
absolute position (`update(done)`), which is what the twin's and the generator's progress
callbacks give.

    bars = Bars(quiet=args.quiet)
    with bars.phase("replications", total=n, unit="run") as update:
        for done, result in enumerate(results, 1):
            update(done)
"""

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TextIO

from tqdm import tqdm

Update = Callable[[int], None]
"""Report that `done` units of the phase are finished (an absolute count, not a step)."""


class Bars:
    """Where a command's phases show their progress: a terminal, or nowhere."""

    def __init__(self, *, quiet: bool, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.shown = not quiet and _is_terminal(self.stream)

    @contextmanager
    def phase(self, name: str, *, total: int | None, unit: str) -> Iterator[Update]:
        """A bar named `name` over `total` units while the block runs (a no-op if not shown)."""
        if not self.shown:
            yield _ignore
            return
        bar = tqdm(total=total, desc=name, unit=unit, file=self.stream, leave=False)
        try:
            yield lambda done: bar.update(done - bar.n)
        finally:
            bar.close()

    def replay(self, name: str = "replaying") -> "ReplayPhase":
        """A phase whose size is known only when the replay starts (`corridor.jobs.ProgressFor`)."""
        return ReplayPhase(self, name)


class ReplayPhase:
    """A replay's bar: opened by the job with the number of events, closed by the `with`."""

    def __init__(self, bars: Bars, name: str) -> None:
        self.bars = bars
        self.name = name
        self._open = ExitStack()

    def __enter__(self) -> "ReplayPhase":
        return self

    def start(self, total: int | None) -> Update | None:
        """Open the bar over `total` events (None: a streamed log, a count without an end);
        None when no bar is shown."""
        if not self.bars.shown:
            return None
        return self._open.enter_context(self.bars.phase(self.name, total=total, unit="ev"))

    def __exit__(self, *exc: object) -> None:
        self._open.close()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream is not a terminal
        return False


def _ignore(_done: int) -> None:
    """Progress nobody is shown."""
