"""Where produce-to-KPI latency goes, event by event: the latency benchmark's decomposition.

`bench_worker.py --latency-only` gives its worker a step trace file (`streams.step_trace`: one
line of `time.perf_counter()` marks per step of the worker's loop, the one monotonic clock all
processes of the machine share) and joins it with what the benchmark knows of each event (its
event time and when it was produced) and of each KPI moment (when the reader first saw it).
Each event's latency splits into consecutive parts:

- `fetch`: produced -> the worker's `consume` returned with it (the broker, the consumer's
  fetch and the worker's poll; and a step still busy with something else);
- `watermark`: -> the step whose watermark passed the event (the later events, on every
  partition, that the watermark waits for: the lateness, the slowest partition's end);
- `moment`: -> the snapshot covering the event began (the next cadence boundary's own
  watermark, and boundaries the snapshot policy let pass);
- `snapshot`: the KPI snapshot's computation;
- `deliver`: -> its messages flushed to the broker (yard views, produce and the flush's ack);
- `reader`: -> the benchmark's reader saw the first of them (the broker and the reader's poll).

An event is given to the first step whose newest accepted event time reached its own (another
partition's later event may have come first: then `fetch` is a little short and `watermark`
long by as much). The parts add up to the latency of `covered_after`, save for events the
reader saw only a later moment of.
"""

import bisect
import itertools
import json
import statistics
from pathlib import Path
from typing import Any

PARTS = ("fetch", "watermark", "moment", "snapshot", "deliver", "reader")
WORK = ("twin_snapshot", "views", "gc", "snapshots", "commit")
"""The worker's work within an event's latency (the steps that ended between its produce and
its being seen), by kind: the twin's state stored for restarts, the yard views, cyclic garbage
collection, KPI snapshots (its own and earlier ones), and the store commits it waited for (a
live batch without KPI snapshots is committed before the step returns, after the previous
commit, which may still run in the background)."""


def read_steps(path: Path) -> list[dict[str, Any]]:
    """The worker's traced steps, in order (none if the worker did not trace: an older tree)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def decompose(
    sent: list[tuple[int, float]], seen: list[tuple[int, float]], steps: list[dict[str, Any]]
) -> list[tuple[float, dict[str, float]]]:
    """(latency, its parts in seconds) of each event covered by a traced KPI moment."""
    received = _running_max([step.get("received") for step in steps])
    watermarks = _running_max([step.get("watermark") for step in steps])
    moments = [(step["as_of"], step) for step in steps if "as_of" in step]
    moment_times = _running_max([as_of for as_of, _ in moments])
    first_seen: dict[int, float] = {}
    for as_of, wall in sorted(seen, key=lambda item: item[1]):
        first_seen.setdefault(as_of, wall)
    rows = []
    for ts, produced in sent:
        got = bisect.bisect_left(received, ts)
        passed = bisect.bisect_left(watermarks, ts)
        covered = bisect.bisect_left(moment_times, ts)
        if got >= len(steps) or passed >= len(steps) or covered >= len(moments):
            continue
        as_of, step = moments[covered]
        if as_of not in first_seen or "delivered" not in step:
            continue
        marks = [
            produced,
            steps[got]["consumed"],
            steps[passed]["consumed"],
            step["snapshot"],
            step["snapshot_end"],
            step["delivered"],
            first_seen[as_of],
        ]
        gaps = [max(0.0, later - earlier) for earlier, later in itertools.pairwise(marks)]
        parts = dict(zip(PARTS, gaps, strict=True))
        parts.update(_work_within(steps, produced, first_seen[as_of]))
        rows.append((first_seen[as_of] - produced, parts))
    return rows


def _committing(step: dict[str, Any]) -> float:
    """A step's wait for the store: from its flush to its commit handed over, less the twin
    snapshot and the yard views made meanwhile (the views come after the flush now)."""
    if "committed" not in step:
        return 0.0
    views = step["views_end"] - step["views"] if step.get("views", 0) >= step["delivered"] else 0
    return step["committed"] - step["delivered"] - step.get("twin_snapshot", 0.0) - views


def _work_within(steps: list[dict[str, Any]], since: float, until: float) -> dict[str, float]:
    ends = [step["done"] for step in steps]
    work = dict.fromkeys(WORK, 0.0)
    for step in steps[bisect.bisect_left(ends, since) : bisect.bisect_right(ends, until)]:
        work["twin_snapshot"] += step.get("twin_snapshot", 0.0)
        work["views"] += step["views_end"] - step["views"] if "views" in step else 0.0
        work["gc"] += step.get("gc", 0.0)
        work["commit"] += _committing(step)
        work["snapshots"] += step["snapshot_end"] - step["snapshot"] if "as_of" in step else 0.0
    return work


def _running_max(values: list[Any]) -> list[int]:
    out: list[int] = []
    for value in values:
        value = -1 if value is None else value
        out.append(max(value, out[-1]) if out else value)
    return out


def report(rows: list[tuple[float, dict[str, float]]], steps: list[dict[str, Any]]) -> None:
    """Each part's median and p99 over all events, and its mean over the slowest 1 % and 5 %
    (what makes the tail), then how often the steps that took a snapshot also did other work."""
    if not rows:
        print("  latency decomposition: no traced steps (a tree without `step_trace`)")
        return
    rows = sorted(rows, key=lambda row: row[0])
    slowest = {share: rows[-max(1, len(rows) * share // 100) :] for share in (1, 5)}
    print(f"  latency decomposition, {len(rows):,} events (ms): part, median, p99, "
          "mean of the slowest 5 % / 1 % of events")  # fmt: skip
    for name in (*PARTS, "total", *(f"({kind})" for kind in WORK)):
        values = [row[0] if name == "total" else row[1][name.strip("()")] for row in rows]
        cuts = statistics.quantiles(values, n=100)
        tails = [
            statistics.fmean(
                row[0] if name == "total" else row[1][name.strip("()")] for row in slowest[s]
            )
            for s in (5, 1)
        ]
        print(f"    {name:<10}{cuts[49] * 1000:>8.0f}{cuts[98] * 1000:>8.0f}"
              f"{tails[0] * 1000:>10.0f}{tails[1] * 1000:>8.0f}")  # fmt: skip
    taking = [step for step in steps if "as_of" in step]
    views = sum("views" in step for step in taking)
    waits = [later["consumed"] - step["done"] for step, later in itertools.pairwise(steps)]
    print(f"    steps with a snapshot: {len(taking)}, of them with the yard views too: {views}; "
          f"steps: {len(steps)}, time between a step's end and the next consume's return, "
          f"median {statistics.median(waits) * 1000:.1f} ms, p99 "
          f"{statistics.quantiles(waits, n=100)[98] * 1000:.1f} ms")  # fmt: skip
