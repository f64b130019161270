"""Writing a calibration out: the fitted scenario, the report in Markdown and HTML, and JSON.

`DIR/calibrated.toml` (the scenario, loadable by `corridor replay --scenario`),
`DIR/calibration.md`, `DIR/calibration.html` (self-contained) and `DIR/calibration.json` (the
same tables for a program, with every round of the fit).
"""

import json
from pathlib import Path
from typing import Any

from corridor.calibration.report_html import html_report
from corridor.calibration.report_markdown import markdown_report
from corridor.calibration.scenario_file import scenario_table, write_scenario
from corridor.calibration.search import Calibration
from corridor.calibration.summary import comparison, fit_rows

SCENARIO_FILE = "calibrated.toml"


def write_calibration(calibration: Calibration, out: Path, source: str, events: int) -> Path:
    """Write the four files into `out` (created if needed); returns the scenario's path."""
    out.mkdir(parents=True, exist_ok=True)
    scenario_path = out / SCENARIO_FILE
    table = scenario_table(calibration.base, calibration.fits, calibration.seed)
    write_scenario(table, scenario_path)
    header = _header(calibration, source, events)
    (out / "calibration.md").write_text(markdown_report(calibration, header), encoding="utf-8")
    (out / "calibration.html").write_text(html_report(calibration, header), encoding="utf-8")
    (out / "calibration.json").write_text(_json(calibration, header), encoding="utf-8")
    return scenario_path


def _header(calibration: Calibration, source: str, events: int) -> dict[str, Any]:
    rounds = len(calibration.rounds) - 1
    state = "converged" if calibration.converged else "stopped before converging"
    return {
        "input": source,
        "events": f"{events:,}",
        "base scenario": calibration.base.name,
        "seed": calibration.seed,
        "fit": f"{rounds} replay round(s) after the base run, {state}",
        "fitted scenario": SCENARIO_FILE,
    }


def _json(calibration: Calibration, header: dict[str, Any]) -> str:
    document = {
        "header": header,
        "converged": calibration.converged,
        "comparison": _records(comparison(calibration).to_dict("records")),
        "fits": fit_rows(calibration),
        "rounds": [
            {
                "fits": [
                    {"yard": f.yard, "parameter": f.knob.path, "shift_min": f.shift_min,
                     "scale": f.scale}
                    for f in one.fits if f.fitted
                ],
                "table": _records(one.table.to_dict("records")),
            }
            for one in calibration.rounds
        ],
    }  # fmt: skip
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def _records(rows: list[dict[Any, Any]]) -> list[dict[str, Any]]:
    """Rows with NaN as null and numpy scalars as plain numbers."""
    return [
        {str(k): (None if v != v else v.item() if hasattr(v, "item") else v) for k, v in r.items()}
        for r in rows
    ]
