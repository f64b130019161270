"""*Level* KPIs: the gate queue, and how much of the gates, equipment, plugs and stack is in use.

A level is time-weighted, never averaged per record: a queue of 2 trucks for 5 minutes weighs
as much as a queue of 1 for 10 (the step-function rules are in `corridor.kpis.steps`). Use is
the mean level over the window divided by the capacity in the yard's `StationSpec`; for the
corridor both are summed over the yards first (a capacity-weighted mean), so a big idle yard
counts for more than a small busy one.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from corridor.kpis.frames import Floats, Indices, Table, Window, label_index
from corridor.kpis.result import QueueLength, Utilisation
from corridor.kpis.stats import figure
from corridor.kpis.steps import StepSeries, step_series, step_stats, summed
from stations.records import LEVELS
from stations.spec import StationSpec


@dataclass(frozen=True, slots=True)
class Levels:
    """Every level series of the run, keyed `yard * len(LEVELS) + level`, and the window."""

    series: StepSeries
    n_yards: int
    window: Window
    corridor: bool = True  # whether the figures end with the corridor's (`Table.corridor`)
    stats: dict[str, tuple[Floats, Floats]] = field(default_factory=dict, compare=False)

    def of(self, level: str) -> tuple[Floats, Floats]:
        """Per yard: the level's time-weighted mean and its max (NaN: no points for that yard);
        read-only, made once per level (the KPIs and the partials read the same ones)."""
        found = self.stats.get(level)
        if found is not None:
            return found
        mean, peak = np.full(self.n_yards, np.nan), np.full(self.n_yards, np.nan)
        for yard in range(self.n_yards):
            key = self.key(yard, level)
            if self.series.has(key):
                mean[yard], peak[yard] = step_stats(
                    *self.series.in_window(key, self.window), self.window
                )
        mean.flags.writeable = peak.flags.writeable = False
        self.stats[level] = mean, peak
        return mean, peak

    def key(self, yard: int, level: str) -> int:
        return yard * len(LEVELS) + LEVELS.index(level)


def levels_over(table: Table, window: Window) -> Levels:
    """Read the `levels` table (yard, level, time, value) as step functions over the window.

    The step functions do not depend on the window: they are made once per table and kept in
    its cache (a live snapshot reads one table for four windows, the KPIs and the partials),
    and so is each window's `Levels` with the statistics it has made."""
    series: StepSeries | None = table.cache.get(("levels", "series"))
    if series is None:
        series = _step_series(table)
        table.cache[("levels", "series")] = series
    made = series
    return table.memo(
        ("levels over", window), lambda: Levels(made, table.n_yards, window, table.corridor)
    )


def _step_series(table: Table) -> StepSeries:
    level = label_index(table.frame["level"], LEVELS, "levels.level")
    key = table.yard.astype(np.intp) * len(LEVELS) + level
    return series_of(key, table.floats("time"), table.floats("value"), table.n_yards * len(LEVELS))


def series_of(key: Indices, time: Floats, value: Floats, n_keys: int) -> StepSeries:
    """The level points as step series (`step_series`), after checking they are numbers; the
    arrays read-only, as every window's reader shares them."""
    for column, numbers in (("time", time), ("value", value)):
        bad = int(np.count_nonzero(~np.isfinite(numbers)))
        if bad:
            raise ValueError(f"levels.{column}: {bad} rows are not finite numbers")
    series = step_series(key, time, value, n_keys)
    for array in (series.time, series.value, series.bounds):  # shared by every window's reader
        array.flags.writeable = False
    return series


def gate_queue_len(levels: Levels) -> list[QueueLength]:
    """Gate queue length: trucks waiting for an in-gate lane (level `gate_queue`), in trucks.

    Per yard: the time-weighted mean and the max of the level over the window. Corridor: the
    same of the sum of the yards' queues (its max is the largest total at any one moment, not
    the sum of the yards' maxima). None where no yard recorded the level.
    """
    mean, peak = levels.of("gate_queue")
    scoped = [QueueLength(mean=figure(m), max=figure(p)) for m, p in zip(mean, peak, strict=True)]
    if not levels.corridor:
        return scoped
    keys = [levels.key(yard, "gate_queue") for yard in range(levels.n_yards)]
    parts = [levels.series.in_window(key, levels.window) for key in keys if levels.series.has(key)]
    corridor = QueueLength(mean=None, max=None)
    if parts:
        total_mean, total_peak = step_stats(*summed(parts, levels.window), levels.window)
        corridor = QueueLength(mean=figure(total_mean), max=figure(total_peak))
    return [*scoped, corridor]


def utilisation(
    levels: Levels, lifts: Table, stations: Sequence[StationSpec], window: Window
) -> list[Utilisation]:
    """Share of capacity in use over the window, dimensionless (0..1).

    - gate: mean of level `gate_busy` (smart lanes serving a truck) / gate.lanes;
    - exception_lane: mean of level `exception_busy` (manual lanes serving) /
      gate.exception_lanes (None for a yard without one);
    - handling: minutes of lifts (`lifts`, start to end, clipped to the window; a lift with no
      end runs to the window's end) / ((handling.rmgs + handling.reach_stackers) * window minutes);
    - plugs: mean of level `plugs_in_use` / stack.reefer_plugs;
    - stack: mean of level `stack_teu` / stack.capacity_teu.
    Corridor: busy summed over the yards / capacity summed over the same yards.
    """
    machines = [spec.handling.rmgs + spec.handling.reach_stackers for spec in stations]
    pooled = levels.corridor
    shares = {
        "gate": _share(levels.of("gate_busy")[0], [spec.gate.lanes for spec in stations], pooled),
        "exception_lane": _share(
            levels.of("exception_busy")[0],
            [spec.gate.exception_lanes for spec in stations],
            pooled,
        ),
        "handling": _share(_lifting_minutes(lifts, window) / window.minutes, machines, pooled),
        "plugs": _share(
            levels.of("plugs_in_use")[0], [s.stack.reefer_plugs for s in stations], pooled
        ),
        "stack": _share(
            levels.of("stack_teu")[0], [s.stack.capacity_teu for s in stations], pooled
        ),
    }
    return [
        Utilisation(gate=gate, exception_lane=manual, handling=handling, plugs=plugs, stack=stack)
        for gate, manual, handling, plugs, stack in zip(
            *(shares[name] for name in ("gate", "exception_lane", "handling", "plugs", "stack")),
            strict=True,
        )
    ]


def _lifting_minutes(lifts: Table, window: Window) -> Floats:
    """Minutes of lifting inside the window, per yard (made once per table and window)."""

    def make() -> Floats:
        every = np.ones(lifts.rows, dtype=np.bool_)
        start = lifts.known_times("start", every, "in the table")
        minutes = window.overlap(start, lifts.floats("end"))
        return np.asarray(lifts.scoped_sums(minutes, every)[: lifts.n_yards], dtype=np.float64)

    return lifts.memo(("lifting minutes", window), make)


def _share(busy: Floats, capacity: Sequence[int], corridor: bool = True) -> list[float | None]:
    """busy / capacity per yard, then the capacity-weighted corridor figure (yards with data;
    when `corridor`); None where there is no data or no capacity (a yard without an exception
    lane)."""
    capacities = np.asarray(capacity, dtype=np.float64)
    known = ~np.isnan(busy) & (capacities > 0)
    per_yard = [
        figure(float(b) / c) if ok else None
        for b, c, ok in zip(busy, capacities, known, strict=True)
    ]
    if not corridor:
        return per_yard
    pooled = busy[known].sum() / capacities[known].sum() if known.any() else np.nan
    return [*per_yard, figure(float(pooled))]
