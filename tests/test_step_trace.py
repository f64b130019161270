"""The worker's step trace (`streams.step_trace`): one line of marks per step, in order.

A real worker loop (Kafka doubles, the in-memory store) takes part of a generated day with
`step_trace` set; each line is a step whose marks follow the loop's order, and the steps that
took a KPI snapshot say at which moment. Without the setting nothing is written.
"""

import gc
import json
from pathlib import Path

from streams.live.memory_store import MemoryStore
from streams.step_trace import StepTrace
from tests.broker_fixtures import SEED, generated_day, stations
from tests.kafka_doubles import cluster_for, fake_settings, fake_worker, publish

EVENTS = generated_day()[:600]


def test_each_step_is_a_line_of_marks_in_the_loops_order(tmp_path: Path) -> None:
    path = tmp_path / "steps.jsonl"
    given = fake_settings(batch_size=100, step_trace=path)
    cluster = cluster_for(given)
    worker = fake_worker(cluster, given, MemoryStore(), stations(), SEED)
    worker.start()
    for first in range(0, len(EVENTS), 100):
        publish(cluster, given, EVENTS[first : first + 100])
        while worker.step():
            pass
    worker.close()
    steps = [json.loads(line) for line in path.read_text().splitlines()]
    assert sum(step["n"] for step in steps) >= len(EVENTS)  # and the partitions' ends
    assert all(step["consumed"] <= step["done"] for step in steps)
    taken = [step for step in steps if "as_of" in step]
    assert taken, "KPI snapshots were taken"
    for step in taken:
        assert step["consumed"] <= step["snapshot"] <= step["snapshot_end"] <= step["delivered"]
        assert step["watermark"] >= step["as_of"]
    ends = [step["done"] for step in steps]
    assert ends == sorted(ends)


def test_garbage_collections_are_timed_on_the_step(tmp_path: Path) -> None:
    trace = StepTrace(tmp_path / "steps.jsonl")
    trace.mark("consumed")
    gc.collect(1)
    trace.end()
    trace.close()
    (step,) = [json.loads(line) for line in (tmp_path / "steps.jsonl").read_text().splitlines()]
    assert step["gc"] > 0
    assert step["gc_generation"] == 1
    assert trace._collected not in gc.callbacks


def test_off_without_a_file() -> None:
    trace = StepTrace(None)
    trace.mark("consumed")
    trace.end()
    assert not trace.on
