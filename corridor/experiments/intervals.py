"""Means and Student-t 95 % confidence intervals of KPIs over independent replications.

Replication i of a run gives one value x_i of a KPI (a replication without it, say no truck
left so no mean, gives none). Over the n values that exist the report gives their mean
x̄ = Σ x_i / n and the interval x̄ ± t(0.975, n − 1) · s / √n, s being the sample standard
deviation (n − 1 in its denominator): the textbook interval for the mean of independent,
roughly normal replication outputs (each replication's KPI is itself an average over many
trucks or boxes). With fewer than two values there is no interval (`ci95` is null).

The replicated `kpis.json` has the shape of a single run's with every number of its KPI
blocks (`yards`, `corridor`) and of `run.events` replaced by an `Interval`; figures keep the
report's six significant digits (`corridor.kpis.stats.figure`).
"""

import functools
import math
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from typing_extensions import TypedDict

from corridor.kpis.result import Figure, KpiReport
from corridor.kpis.stats import figure

CONFIDENCE = 0.95


class Interval(TypedDict):
    """One KPI over the replications: mean, 95 % interval [low, high] (null under 2 values), n."""

    mean: Figure
    ci95: list[Figure] | None
    n: int


def interval(values: Sequence[float | None]) -> Interval:
    """The mean and Student-t 95 % interval of the values that exist (None ones do not)."""
    present = [float(value) for value in values if value is not None]
    n = len(present)
    if n == 0:
        return Interval(mean=None, ci95=None, n=0)
    mean = math.fsum(present) / n
    if n == 1:
        return Interval(mean=figure(mean), ci95=None, n=1)
    deviation = math.sqrt(math.fsum((value - mean) ** 2 for value in present) / (n - 1))
    half_width = t_quantile(n - 1) * deviation / math.sqrt(n)
    return Interval(
        mean=figure(mean), ci95=[figure(mean - half_width), figure(mean + half_width)], n=n
    )


@functools.cache
def t_quantile(degrees_of_freedom: int) -> float:
    """The Student-t quantile that leaves (1 - CONFIDENCE) / 2 in the upper tail."""
    from scipy import stats  # here, not at the top: it costs every CLI command a second

    return float(stats.t.ppf(0.5 + CONFIDENCE / 2, degrees_of_freedom))


def replicated_report(reports: Sequence[KpiReport], warmup: timedelta) -> dict[str, Any]:
    """The replicated `kpis.json` of replications' reports (replication order)."""
    if not reports:
        raise ValueError("reports: no replication to summarise")
    first = reports[0]
    run = {
        "seed": first["run"]["seed"],
        "period": first["run"]["period"],
        "replications": len(reports),
        "warmup_h": figure(warmup / timedelta(hours=1)),
        "events": summarise([report["run"]["events"] for report in reports]),
    }
    return {
        "run": run,
        "yards": summarise([report["yards"] for report in reports]),
        "corridor": summarise([report["corridor"] for report in reports]),
    }


def summarise(blocks: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Nested blocks of the same shape merged, each numeric leaf replaced by its `Interval`.

    A key missing from some blocks (an event type one replication never saw) counts as a
    missing value there; booleans and strings are not figures and must not be leaves.
    """
    merged: dict[str, Any] = {}
    for key in sorted({key for block in blocks for key in block}):
        values = [block.get(key) for block in blocks]
        if any(isinstance(value, Mapping) for value in values):
            merged[key] = summarise(
                [value if isinstance(value, Mapping) else {} for value in values]
            )
        else:
            merged[key] = interval([_number(key, value) for value in values])
    return merged


def _number(key: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key}: expected a number or null, got {value!r}")
    return float(value)
