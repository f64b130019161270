"""Compare runs and write `comparison.csv`, `comparison.md` and `report.html` into a folder."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from corridor.compare.page import report_html
from corridor.compare.runs import Run, RunPlan, check_run, load_run
from corridor.compare.table import comparison_frame, markdown, write_csv


@dataclass(frozen=True, slots=True)
class Comparison:
    """What a comparison found, and the runs it compared."""

    frame: pd.DataFrame
    base: Run
    scenarios: list[Run]


def compare_paths(base: Path, scenarios: Sequence[Path], plan: RunPlan) -> Comparison:
    """Load (or run) the base and every scenario, and compare each with the base; every path
    is checked before the first is run."""
    for path in (base, *scenarios):
        check_run(path)
    base_run = load_run(base, plan)
    others = [load_run(path, plan) for path in scenarios]
    return compare_runs(base_run, others)


def compare_runs(base: Run, scenarios: Sequence[Run]) -> Comparison:
    """Compare runs already loaded; scenario names must tell them apart."""
    names = [run.name for run in scenarios]
    if len(set(names)) != len(names):
        scenarios = [_renamed(run, index) for index, run in enumerate(scenarios)]
    return Comparison(comparison_frame(base, scenarios), base, list(scenarios))


def write_comparison(comparison: Comparison, out: Path) -> list[Path]:
    """Write the three files into `out` (created if missing); returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "comparison.csv", out / "comparison.md", out / "report.html"]
    write_csv(comparison.frame, paths[0])
    paths[1].write_text(
        markdown(comparison.frame, comparison.base, comparison.scenarios), encoding="utf-8"
    )
    paths[2].write_text(
        report_html(comparison.frame, comparison.base, comparison.scenarios), encoding="utf-8"
    )
    return paths


def _renamed(run: Run, index: int) -> Run:
    return Run(f"{run.name} ({index + 1})", run.values, run.draws, run.frames, run.yards)
