"""The fit itself: replay, compare, adjust, until the fitted stages' residuals vanish.

A stage's median is not a linear function of a process time (a longer gate check also lengthens
the queue before it), so the fit is not read off one replay: each round replays the whole log
under the current estimates, measures what is left (observed minus modelled median of the
stage; for a fitted spread, the ratio of the interquartile ranges) and moves each knob by it. The
rounds stop when every residual is below `SHIFT_TOLERANCE_MIN` (and every spread ratio within
`SCALE_TOLERANCE`), or after `MAX_ROUNDS`; the last round replayed is the one reported and
written, so the "after" figures are exactly those of the written scenario. Every replay uses
the same seed, so the whole fit is deterministic.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd

from corridor.calibration.fitting import (
    KNOBS,
    MIN_PAIRS_FOR_SCALE,
    MIN_PAIRS_FOR_SHIFT,
    Fit,
)
from corridor.calibration.milestones import stage_pairs, summarise
from corridor.calibration.scenario_file import scenario_table
from corridor.contract.events import Event
from corridor.engine.twin import replay
from corridor.kpis.record_frames import record_frames
from corridor.scenario import Scenario, parse_scenario

MAX_ROUNDS = 8
SHIFT_TOLERANCE_MIN = 0.2  # 12 s: below what gate clocks and a median of a few hundred resolve
SCALE_TOLERANCE = 0.05  # spread ratios within 5 % of 1


@dataclass(frozen=True, slots=True)
class Round:
    """One replay: the estimates it ran with and the observed-vs-modelled table it gave."""

    fits: tuple[Fit, ...]
    table: pd.DataFrame


@dataclass(frozen=True, slots=True)
class Calibration:
    """The rounds of a fit; the first ran the base scenario, the last the fitted one."""

    base: Scenario
    seed: int
    rounds: tuple[Round, ...]
    converged: bool

    @property
    def before(self) -> pd.DataFrame:
        return self.rounds[0].table

    @property
    def after(self) -> pd.DataFrame:
        return self.rounds[-1].table

    @property
    def fits(self) -> tuple[Fit, ...]:
        return self.rounds[-1].fits


def calibrate(
    events: Sequence[Event], base: Scenario, seed: int, *, max_rounds: int = MAX_ROUNDS
) -> Calibration:
    """Fit every knob the log's observations identify, starting from `base`."""
    if not events:
        raise ValueError("no events to calibrate on")
    yards = list(base.stations)
    pairs = _pairs(events, base, seed)
    fits = tuple(_with_data(_unfitted(base, yard, knob_index), pairs) for yard in yards
                 for knob_index in range(len(KNOBS)))  # fmt: skip
    rounds = [Round(fits, summarise(pairs, yards))]
    converged = False
    for _ in range(max_rounds + 1):
        steps = [_step(fit, pairs) for fit in fits]
        converged = all(done for _, done in steps)
        if converged or len(rounds) > max_rounds:
            break
        fits = tuple(fit for fit, _ in steps)
        scenario = parse_scenario(scenario_table(base, fits, seed), name=base.name)
        pairs = _pairs(events, scenario, seed)
        rounds.append(Round(fits, summarise(pairs, yards)))
    return Calibration(base, seed, tuple(rounds), converged)


def stage_table(events: Sequence[Event], scenario: Scenario, seed: int) -> pd.DataFrame:
    """The observed-vs-modelled table of one replay (what a check of a fit compares)."""
    return summarise(_pairs(events, scenario, seed), list(scenario.stations))


def _pairs(events: Sequence[Event], scenario: Scenario, seed: int) -> pd.DataFrame:
    return stage_pairs(record_frames(replay(events, scenario.stations, seed)))


def _unfitted(base: Scenario, yard: str, knob_index: int) -> Fit:
    knob = KNOBS[knob_index]
    before = getattr(getattr(base.stations[yard], knob.section), knob.field)
    return Fit(yard, knob, before)


def _selected(fit: Fit, pairs: pd.DataFrame) -> pd.DataFrame:
    chosen = (pairs["yard"] == fit.yard) & (pairs["stage"] == fit.knob.stage)
    return pairs[chosen]


def _with_data(fit: Fit, pairs: pd.DataFrame) -> Fit:
    n = len(_selected(fit, pairs))
    scale = fit.knob.fit_scale and n >= MIN_PAIRS_FOR_SCALE
    return replace(fit, pairs=n, fitted=n >= MIN_PAIRS_FOR_SHIFT, scale_fitted=scale)


def _step(fit: Fit, pairs: pd.DataFrame) -> tuple[Fit, bool]:
    """The next estimate of one knob, and whether this one was already close enough."""
    if not fit.fitted:
        return fit, True
    stage = _selected(fit, pairs)
    residual = float(stage["observed"].median() - stage["modelled"].median())
    ratio = _spread(stage["observed"]) / _spread(stage["modelled"]) if fit.scale_fitted else None
    if ratio is not None and not (math.isfinite(ratio) and ratio > 0):
        ratio = None  # a spread of zero says nothing about how to scale
    done = abs(residual) <= SHIFT_TOLERANCE_MIN and (
        ratio is None or abs(math.log(ratio)) <= SCALE_TOLERANCE
    )
    return fit.stepped(residual, ratio), done


def _spread(values: pd.Series) -> float:
    """The interquartile range (see `corridor.calibration.fitting` for why not p90 - p50)."""
    return float(values.quantile(0.75) - values.quantile(0.25))
