"""The runs a comparison reads: replications' KPI values, and one replication's record tables.

A run is given as a path:

- a run directory (`corridor simulate/replay --out DIR`): its `replications.parquet` when it
  has one (`--replications N`, long form: replication, scope, kpi, value), else its
  `kpis.json` as a single replication; its record tables (`*.parquet`) feed the charts;
- a scenario file (`.toml`, `docs/scenarios.md`): run here for `replications` replications of
  `days` generated days. Replication r uses seed `seed + r` for the base and every scenario
  alike, so the runs share their random numbers (common random numbers) and are compared
  pair by pair (`corridor.compare.stats`).

The interface the comparison needs is small: per scope (yard id or `corridor`) and KPI path
(`dwell_h.by.export.p95`) the list of per-replication values, plus what identifies each
replication's random numbers (`draws`), which decides whether two runs pair.
"""

import json
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from corridor import jobs
from corridor.kpis.result import NAMING_KEYS, KpiReport
from corridor.scenario import DEFAULT_START, load_scenario
from corridor.traffic.generator import generate

CORRIDOR_SCOPE = "corridor"
REPLICATIONS_FILE = "replications.parquet"
CHART_TABLES = ("box_visits", "truck_visits", "levels")

ReplicationValues = dict[str, dict[str, list[float | None]]]
"""scope (a yard id, or "corridor") -> KPI path -> one value per replication, in order."""


@dataclass(frozen=True, slots=True)
class Run:
    """One side of a comparison."""

    name: str
    values: ReplicationValues
    draws: tuple[str, ...]  # what seeded each replication; equal draws pair two runs
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)  # one replication's records
    yards: tuple[str, ...] = ()

    @property
    def replications(self) -> int:
        return len(self.draws)


@dataclass(frozen=True, slots=True)
class RunPlan:
    """How scenario files are run: replications, generated days, the first seed, workers."""

    replications: int = 10
    days: int = 7
    seed: int = jobs.DEFAULT_SEED
    start: datetime = DEFAULT_START
    workers: int = 1


def load_run(path: Path, plan: RunPlan) -> Run:
    """The run at `path`: a run directory or a scenario file (see the module docstring)."""
    check_run(path)
    if path.is_dir():
        return read_run_directory(path)
    return run_scenario_file(path, plan)


def check_run(path: Path) -> None:
    """Raise `ValueError`, naming `path`, unless it is a run directory or a valid scenario file:
    called on every path before any is run, a mistyped last one costs no run of the others."""
    if path.is_dir():
        if not (path / "kpis.json").is_file():
            raise ValueError(f"{path}: not a run directory (no kpis.json)")  # as read_run_directory
    elif path.suffix == ".toml":
        load_scenario(path)
    elif not path.exists():
        raise ValueError(f"{path}: no such run directory or scenario file")
    else:
        raise ValueError(f"{path}: expected a run directory or a scenario file (.toml)")


def read_run_directory(path: Path) -> Run:
    """A run directory's replications (or its single `kpis.json`) and its record tables."""
    kpis = path / "kpis.json"
    if not kpis.is_file():
        raise ValueError(f"{path}: not a run directory (no kpis.json)")
    report = json.loads(kpis.read_text("utf-8"))
    yards = tuple(report.get("yards", {}))
    table = path / REPLICATIONS_FILE
    if table.is_file():
        values = values_from_table(pd.read_parquet(table))
    else:
        values = report_values([report])
    seed = report.get("run", {}).get("seed")
    count = len(next(iter(next(iter(values.values())).values())))
    draws = tuple(f"{seed}/{replication}" for replication in range(count))
    frames = {
        name: pd.read_parquet(path / f"{name}.parquet")
        for name in CHART_TABLES
        if (path / f"{name}.parquet").is_file()
    }
    return Run(path.name, values, draws, frames, yards)


def run_scenario_file(path: Path, plan: RunPlan) -> Run:
    """Run the scenario for `plan.replications` replications (seeds seed, seed + 1, ...)."""
    scenario = load_scenario(path)
    seeds = [plan.seed + replication for replication in range(plan.replications)]
    tasks = [(path, seed, plan.days, plan.start, index == 0) for index, seed in enumerate(seeds)]
    if plan.workers > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(min(plan.workers, len(tasks))) as pool:
            results = list(pool.map(_run_one, tasks))
    else:
        results = [_run_one(task) for task in tasks]
    reports = [report for report, _ in results]
    return Run(
        scenario.name,
        report_values(reports),
        tuple(f"{seed}/0" for seed in seeds),
        results[0][1],
        tuple(scenario.stations),
    )


def _run_one(task: tuple[Path, int, int, datetime, bool]) -> tuple[KpiReport, dict[str, Any]]:
    """One replication of a scenario file (a top-level function: it runs in a worker)."""
    path, seed, days, start, keep_frames = task
    scenario = load_scenario(path)
    events = list(generate(scenario.stations, days=days, seed=seed, start=start))
    result = jobs.replay_events(
        events,
        scenario,
        source=jobs.simulation_input(scenario, seed, days, start),
        seed=seed,
        start=start,
        until=start + timedelta(days=days),
    )
    frames = {name: result.frames[name] for name in CHART_TABLES} if keep_frames else {}
    return result.report, frames


def report_values(reports: Sequence[Mapping[str, Any]]) -> ReplicationValues:
    """Per scope and KPI path, the value of each report (replication order)."""
    values: ReplicationValues = {}
    for index, report in enumerate(reports):
        scopes = [*report["yards"].items(), (CORRIDOR_SCOPE, report["corridor"])]
        for scope, block in scopes:
            for kpi, value in _leaves(block, ""):
                series = values.setdefault(scope, {}).setdefault(kpi, [None] * index)
                series.extend([None] * (index - len(series)))
                series.append(value)
    for kpis in values.values():
        for series in kpis.values():
            series.extend([None] * (len(reports) - len(series)))
    return values


def values_from_table(frame: pd.DataFrame) -> ReplicationValues:
    """`report_values` of a `replications.parquet` table (long form)."""
    missing = {"replication", "scope", "kpi", "value"} - set(frame.columns)
    if missing:
        raise ValueError(f"{REPLICATIONS_FILE}: missing column(s) {', '.join(sorted(missing))}")
    count = int(frame["replication"].max()) + 1 if len(frame) else 0
    values: ReplicationValues = {}
    for replication, scope, kpi, value in frame[
        ["replication", "scope", "kpi", "value"]
    ].itertuples(index=False):
        series = values.setdefault(str(scope), {}).setdefault(str(kpi), [None] * count)
        series[int(replication)] = None if pd.isna(value) else float(value)
    return values


def _leaves(block: Mapping[str, Any], prefix: str) -> list[tuple[str, float | None]]:
    """(dotted path, value) of every figure in a KPI block, in the block's order (a leaf that
    names something, `NAMING_KEYS`, is no figure)."""
    leaves: list[tuple[str, float | None]] = []
    for key, value in block.items():
        if isinstance(value, Mapping):
            leaves.extend(_leaves(value, f"{prefix}{key}."))
        elif key not in NAMING_KEYS:
            leaves.append((f"{prefix}{key}", None if value is None else float(value)))
    return leaves
