"""Benchmark: peak memory of `corridor simulate` and `corridor replay`, this tree against another.

    .venv/bin/python benchmarks/bench_memory.py [--days 90] [--before TREE]

Runs `corridor simulate --days N` (and `corridor replay` of the same traffic, generated once to a
`.jsonl.gz` log) as child processes of this tree, and with `--before TREE` (a checkout of another
commit: `git worktree add ../before REV`) the same commands of that tree, one after the other in
this run. Each child's peak resident memory is its `ru_maxrss` (Linux: kilobytes), read with
`os.wait4`; its `kpis.json` digest is printed beside it, so the figures compare the same work.
"""

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
RUN = "import sys; from corridor.cli import main; sys.exit(main())"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--before", type=Path, help="another tree, measured in the same run")
    args = parser.parse_args()
    trees = {"this tree": HERE}
    if args.before is not None:
        trees = {"before": args.before.resolve(), **trees}
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "traffic.jsonl.gz"
        generate = ["generate", "--days", str(args.days), "--seed", str(args.seed)]
        run(HERE, [*generate, "--out", str(log)], Path(scratch) / "gen")
        print(f"{'tree':<10} {'command':<36} {'peak RSS MB':>12} {'wall s':>8}  kpis.json sha256")
        for name, tree in trees.items():
            for command in (
                ["simulate", "--days", str(args.days), "--seed", str(args.seed)],
                ["replay", str(log), "--seed", str(args.seed)],
            ):
                out = Path(scratch) / f"{name}-{command[0]}"
                peak_mb, seconds = run(tree, [*command, "--out", str(out)], out)
                digest = hashlib.sha256((out / "kpis.json").read_bytes()).hexdigest()[:16]
                label = f"{command[0]} --days {args.days}"
                print(f"{name:<10} {label:<36} {peak_mb:>12,.0f} {seconds:>8.1f}  {digest}")


def run(tree: Path, arguments: list[str], out: Path) -> tuple[float, float]:
    """Run `corridor ARGUMENTS --quiet` from `tree`; its peak RSS (MB) and wall seconds."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    began = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", RUN, *arguments, "--quiet"], cwd=tree, env=env)
    _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{tree}: corridor {' '.join(arguments)} failed")
    return usage.ru_maxrss / 1024, seconds


if __name__ == "__main__":
    main()
