"""How long `compute_kpis` takes on a year of the three yards (synthetic records of full size).

Builds record frames shaped like `corridor.kpis.record_frames.record_frames` (categorical yard and
label columns, levels sorted by yard, level, time): 1M truck visits, 700k box visits, 1.5M lifts,
5M level points and 20k reefer excursions over 365 days. Prints the median of 5 runs of
`compute_kpis` over the whole year and over its last 24 hours (a rolling live window still
scans the whole tables), beside a baseline measured in the same run: plain pandas group-bys
computing only the per-yard turnaround and dwell percentiles and the hourly throughput (the
figure quoted in issue 2, about 70 ms per million rows).

    .venv/bin/python benchmarks/bench_kpis.py [--runs 5] [--scale 1.0]
"""

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from corridor.kpis.report import compute_kpis
from stations.catalog import station_ids
from stations.records import LEVELS
from stations.spec import load_all_stations
from stations.types import MINUTES_PER_DAY

YEAR_MIN = 365 * MINUTES_PER_DAY
SIZES = {
    "truck_visits": 1_000_000,
    "box_visits": 700_000,
    "lifts": 1_500_000,
    "levels": 5_000_000,
    "reefer_excursions": 20_000,
    "reefer_readings": 1_600_000,  # a reading per reefer every 5 minutes, about 31k a week
}


def synthetic_frames(scale: float, seed: int = 1) -> dict[str, pd.DataFrame]:
    """Record frames of realistic size and shape, from one seeded generator."""
    rng = np.random.default_rng(seed)
    n = {name: int(size * scale) for name, size in SIZES.items()}
    return {
        "truck_visits": _trucks(rng, n["truck_visits"]),
        "box_visits": _boxes(rng, n["box_visits"]),
        "lifts": _lifts(rng, n["lifts"]),
        "levels": _levels(rng, n["levels"]),
        "reefer_excursions": _excursions(rng, n["reefer_excursions"]),
        "reefer_readings": _readings(rng, n["reefer_readings"]),
    }


def _categorical(codes: NDArray[np.integer[Any]], labels: Sequence[str]) -> "pd.Series[str]":
    return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(list(labels))))


def _yards(rng: np.random.Generator, n: int) -> "pd.Series[str]":
    codes = rng.choice(len(station_ids()), size=n, p=[0.6, 0.2, 0.2]).astype(np.int8)
    return _categorical(codes, station_ids())


def _labels(rng: np.random.Generator, n: int, labels: list[str]) -> "pd.Series[str]":
    return _categorical(rng.integers(0, len(labels), size=n).astype(np.int8), labels)


def _trucks(rng: np.random.Generator, n: int) -> pd.DataFrame:
    arrived = rng.uniform(0, YEAR_MIN, n)
    gate_start = arrived + rng.exponential(2.0, n)
    departed = gate_start + 5 + rng.gamma(4.0, 6.0, n)
    departed[rng.random(n) < 0.001] = np.nan  # still in the yard at the end
    return pd.DataFrame(
        {"yard": _yards(rng, n), "arrived": arrived, "gate_start": gate_start, "departed": departed}
    )


def _boxes(rng: np.random.Generator, n: int) -> pd.DataFrame:
    entered = rng.uniform(0, YEAR_MIN, n)
    left = entered + rng.lognormal(np.log(36 * 60), 0.6, n)
    direction = rng.integers(0, 2, size=n).astype(np.int8)  # 0 export, 1 import
    # the milestones between: ordered points of the stay, those after the year not yet passed
    cuts = entered[:, None] + np.sort(rng.random((n, 4)), axis=1) * (left - entered)[:, None]
    cuts[direction == 1, 1:] = np.nan  # an import box has only `stacked`
    cuts[cuts > YEAR_MIN] = np.nan
    left[left > YEAR_MIN] = np.nan
    return pd.DataFrame(
        {
            "yard": _yards(rng, n),
            "direction": _categorical(direction, ["export", "import"]),
            "teu": rng.choice([1, 2], size=n, p=[0.4, 0.6]),
            "reefer": rng.random(n) < 0.08,
            "entered": entered,
            "stacked": cuts[:, 0],
            "inspection_start": cuts[:, 1],
            "cleared": cuts[:, 2],
            "loading_start": cuts[:, 3],
            "left": left,
        }
    )


