"""The gate as an M/M/c queue must reproduce Erlang C, and the KPIs must obey Little's law.

The gate is made M/M/c: flat Poisson arrivals (the generator's validation mode), exponential
service, no exception lane, and everything after the gate instantaneous. Each yard is an
independent replication on its own random streams, so one run checks three configurations.
The confidence interval comes from batch means over trucks in arrival order, and must itself
be inside the tolerance, so the test cannot pass by luck on a too-short run.
"""

import math
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from corridor.engine.clock import to_minutes
from corridor.engine.twin import replay
from corridor.kpis.record_frames import record_frames
from corridor.kpis.report import compute_kpis
from corridor.traffic.generator import generate
from stations.spec import load_all_stations
from tests.factories import T0

TOLERANCE = 0.05
SERVICE_MIN = 1.0
BATCHES = 40
WARM_UP_TRUCKS = 2000


def erlang_c_wait(arrivals_per_min: float, service_min: float, servers: int) -> float:
    """Mean wait in queue of M/M/c (minutes)."""
    load = arrivals_per_min * service_min
    rho = load / servers
    tail = load**servers / math.factorial(servers) / (1 - rho)
    head = sum(load**k / math.factorial(k) for k in range(servers))
    waiting_probability = tail / (head + tail)
    return waiting_probability * service_min / (servers * (1 - rho))


def mmc_override(servers: int) -> dict[str, object]:
    return {
        "gate": {
            "lanes": servers,
            "service_min": {"dist": "exponential", "mean": SERVICE_MIN},
            "exception_share": 0.0,
            "exit_min": {"dist": "constant", "value": 0},
            "yard_drive_min": {"dist": "constant", "value": 0},
        },
        "handling": {
            "reach_stackers": 10_000,
            "reach_stacker_lift_min": {"dist": "constant", "value": 0},
        },
        "stack": {"capacity_teu": 10_000_000},
        "inspection": {"share_general": 0.0},
    }


def run_gate(configs: dict[str, tuple[int, float]], days: int) -> tuple[pd.DataFrame, dict, dict]:
    stations = load_all_stations({yard: mmc_override(c) for yard, (c, _) in configs.items()})
    rates = {yard: rho * c / SERVICE_MIN * 60.0 for yard, (c, rho) in configs.items()}
    events = generate(
        stations, days=days, seed=11, start=T0, mode="poisson", poisson_trucks_per_hour=rates
    )
    until = T0 + timedelta(days=days)
    twin = replay(events, stations, seed=11, until=until)
    assert twin.epoch is not None
    frames = record_frames(twin)
    kpis = compute_kpis(
        frames,
        start=0.0,
        end=to_minutes(until, twin.epoch),
        stations=stations,
    )
    return frames["truck_visits"], kpis, rates


def batch_means_interval(waits: np.ndarray) -> tuple[float, float]:
    batches = np.array_split(waits, BATCHES)
    means = np.array([batch.mean() for batch in batches])
    half_width = stats.t.ppf(0.975, BATCHES - 1) * means.std(ddof=1) / math.sqrt(BATCHES)
    return float(means.mean()), float(half_width)


# Each yard is an independent replication; the M/M/1 at 0.85 runs in two yards and is pooled,
# because its waits are so autocorrelated that one yard would need a year of trucks.
RUN_A = ({"tuanjiecun": (4, 0.7), "xiaonanya": (4, 0.85), "yuzui": (2, 0.8)}, 60)
RUN_B = ({"tuanjiecun": (1, 0.7), "xiaonanya": (1, 0.85), "yuzui": (1, 0.85)}, 250)


@pytest.fixture(scope="module")
def run_a() -> tuple[pd.DataFrame, dict, dict]:
    return run_gate(*RUN_A)


@pytest.fixture(scope="module")
def run_b() -> tuple[pd.DataFrame, dict, dict]:
    return run_gate(*RUN_B)


def waits_of(visits: pd.DataFrame, yard: str) -> np.ndarray:
    mine = visits[visits["yard"] == yard].sort_values("arrived")
    return (mine["gate_start"] - mine["arrived"]).to_numpy()[WARM_UP_TRUCKS:]


def assert_matches_erlang_c(waits: list[np.ndarray], rate_per_hour: float, servers: int) -> None:
    expected = erlang_c_wait(rate_per_hour / 60.0, SERVICE_MIN, servers)
    estimates = [batch_means_interval(replication) for replication in waits]
    mean = float(np.mean([estimate for estimate, _ in estimates]))
    half_width = math.sqrt(sum(width**2 for _, width in estimates)) / len(estimates)
    label = f"M/M/{servers} at {rate_per_hour * SERVICE_MIN / 60 / servers:.2f}"
    assert half_width < TOLERANCE * expected, f"{label}: run too short, CI ±{half_width:.4f}"
    assert abs(mean - expected) < TOLERANCE * expected, (
        f"{label}: wait {mean:.4f} ± {half_width:.4f} vs Erlang C {expected:.4f}"
    )


@pytest.mark.slow
def test_erlang_c_four_lanes(run_a: tuple[pd.DataFrame, dict, dict]) -> None:
    visits, _, rates = run_a
    assert_matches_erlang_c([waits_of(visits, "tuanjiecun")], rates["tuanjiecun"], 4)
    assert_matches_erlang_c([waits_of(visits, "xiaonanya")], rates["xiaonanya"], 4)


@pytest.mark.slow
def test_erlang_c_one_lane(run_b: tuple[pd.DataFrame, dict, dict]) -> None:
    visits, _, rates = run_b
    assert_matches_erlang_c([waits_of(visits, "tuanjiecun")], rates["tuanjiecun"], 1)
    pooled = [waits_of(visits, "xiaonanya"), waits_of(visits, "yuzui")]
    assert_matches_erlang_c(pooled, rates["xiaonanya"], 1)


@pytest.mark.slow
@pytest.mark.parametrize("yard", ["tuanjiecun", "xiaonanya", "yuzui"])
def test_littles_law_links_queue_length_arrivals_and_wait(
    run_a: tuple[pd.DataFrame, dict, dict], yard: str
) -> None:
    visits, kpis, _ = run_a
    days = RUN_A[1]
    yard_kpis = kpis["yards"][yard]
    arrivals_per_min = int((visits["yard"] == yard).sum()) / (days * 1440.0)
    predicted = arrivals_per_min * yard_kpis["gate_wait_min"]["mean"]
    measured = yard_kpis["gate_queue_len"]["mean"]
    assert abs(measured - predicted) < 0.02 * predicted, f"{yard}: L={measured} vs λW={predicted}"
