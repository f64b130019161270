"""Benchmark: what one cyclic garbage collection costs in a process that holds a long-lived twin,
by generation, with the twin in the collected generations and with it frozen (`gc.freeze`).

A live worker at the twin's thresholds (`corridor.runtime.GC_THRESHOLDS`) collects its young
generation every 100,000 net allocations and its middle one every 1,000 of those; the middle
one then holds every object that survived a young collection: a loaded or caught-up twin's.
This builds such a twin (`workload.warmed_live_twin`: `--events` generated events admitted and
advanced, as a catch-up leaves it), leaves it where the automatic collections put it (the
middle generation, after one young collection), and times `gc.collect(generation)` for each
generation, `--rounds` times (the middle one once: its collection moves the twin on to the
oldest), with the twin collectable, then frozen (`gc.freeze`, as a worker that froze its
settled twin would have it); medians, ms. The young generation is given `--young` fresh
tracked objects before each. What freezing the live twin cost besides (the cycles frozen
alive leak) is in `docs/performance.md`, "gcpause".

    .venv/bin/python benchmarks/bench_gc_pauses.py [--events 400000] [--rounds 5]
"""

import gc
import statistics
import time

import workload  # type: ignore[import-not-found]

SEED = 2026
LATENESS = 300_000_000  # µs: the worker's default lateness, 5 minutes


def main() -> None:
    parser = workload.parser(__doc__)
    parser.add_argument("--events", type=int, default=400_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--young", type=int, default=80_000, help="young objects per collection")
    args, stations = workload.begin(parser, tune_gc=True)
    events = list(workload.backlog(stations, args.events, SEED))
    live = workload.warmed_live_twin(stations, events, 1, SEED, LATENESS)
    del events  # the twin where the automatic collections left it: mostly the middle one
    settled_young()
    sizes = ", ".join(f"{len(gc.get_objects(g)):,}" for g in range(3))
    print(f"twin of {args.events:,} events; tracked objects by generation {sizes}")
    for frozen in (False, True):
        if frozen:
            gc.freeze()
        label = "frozen" if frozen else "collectable"
        for generation in (0, 1, 2):  # the middle one's first collection moves its twin on:
            rounds = 1 if generation == 1 else args.rounds  # so one, as the worker has it
            times = [pause(generation, args.young) for _ in range(rounds)]
            print(f"  twin {label:<12} gc.collect({generation}) with {args.young:,} young "
                  f"objects: median {statistics.median(times):8.1f} ms "
                  f"({', '.join(f'{t:.1f}' for t in times)})")  # fmt: skip
    print(f"  frozen objects {gc.get_freeze_count():,}; twin kept: {live.twin is not None}")
    gc.unfreeze()


def settled_young() -> None:
    """Collect the young generation left by building the twin (its first collection would)."""
    gc.collect(0)


def pause(generation: int, young: int) -> float:
    """Ms of one `gc.collect(generation)` after `young` fresh container objects were made."""
    fresh = [[] for _ in range(young)]  # noqa: F841 (alive through the collection: young)
    began = time.perf_counter()
    gc.collect(generation)
    return (time.perf_counter() - began) * 1000


if __name__ == "__main__":
    main()