def _lifts(rng: np.random.Generator, n: int) -> pd.DataFrame:
    start = rng.uniform(0, YEAR_MIN, n)
    return pd.DataFrame(
        {"yard": _yards(rng, n), "start": start, "end": start + rng.uniform(2, 5, n)}
    )


def _levels(rng: np.random.Generator, n: int) -> pd.DataFrame:
    series = len(station_ids()) * len(LEVELS)
    per_series = n // series
    key = np.repeat(np.arange(series), per_series)
    times = np.sort(rng.uniform(0, YEAR_MIN, (series, per_series)), axis=1).ravel()
    times[::per_series] = 0.0  # each series starts at the epoch
    steps = rng.choice([-1.0, 1.0], size=(series, per_series))
    values = np.abs(np.cumsum(steps, axis=1)).ravel()
    return pd.DataFrame(
        {
            "yard": _categorical(key // len(LEVELS), station_ids()),
            "level": _categorical(key % len(LEVELS), LEVELS),
            "time": times,
            "value": values,
        }
    )


def _excursions(rng: np.random.Generator, n: int) -> pd.DataFrame:
    start = rng.uniform(0, YEAR_MIN, n)
    return pd.DataFrame(
        {
            "yard": _yards(rng, n),
            "kind": _labels(rng, n, ["temperature", "power_off"]),
            "start": start,
            "end": start + rng.exponential(40.0, n),
        }
    )


def _readings(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "yard": _yards(rng, n),
            "container_id": "CSQU3054383",
            "time": np.sort(rng.uniform(0, YEAR_MIN, n)),
        }
    )


def baseline(frames: dict[str, pd.DataFrame]) -> object:
    """The issue's yardstick: per-yard percentiles and hourly throughput with plain group-bys."""
    quantiles = np.array([0.5, 0.9, 0.95, 0.99])
    trucks = frames["truck_visits"]
    turn = (trucks["departed"] - trucks["arrived"]).groupby(trucks["yard"], observed=True)
    boxes = frames["box_visits"]
    dwell = ((boxes["left"] - boxes["entered"]) / 60).groupby(boxes["yard"], observed=True)
    hour = (boxes["left"] // 60).rename("hour")
    hourly = boxes.groupby([boxes["yard"], hour], observed=True)["teu"].sum()
    return turn.quantile(quantiles), dwell.quantile(quantiles), hourly


def median_seconds(action: Callable[[], object], runs: int) -> float:
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        timings.append(time.perf_counter() - began)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every table's size")
    args = parser.parse_args()
    frames = synthetic_frames(args.scale)
    stations = load_all_stations()

    def kpis(start: float) -> Callable[[], object]:
        return lambda: compute_kpis(frames, start=start, end=YEAR_MIN, stations=stations)

    rows = ", ".join(f"{name} {len(frame):,}" for name, frame in frames.items())
    print(f"records: {rows}")
    year = median_seconds(kpis(0.0), args.runs)
    day = median_seconds(kpis(YEAR_MIN - MINUTES_PER_DAY), args.runs)
    theirs = median_seconds(lambda: baseline(frames), args.runs)
    print(f"compute_kpis, whole year (all KPIs, 3 yards + corridor): {year * 1000:8.1f} ms")
    print(f"compute_kpis, last 24 h of the same tables:              {day * 1000:8.1f} ms")
    print(f"baseline (turn + dwell percentiles, hourly TEU, year):   {theirs * 1000:8.1f} ms")
    print(f"ratio whole-year compute_kpis / baseline: {year / theirs:.2f}x")
    print(f"(medians of {args.runs} runs each)")


if __name__ == "__main__":
    main()
