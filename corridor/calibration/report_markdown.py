"""`calibration.md`: the observed-vs-modelled table before and after the fit, and the fit."""

from typing import Any

import pandas as pd

from corridor.calibration.search import Calibration
from corridor.calibration.summary import NOT_IDENTIFIED, comparison, fit_rows, stage_label


def markdown_report(calibration: Calibration, header: dict[str, Any]) -> str:
    """The whole report as Markdown; `header` lists what was calibrated (log, events, files)."""
    lines = ["# Calibration: observed against modelled", ""]
    lines += [f"- {key}: {value}" for key, value in header.items()]
    lines += [
        "",
        "## Observed against modelled, per yard and stage (minutes)",
        "",
        "Bias is the median over the pairs of observed minus modelled duration: positive when",
        "the model is faster than the observations. Before: the base scenario; after: the",
        "fitted scenario, replayed on the same log with the same seed.",
        "",
        "| yard | stage | n | observed p50 | observed p90 | modelled p50 before → after "
        "| modelled p90 before → after | bias before → after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [_comparison_line(row) for row in comparison(calibration).to_dict("records")]
    lines += ["", "## Fitted parameters", "", "| yard | parameter | pairs | before | after "
              "| shift (min) | scale | how |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    lines += [_fit_line(row) for row in fit_rows(calibration)]
    lines += ["", "## Not fitted, and why", ""]
    lines += [f"- `{names}`: {why}." for names, why in NOT_IDENTIFIED]
    lines += ["", "The method is described in `docs/calibration.md`.", ""]
    return "\n".join(lines)


def _comparison_line(row: dict[Any, Any]) -> str:
    return (
        f"| {row['yard']} | {stage_label(row['stage'])} | {row['n']} "
        f"| {_m(row['observed_p50'])} | {_m(row['observed_p90'])} "
        f"| {_m(row['modelled_p50_before'])} → {_m(row['modelled_p50_after'])} "
        f"| {_m(row['modelled_p90_before'])} → {_m(row['modelled_p90_after'])} "
        f"| {_m(row['bias_p50_before'], sign=True)} → {_m(row['bias_p50_after'], sign=True)} |"
    )


def _fit_line(row: dict[str, Any]) -> str:
    return (
        f"| {row['yard']} | `{row['parameter']}` | {row['pairs']} | {row['before']} "
        f"| {row['after']} | {row['shift_min']:+.2f} | {row['scale']:.2f} | {row['how']} |"
    )


def _m(value: float, *, sign: bool = False) -> str:
    if pd.isna(value):
        return "–"
    return f"{value:+.1f}" if sign else f"{value:.1f}"
