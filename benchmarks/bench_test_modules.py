"""Test modules' time in two trees, alternated: where the suite's slowest modules stand.

CI runs the suite with `pytest -n 2 --dist loadfile`: a module's tests all on one process, so a
module's whole time (setup, calls, teardown) is what it costs there. Each round runs every
module once in this tree and once in `--base` (another worktree, e.g. the base commit), each
tree with its own code and tests (`cwd` and `PYTHONPATH` the tree), alternating which goes
first, and prints per module and tree the wall time and the CPU time of the pytest process and
its children, then the medians and the ratio base / this tree. `--startup` also times the
`corridor` command's start-up (a bad command line, as `tests/test_cli_errors.py` runs ~50).

    python benchmarks/bench_test_modules.py --base ../base --rounds 3 \
        tests/test_cli_errors.py tests/test_api_whatif.py
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
LAUNCH = "import sys; from corridor.cli import main; sys.exit(main())"


def timed(argv: list[str], tree: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds (the process and its children) of `argv` run in `tree`."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=tree, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def module_argv(module: str) -> list[str]:
    """pytest on `module` ("tests/test_x.py", or with options: "tests/test_x.py -k name")."""
    quiet = ["-q", "-p", "no:randomly", "-p", "no:cacheprovider"]
    return [sys.executable, "-m", "pytest", *module.split(), *quiet]


def startup_argv() -> list[str]:
    return [sys.executable, "-c", LAUNCH, "replay", "missing.jsonl"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="test modules, relative to the trees")
    parser.add_argument("--base", type=Path, required=True, help="the other tree")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--startup", type=int, default=0, help="corridor start-ups per round")
    args = parser.parse_args()
    trees = {"this": HERE, "base": args.base.resolve()}
    cases = {module: module_argv(module) for module in args.modules}
    if args.startup:
        cases["corridor start-up"] = startup_argv()
    figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for round_ in range(args.rounds):
        order = ["this", "base"] if round_ % 2 == 0 else ["base", "this"]
        for case, argv in cases.items():
            repeats = args.startup if case == "corridor start-up" else 1
            for name in order:
                for _ in range(repeats):
                    wall, cpu, code = timed(argv, trees[name])
                    figures.setdefault((case, name), []).append((wall, cpu))
                    print(f"round {round_ + 1} {name:4} {case}: {wall:7.2f} s wall "
                          f"{cpu:7.2f} s CPU (exit {code})", flush=True)  # fmt: skip
    print("\nmedians (wall s, CPU s), base / this:")
    for case in cases:
        this = figures[(case, "this")]
        base = figures[(case, "base")]
        w_this, c_this = (statistics.median(x[i] for x in this) for i in (0, 1))
        w_base, c_base = (statistics.median(x[i] for x in base) for i in (0, 1))
        print(f"{case}: base {w_base:.2f} / {c_base:.2f}, this {w_this:.2f} / {c_this:.2f}, "
              f"wall {w_base / w_this:.2f}x, CPU {c_base / c_this:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
