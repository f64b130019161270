"""What a calibration report says, as plain rows: shared by the Markdown, HTML and JSON outputs."""

from typing import Any

import pandas as pd

from corridor.calibration.fitting import MIN_PAIRS_FOR_SCALE, MIN_PAIRS_FOR_SHIFT, Fit, describe
from corridor.calibration.milestones import STAGE_LABELS
from corridor.calibration.search import Calibration

NOT_IDENTIFIED = (
    (
        "gate.exit_min, handling.reach_stacker_lift_min",
        "inside gate-in → gate-out with the two drives: only the sum is observed, and the "
        "drive time absorbs it",
    ),
    (
        "gate.exception_service_min",
        "observations do not say which lane a truck used",
    ),
    (
        "traffic.import_pickup_h, traffic.export_lead_h, traffic.eta_lead_min",
        "traffic: a replay takes every truck's time from the log's own dispatches",
    ),
    (
        "rail.wagon_placement_min, handling.rmg_lift_min",
        "a train leaves at its timetabled time unless loading ends later, so departures "
        "identify loading only for late trains; reported, not fitted",
    ),
)
"""Parameters a planner might expect to see fitted, and why the milestones cannot fit them."""


def comparison(calibration: Calibration) -> pd.DataFrame:
    """One row per yard and stage: observed, modelled before and after, bias before and after."""
    keys = ["yard", "stage"]
    before = calibration.before.set_index(keys)
    after = calibration.after.set_index(keys)
    table = pd.DataFrame(
        {
            "n": before["n"],
            "observed_p50": before["observed_p50"],
            "observed_p90": before["observed_p90"],
            "modelled_p50_before": before["modelled_p50"],
            "modelled_p50_after": after["modelled_p50"],
            "modelled_p90_before": before["modelled_p90"],
            "modelled_p90_after": after["modelled_p90"],
            "bias_p50_before": before["bias_p50"],
            "bias_p50_after": after["bias_p50"],
        }
    )
    return table.reset_index()


def fit_rows(calibration: Calibration) -> list[dict[str, Any]]:
    """One row per yard and knob: what it was, what it became, on how many pairs, how."""
    return [_fit_row(fit) for fit in calibration.fits]


def stage_label(stage: str) -> str:
    return STAGE_LABELS.get(stage, stage)


def _fit_row(fit: Fit) -> dict[str, Any]:
    return {
        "yard": fit.yard,
        "parameter": fit.knob.path,
        "stage": fit.knob.stage,
        "pairs": fit.pairs,
        "fitted": fit.fitted,
        "before": describe(fit.before),
        "after": describe(fit.after) if fit.fitted else describe(fit.before),
        "shift_min": round(fit.shift_min, 4),
        "scale": round(fit.scale, 4),
        "how": _how(fit),
    }


def _how(fit: Fit) -> str:
    if not fit.fitted:
        return f"not fitted: {fit.pairs} pairs, fewer than {MIN_PAIRS_FOR_SHIFT}"
    legs = " (half on each leg)" if fit.knob.draws_per_stage == 2 else ""
    how = f"median shifted to match the stage's median{legs}"
    if fit.scale_fitted:
        return how + "; spread scaled to match its interquartile range"
    if fit.knob.fit_scale:
        return how + f"; spread kept (fewer than {MIN_PAIRS_FOR_SCALE} pairs)"
    return how + "; spread kept (not identified)"
