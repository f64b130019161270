"""The comparison table: per scenario, yard and KPI, scenario − base with its 95 % interval.

`comparison.csv` has one row per (scenario, scope, kpi) with the columns `scenario`, `scope`
(a yard id or `corridor`), `kpi` (the dotted path of the figure in `kpis.json`), `base`,
`value` (the means over the replications), `difference` (value − base), `ci95_low`,
`ci95_high`, `significant` (the interval excludes 0), `method` (`paired` on common random
numbers, `welch` otherwise), `n_base`, `n_scenario`. `comparison.md` says the same in words:
the method, then for each scenario the significant differences, and the rest counted.
"""

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from corridor.compare.runs import Run
from corridor.compare.stats import Method, compare_values

COLUMNS = [
    "scenario",
    "scope",
    "kpi",
    "base",
    "value",
    "difference",
    "ci95_low",
    "ci95_high",
    "significant",
    "method",
    "n_base",
    "n_scenario",
]
FIGURES = ("base", "value", "difference", "ci95_low", "ci95_high")
DWELL = "dwell_h.mean"
"""The ranking's KPI: mean hours a box spends in the yard."""


def pairing(base: Run, scenario: Run) -> Method:
    """Paired when both runs drew the same random numbers replication by replication."""
    return "paired" if base.draws == scenario.draws and base.replications > 1 else "welch"


def comparison_frame(base: Run, scenarios: Sequence[Run]) -> pd.DataFrame:
    """Every KPI both runs have, for every scenario against the base."""
    rows = []
    for scenario in scenarios:
        method = pairing(base, scenario)
        for scope, kpis in base.values.items():
            for kpi, base_values in kpis.items():
                other = scenario.values.get(scope, {}).get(kpi)
                if other is None:
                    continue
                found = compare_values(base_values, other, method)
                rows.append(
                    [
                        scenario.name,
                        scope,
                        kpi,
                        found.base,
                        found.scenario,
                        found.difference,
                        found.low,
                        found.high,
                        found.significant,
                        found.method,
                        found.n_base,
                        found.n_scenario,
                    ]
                )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype(dict.fromkeys(FIGURES, float))  # None becomes NaN


def ranking(frame: pd.DataFrame) -> pd.DataFrame:
    """Hours of mean dwell saved per yard (base − scenario), best lever first per yard."""
    dwell = frame[(frame["kpi"] == DWELL) & frame["difference"].notna()].copy()
    dwell["hours_saved"] = -dwell["difference"]
    dwell["saved_low"] = -dwell["ci95_high"]
    dwell["saved_high"] = -dwell["ci95_low"]
    ordered = dwell.sort_values(["scope", "hours_saved"], ascending=[True, False], kind="stable")
    columns = ["scope", "scenario", "hours_saved", "saved_low", "saved_high", "significant"]
    return ordered[columns].reset_index(drop=True)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """`comparison.csv`: the frame as it is, floats with up to 6 significant digits."""
    frame.to_csv(path, index=False, float_format="%.6g")


def markdown(frame: pd.DataFrame, base: Run, scenarios: Sequence[Run]) -> str:
    """`comparison.md`: the method, then each scenario's significant differences in words."""
    lines = [f"# Comparison against `{base.name}`", ""]
    for scenario in scenarios:
        method = pairing(base, scenario)
        lines.append(f"## {scenario.name}")
        lines.append("")
        lines.append(_method_sentence(method, base, scenario))
        lines.append("")
        rows = frame[frame["scenario"] == scenario.name]
        significant = rows[rows["significant"]]
        if significant.empty:
            lines.append(f"No significant difference at 95 % in any of {len(rows)} KPIs.")
        else:
            lines.append(
                f"{len(significant)} of {len(rows)} KPIs differ significantly at 95 % "
                "(the interval of the difference excludes 0):"
            )
            lines.append("")
            lines.append("| yard | KPI | base | scenario | difference | 95 % interval |")
            lines.append("|---|---|---:|---:|---:|---|")
            for row in significant.itertuples(index=False):
                lines.append(
                    f"| {row.scope} | `{row.kpi}` | {_num(row.base)} | {_num(row.value)} "
                    f"| {_num(row.difference, sign=True)} "
                    f"| [{_num(row.ci95_low)}, {_num(row.ci95_high)}] |"
                )
        lines.append("")
    return "\n".join(lines)


def _method_sentence(method: Method, base: Run, scenario: Run) -> str:
    if method == "paired":
        return (
            f"Paired t on common random numbers: {scenario.replications} replications, "
            "each with the same seed as the base's."
        )
    return (
        f"Welch t on independent replications ({base.replications} base, "
        f"{scenario.replications} scenario)."
    )


def _num(value: object, sign: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    number = float(str(value))
    return f"{number:+.4g}" if sign else f"{number:.4g}"
