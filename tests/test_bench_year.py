"""`benchmarks/bench_year.py` runs end to end with tiny settings: a smoke test, not a figure.

Two simulated days sampled daily through one worker, fed in process and on its own embedded
broker: the script prints a sample per day and the ratio, writes its plot, and times the
restart from a twin snapshot beside the full rebuild.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.broker
@pytest.mark.slow
@pytest.mark.parametrize("feed", ["inprocess", "broker"])
def test_bench_year_runs_with_tiny_settings(tmp_path: Path, feed: str) -> None:
    script = ROOT / "benchmarks" / "bench_year.py"
    argv = [sys.executable, str(script), "--days", "2", "--month-days", "1", "--restart"]
    argv += ["--feed", feed, "--trim"]
    done = subprocess.run(
        [*argv, "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )

    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if line[:5].strip().isdigit()]
    assert [row[:2] for row in rows] == [["1", "1"], ["2", "2"]]
    mb = [(float(row[3].replace(",", "")), float(row[4].replace(",", ""))) for row in rows]
    assert all(trimmed <= rss for rss, trimmed in mb), "trimmed is at most RSS"
    assert "dead letters: 0;" in done.stdout
    assert "late events: 0" in done.stdout  # applied late but not refused: a watermark fault too
    assert "GC-tracked objects, growth since month 2" in done.stdout
    assert "RSS after month 2 / after month 1" in done.stdout
    restart = [line for line in done.stdout.splitlines() if line.startswith("snapshot restart:")]
    assert len(restart) == 1, done.stdout
    assert "full rebuild:" in restart[0]
    assert "ratio" in restart[0]
    assert (tmp_path / "rss.png").read_bytes().startswith(b"\x89PNG")
    assert len((tmp_path / "rss.csv").read_text().splitlines()) == 3
