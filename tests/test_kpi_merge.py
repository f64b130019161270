"""The corridor's KPIs merged from per-yard partials equal `compute_kpis`' corridor block.

Generated runs of the three baseline yards (seed, length and window drawn by hypothesis,
derandomised): every count, sum, mean, maximum, utilisation, queue figure, stage figure and
share is equal; every percentile is within the histograms' documented resolution
(`corridor.kpis.histogram.RELATIVE_ERROR`, or `LOWEST` near zero). The partials go through
JSON first, as they do through the store.
"""

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor.jobs import SimulateJob, run_replication
from corridor.kpis.frames import prepare_tables
from corridor.kpis.histogram import LOWEST, RELATIVE_ERROR, histogram, merged, percentiles
from corridor.kpis.merge import merge
from corridor.kpis.partials import yard_partials
from corridor.kpis.report import compute_kpis, yard_kpis
from corridor.scenario import load_scenario
from stations.types import MINUTES_PER_DAY

QUANTILES = {"p50", "p90", "p95", "p99"}
MEANS = {"mean"}


@cache
def run(seed: int, days: int) -> Mapping[str, pd.DataFrame]:
    """The record tables of `days` generated days (cached: hypothesis draws windows of them)."""
    job = SimulateJob(
        load_scenario(None),
        seed=seed,
        start=datetime(2026, 3, 2, tzinfo=UTC),
        days=days,
        keep_frames=True,
    )
    return run_replication(job).frames


def leaves(block: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in block.items():
        if isinstance(value, Mapping):
            yield from leaves(value, f"{path}{key}.")
        else:
            yield f"{path}{key}", value


def merged_corridor(frames: Mapping[str, pd.DataFrame], start: float, end: float) -> Any:
    stations = load_scenario(None).stations
    parts = yard_partials(frames, start=start, end=end, stations=stations)
    stored = json.loads(json.dumps(parts, allow_nan=False))  # as the store keeps them
    return merge([stored[yard] for yard in stations])


def assert_close_to_exact(exact: Mapping[str, Any], got: Mapping[str, Any]) -> int:
    """Every leaf equal, percentiles within the resolution; the number of percentiles."""
    exact_leaves, got_leaves = dict(leaves(exact)), dict(leaves(got))
    assert exact_leaves.keys() == got_leaves.keys()
    quantiles = 0
    for key, want in exact_leaves.items():
        have = got_leaves[key]
        name = key.rsplit(".", 1)[-1]
        if name in QUANTILES:  # age_h.p50 and p90 too
            assert (want is None) == (have is None), key
            if want is not None:
                quantiles += 1
                # the order statistics read back within RELATIVE_ERROR, 6 digits written
                assert abs(have - want) <= RELATIVE_ERROR * abs(want) + LOWEST + 1e-5 * abs(want), (
                    key,
                    want,
                    have,
                )
        elif name in MEANS and want is not None:
            # the yards' exact sums added: equal but for float rounding in the 6th digit
            assert have == pytest.approx(want, rel=2e-6), key
        else:
            assert have == want, (key, want, have)
    return quantiles


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    seed=st.integers(1, 3),
    days=st.integers(1, 3),
    start=st.floats(0.0, 1.0),
    length=st.floats(0.01, 1.0),
)
def test_merged_partials_equal_compute_kpis(
    seed: int, days: int, start: float, length: float
) -> None:
    frames = run(seed, days)
    total = days * MINUTES_PER_DAY
    begin = start * total * 0.9
    end = min(total, begin + max(length * total, 1.0))
    exact = compute_kpis(frames, start=begin, end=end, stations=load_scenario(None).stations)
    got = merged_corridor(frames, begin, end)
    assert_close_to_exact(exact["corridor"], got)


def test_a_whole_run_merges_with_every_kind_of_figure() -> None:
    """The whole of two days: percentiles, the Kaplan-Meier share and the queue all exist."""
    frames = run(3, 2)
    stations = load_scenario(None).stations
    exact = compute_kpis(frames, start=0.0, end=2 * MINUTES_PER_DAY, stations=stations)
    got = merged_corridor(frames, 0.0, 2 * MINUTES_PER_DAY)
    assert assert_close_to_exact(exact["corridor"], got) >= 30
    assert got["dwell_h"]["share_within_24h"] is not None
    assert got["gate_queue_len"]["max"] is not None
    assert got["trucks"] > 100


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    values=st.lists(
        st.floats(0.0, 1e6, allow_nan=False, allow_infinity=False), min_size=1, max_size=60
    ),
    cut=st.integers(0, 60),
)
def test_histogram_percentiles_are_within_the_resolution(values: list[float], cut: int) -> None:
    """Split anywhere and merged, a histogram's percentiles are numpy's within 0.5 %."""
    array = np.asarray(values)
    parts = [histogram(array[:cut]), histogram(array[cut:])]
    both = merged(parts)
    assert both["n"] == array.size
    points = (0, 1, 50, 90, 95, 99, 100)
    for want, have in zip(np.percentile(array, points), percentiles(both, points), strict=True):
        assert abs(have - want) <= RELATIVE_ERROR * want + LOWEST + 1e-9 * want


def test_merge_refuses_partials_of_different_windows() -> None:
    frames = run(3, 1)
    stations = load_scenario(None).stations
    first = yard_partials(frames, start=0.0, end=600.0, stations=stations)
    other = yard_partials(frames, start=0.0, end=660.0, stations=stations)
    with pytest.raises(ValueError, match="different windows"):
        merge([first["tuanjiecun"], other["xiaonanya"]])
    with pytest.raises(ValueError, match="at least one"):
        merge([])


@pytest.mark.parametrize("window", [(0.0, 60.0), (600.0, 1440.0), (0.0, 2 * MINUTES_PER_DAY)])
def test_tables_without_the_corridor_give_the_yards_the_same_bytes(
    window: tuple[float, float],
) -> None:
    """The live twin's tables leave the pooled corridor out (`prepare_tables(corridor=False)`):
    each yard's KPIs (`yard_kpis`) and partials are the same JSON bytes as with it, and
    `compute_kpis` refuses such tables (it would have no corridor to give)."""
    frames = run(2, 2)
    stations = load_scenario(None).stations
    start, end = window
    pooled = prepare_tables(frames, list(stations))
    yards_only = prepare_tables(frames, list(stations), corridor=False)
    exact = compute_kpis(frames, start=start, end=end, stations=stations, tables=pooled)
    kpis = yard_kpis(frames, start=start, end=end, stations=stations, tables=yards_only)
    assert json.dumps(kpis) == json.dumps(exact["yards"])
    with_corridor = yard_partials(frames, start=start, end=end, stations=stations, tables=pooled)
    without = yard_partials(frames, start=start, end=end, stations=stations, tables=yards_only)
    assert json.dumps(without) == json.dumps(with_corridor)
    assert yards_only["box_visits"].n_scopes == len(stations)
    with pytest.raises(ValueError, match="without the corridor"):
        compute_kpis(frames, start=start, end=end, stations=stations, tables=yards_only)
