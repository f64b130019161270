"""Instructions a benchmark's child process executes, counted by valgrind's callgrind.

Instruction counts do not move with the machine's load, so the `*_instructions` benchmarks
compare trees by them: each runs its own script again as a child (`--child MODE ...`) under
callgrind, with the tree under test first on `PYTHONPATH`.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def instructions(script: str, tree: Path, child_args: list[str]) -> int:
    """Instructions `script` run with `child_args` executes, with `tree` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}  # same sets, same work
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable]
    done = subprocess.run(
        [*command, script, *child_args], env=env, capture_output=True, text=True, check=True
    )
    found = _REFS.search(done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from callgrind:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))
