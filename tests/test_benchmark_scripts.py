"""Every script in `benchmarks/` imports: its imports resolve (with `benchmarks/` on the path,
as when it is run).

The README's and `docs/performance.md`'s figures come from these scripts, and most are run by
hand; one whose import broke when the helper it imported moved (`bench_worker_ceiling.py`
importing `EVENTS_PER_DAY` from `bench_worker`, gone to `workload`) went unnoticed for
sessions. One child process imports them all, each under its own name and without running its
`main` (every script keeps it behind `if __name__ == "__main__"`, checked here too).
"""

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("bench_*.py"))
IMPORT_EACH = """
import importlib.util, sys, traceback
sys.path[:0] = [".", "benchmarks"]  # as `PYTHONPATH=. python benchmarks/x.py` has them
failed = []
for path in sys.argv[1:]:
    name = path.rsplit("/", 1)[-1].removesuffix(".py")
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    except BaseException:
        failed.append(name + ": " + traceback.format_exc(limit=3))
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_benchmark_script_keeps_its_run_behind_main() -> None:
    assert len(SCRIPTS) > 40
    unguarded = [s.name for s in SCRIPTS if 'if __name__ == "__main__":' not in s.read_text()]
    assert unguarded == []


def test_every_benchmark_script_imports() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH, *map(str, SCRIPTS)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=BENCHMARKS.parent,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
