"""`calibration.html`: the report as one self-contained page (inline CSS and SVG, no address).

The page can be mailed or opened offline: nothing in it is fetched, no script runs.
"""

from html import escape
from typing import Any

import pandas as pd

from corridor.calibration.charts import Series, bar_chart
from corridor.calibration.search import Calibration
from corridor.calibration.summary import NOT_IDENTIFIED, comparison, fit_rows, stage_label

OBSERVED, BEFORE, AFTER = "#4a5568", "#dd6b20", "#3182ce"
_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 80em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
svg { display: block; margin: 1em 0; font-family: sans-serif; font-size: 13px; }
"""


def html_report(calibration: Calibration, header: dict[str, Any]) -> str:
    """The whole report as one HTML page."""
    rows = comparison(calibration)
    body = [
        "<h1>Calibration: observed against modelled</h1>",
        "<ul>" + "".join(f"<li>{escape(f'{k}: {v}')}</li>" for k, v in header.items()) + "</ul>",
        "<h2>Per yard: medians and bias, before and after the fit (minutes)</h2>",
        *(_yard_charts(str(yard), part) for yard, part in rows.groupby("yard", sort=False)),
        "<h2>Observed against modelled (minutes)</h2>",
        _table(_comparison_cells(rows)),
        "<h2>Fitted parameters</h2>",
        _table(_fit_cells(fit_rows(calibration))),
        "<h2>Not fitted, and why</h2>",
        _not_fitted(),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Calibration</title><style>{_STYLE}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _yard_charts(yard: str, part: pd.DataFrame) -> str:
    stages = [stage_label(stage) for stage in part["stage"]]
    medians = bar_chart(
        f"{yard}: median duration per stage",
        stages,
        [
            Series("observed", OBSERVED, part["observed_p50"].tolist()),
            Series("modelled before", BEFORE, part["modelled_p50_before"].tolist()),
            Series("modelled after", AFTER, part["modelled_p50_after"].tolist()),
        ],
        "min",
    )
    bias = bar_chart(
        f"{yard}: bias (observed − modelled, median of pairs)",
        stages,
        [
            Series("before", BEFORE, part["bias_p50_before"].tolist()),
            Series("after", AFTER, part["bias_p50_after"].tolist()),
        ],
        "min",
    )
    return f"<h3>{escape(yard)}</h3>\n{medians}\n{bias}"


def _not_fitted() -> str:
    items = (f"<li><code>{escape(n)}</code>: {escape(w)}</li>" for n, w in NOT_IDENTIFIED)
    return "<ul>" + "".join(items) + "</ul>"


def _comparison_cells(rows: pd.DataFrame) -> list[list[str]]:
    head = ["yard", "stage", "n", "observed p50", "observed p90", "modelled p50 before",
            "after", "modelled p90 before", "after", "bias before", "after"]  # fmt: skip
    body = [
        [str(r["yard"]), stage_label(str(r["stage"])), str(r["n"])]
        + [_m(r[c]) for c in ("observed_p50", "observed_p90", "modelled_p50_before",
                              "modelled_p50_after", "modelled_p90_before", "modelled_p90_after")]
        + [_m(r["bias_p50_before"], sign=True), _m(r["bias_p50_after"], sign=True)]
        for r in rows.to_dict("records")
    ]  # fmt: skip
    return [head, *body]


def _fit_cells(rows: list[dict[str, Any]]) -> list[list[str]]:
    head = ["yard", "parameter", "pairs", "before", "after", "shift (min)", "scale", "how"]
    body = [
        [r["yard"], r["parameter"], str(r["pairs"]), r["before"], r["after"],
         f"{r['shift_min']:+.2f}", f"{r['scale']:.2f}", r["how"]]
        for r in rows
    ]  # fmt: skip
    return [head, *body]


def _table(cells: list[list[str]]) -> str:
    head, *body = cells
    lines = ["<table><thead><tr>" + "".join(f"<th>{escape(c)}</th>" for c in head) + "</tr>"]
    lines.append("</thead><tbody>")
    lines += ["<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in body]
    lines.append("</tbody></table>")
    return "\n".join(lines)


def _m(value: float, *, sign: bool = False) -> str:
    if pd.isna(value):
        return "–"
    return f"{value:+.1f}" if sign else f"{value:.1f}"
