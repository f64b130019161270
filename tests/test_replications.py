"""Replications: independent streams per replication, reproducible reports, Student-t intervals.

Replication 0 without warm-up is the single run byte for byte; replications run on a process
pool, serially or on a Dask cluster give the same bytes; `kpis.json`'s mean, ci95 and n are
those of the per-replication values in `replications.parquet` (checked against
`scipy.stats.t.interval`).
"""

import json
import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy import stats

from corridor import jobs
from corridor.cli import main
from corridor.experiments.executors import Executor, run_jobs
from corridor.experiments.intervals import interval
from corridor.experiments.runs import replicate, write_replicated
from corridor.experiments.table import read_replication_values, replication_values
from corridor.kpis.report import dumps_report
from corridor.scenario import DEFAULT_START, Scenario
from corridor.traffic.generator import generate
from stations.random_streams import RandomStream, stream_key
from stations.spec import load_all_stations

SEED = 11
REPLICATIONS = 3


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario(load_all_stations())


@pytest.fixture(scope="module")
def one_day(scenario: Scenario) -> jobs.SimulateJob:
    return jobs.SimulateJob(scenario, SEED, DEFAULT_START, days=1)


@pytest.fixture(scope="module")
def on_the_pool(one_day: jobs.SimulateJob, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three replications of one day on the process pool, written out."""
    out = tmp_path_factory.mktemp("pool")
    write_replicated(replicate(one_day, REPLICATIONS, Executor(workers=2)), out)
    return out


def test_replication_zero_draws_the_single_runs_numbers() -> None:
    # the stream as it was seeded before replications existed
    single = np.random.default_rng([SEED, *stream_key("tuanjiecun", "gate")]).random(3).tolist()
    zero = RandomStream(SEED, "tuanjiecun", "gate", replication=0)
    one = RandomStream(SEED, "tuanjiecun", "gate", replication=1)
    assert [zero.uniform() for _ in range(3)] == single
    assert [one.uniform() for _ in range(3)] != single


def test_replication_zero_is_the_single_run_byte_for_byte(
    one_day: jobs.SimulateJob, scenario: Scenario
) -> None:
    events = list(generate(scenario.stations, days=1, seed=SEED, start=DEFAULT_START))
    single = jobs.replay_events(
        events, scenario, seed=SEED, start=DEFAULT_START, until=DEFAULT_START + timedelta(days=1)
    )
    assert dumps_report(jobs.run_replication(one_day).report) == dumps_report(single.report)


def test_replications_differ_from_each_other(on_the_pool: Path) -> None:
    values = read_replication_values(on_the_pool)
    turnaround = values["corridor"]["truck_turn_min.mean"]
    trucks = values["corridor"]["trucks"]
    assert len(turnaround) == REPLICATIONS
    assert len(set(turnaround)) == REPLICATIONS  # independent draws, not one run thrice
    assert len(set(trucks)) > 1  # the traffic is drawn per replication too


def test_same_seed_same_report_whether_parallel_or_serial(
    one_day: jobs.SimulateJob, on_the_pool: Path, tmp_path: Path
) -> None:
    write_replicated(replicate(one_day, REPLICATIONS, Executor(workers=1)), tmp_path)
    for name in ("kpis.json", "replications.parquet", "truck_visits.parquet"):
        assert (tmp_path / name).read_bytes() == (on_the_pool / name).read_bytes(), name


def test_kpis_json_carries_mean_ci95_and_n_of_the_replications(on_the_pool: Path) -> None:
    report = json.loads((on_the_pool / "kpis.json").read_text())
    values = read_replication_values(on_the_pool)
    assert report["run"]["replications"] == REPLICATIONS
    checked = 0
    for scope, kpis in values.items():
        block = report["corridor"] if scope == "corridor" else report["yards"][scope]
        for kpi, series in kpis.items():
            summary = _at(block, kpi)
            present = [value for value in series if value is not None]
            assert summary["n"] == len(present), (scope, kpi)
            if len(present) < 2:
                continue
            mean = np.mean(present)
            assert summary["mean"] == pytest.approx(mean, rel=1e-5, abs=1e-9)
            if np.std(present) == 0:  # scipy warns on a zero scale; the interval is the point
                assert summary["ci95"] == [summary["mean"], summary["mean"]]
                continue
            low, high = stats.t.interval(0.95, len(present) - 1, loc=mean, scale=stats.sem(present))
            assert summary["ci95"] == pytest.approx([low, high], rel=1e-5, abs=1e-9)
            checked += 1
    assert checked > 100  # every numeric KPI of three yards and the corridor


def test_interval_on_a_hand_checkable_case() -> None:
    # values 2, 4, 6: mean 4, s = 2, t(0.975, 2) = 4.302653, half width 4.302653 * 2 / sqrt 3
    half = 4.302653 * 2 / math.sqrt(3)
    result = interval([2.0, None, 4.0, 6.0])
    assert result["n"] == 3
    assert result["mean"] == 4.0
    assert result["ci95"] == pytest.approx([4 - half, 4 + half], rel=1e-6)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], {"mean": None, "ci95": None, "n": 0}),
        ([None, None], {"mean": None, "ci95": None, "n": 0}),
        ([3.5, None], {"mean": 3.5, "ci95": None, "n": 1}),
        ([7.0, 7.0, 7.0], {"mean": 7.0, "ci95": [7.0, 7.0], "n": 3}),
    ],
)
def test_interval_with_too_few_or_equal_values(
    values: list[float | None], expected: dict[str, Any]
) -> None:
    assert interval(values) == expected


def test_the_table_reads_back_in_replication_order(on_the_pool: Path) -> None:
    table = pq.read_table(on_the_pool / "replications.parquet")
    assert table.column_names == ["replication", "scope", "kpi", "value"]
    shuffled = table.to_pandas().sample(frac=1.0, random_state=1)
    assert replication_values(shuffled) == replication_values(table)


def test_the_dask_executor_runs_the_same_jobs(one_day: jobs.SimulateJob) -> None:
    distributed = pytest.importorskip("dask.distributed")
    jobs_ = [
        jobs.SimulateJob(one_day.scenario, SEED, DEFAULT_START, 1, replication=r) for r in (0, 1)
    ]
    with distributed.LocalCluster(
        n_workers=2,
        processes=False,
        threads_per_worker=1,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        on_dask = run_jobs(jobs_, Executor("dask", scheduler=cluster.scheduler_address))
    here = run_jobs(jobs_, Executor(workers=1))
    assert [dumps_report(r.report) for r in on_dask] == [dumps_report(r.report) for r in here]


def test_replay_takes_replications_and_warmup(tmp_path: Path, scenario: Scenario) -> None:
    log = tmp_path / "day.jsonl"
    assert main(["generate", "--days", "1", "--seed", "4", "--out", str(log), "--quiet"]) == 0
    out = tmp_path / "out"
    argv = ["replay", str(log), "--replications", "2", "--warmup", "2", "--out", str(out)]
    assert main([*argv, "--quiet"]) == 0
    report = json.loads((out / "kpis.json").read_text())
    assert report["run"]["replications"] == 2
    assert report["run"]["warmup_h"] == 2.0
    assert report["corridor"]["trucks"]["n"] == 2


@pytest.mark.parametrize(
    ("flags", "problem"),
    [
        (["--replications", "0"], "--replications must be at least 1"),
        (["--warmup", "-1"], "--warmup must be hours >= 0"),
        (["--warmup", "nan"], "--warmup must be hours >= 0"),
        (["--warmup", "24"], "must be shorter than the run"),
        (["--replications", "2", "--executor", "dask"], "needs the scheduler's address"),
    ],
)
def test_bad_replication_flags_get_one_clear_line(
    flags: list[str], problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["simulate", "--days", "1", "--quiet", "--out", str(tmp_path / "out"), *flags]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert problem in error
    assert len(error.strip().splitlines()) == 1


def _at(block: dict[str, Any], path: str) -> dict[str, Any]:
    for key in path.split("."):
        block = block[key]
    return block
