"""`corridor worker` with something that blocks its exit after `Worker.close`, for
`tests/test_worker_stop_exit.py`.

Run as `python -m tests.exit_hangs HANG worker ...` (the rest as for `tests.broker_fixtures`),
HANG one of:

- `atexit`: an exit handler that never returns (as multiprocessing's join of a child that does
  not end);
- `thread`: a non-daemon thread that never ends (the interpreter joins it before it exits);
- `teardown`: an object whose destructor never returns, met when the interpreter tears its
  modules down, once Python's own threads no longer run (as a C library's destructor that
  blocks, librdkafka's say);
- `none`: nothing (the clean exit, for its exit code).
"""

import atexit
import sys
import threading
import time
from collections.abc import Sequence

from tests.broker_fixtures import main as worker_main

HANGS = ("atexit", "thread", "teardown", "none")
FOREVER_S = 3600.0


class BlocksWhenDestroyed:
    """Blocks the thread that destroys it (the interpreter's, at its teardown)."""

    def __del__(self) -> None:
        time.sleep(FOREVER_S)


held: list[BlocksWhenDestroyed] = []  # destroyed with this module's globals, at the teardown


def install(hang: str) -> None:
    """Make the process's exit block in the way `hang` names (module docstring)."""
    if hang == "atexit":
        atexit.register(time.sleep, FOREVER_S)
    elif hang == "thread":
        stays = threading.Event()
        threading.Thread(target=stays.wait, name="never-ends", daemon=False).start()
    elif hang == "teardown":
        held.append(BlocksWhenDestroyed())
    elif hang != "none":
        raise SystemExit(f"HANG: one of {', '.join(HANGS)}, not {hang!r}")


def main(argv: Sequence[str]) -> int:
    """Install the hang, then run the command as `tests.broker_fixtures` does."""
    install(argv[0])
    return worker_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
