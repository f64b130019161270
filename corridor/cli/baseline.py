"""The baseline's figures, as the README and `docs/kpis.md` quote them.

Run `python -m corridor.cli.baseline` (default: the default `corridor simulate --days 14`,
seed 2026): it simulates, then prints one Markdown table per yard and the corridor with the
figures issue 11 calibrates against today's estimates and 2024's published volumes: mean
dwell by direction and for reefers, the share of boxes within 24 h, trains and TEU a year.
Where the calibration targets come from: `docs/sources.md`.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from corridor.cli import main as corridor_main

DAYS_PER_YEAR = 366  # 2024, the year of the published volumes
SHARES = ("share_within_24h", "share_within_24h_departed")


def simulate(days: int, seed: int, out: Path) -> int:
    """The default `corridor simulate` into `out`; its exit code."""
    return corridor_main(
        ["simulate", "--days", str(days), "--seed", str(seed), "--out", str(out), "--quiet"]
    )


def baseline_figures(out: Path) -> dict[str, dict[str, Any]]:
    """Per yard and for the corridor: dwell means, shares within 24 h, trains and TEU a year."""
    report = json.loads((out / "kpis.json").read_text("utf-8"))
    days = report["run"]["period"]["days"]
    trains = pd.read_parquet(out / "train_visits.parquet").groupby("yard").size()
    scopes = {**report["yards"], "corridor": report["corridor"]}
    figures = {}
    for name, kpis in scopes.items():
        dwell, throughput = kpis["dwell_h"], kpis["throughput"]
        yard_trains = trains.sum() if name == "corridor" else trains.get(name, 0)
        figures[name] = {
            **{f"{kind}_mean_h": dwell["by"].get(kind, {}).get("mean") for kind in _KINDS},
            **{share: dwell.get(share) for share in SHARES if share in dwell},
            "trains_per_year": round(float(yard_trains) / days * DAYS_PER_YEAR),
            "teu_handled_per_year": round(throughput["teu_in"] * 2 / days * DAYS_PER_YEAR),
        }
    return figures


_KINDS = ("export", "import", "reefer")


def markdown(figures: dict[str, dict[str, Any]]) -> str:
    """The figures as a Markdown table, one row per yard."""
    columns = list(next(iter(figures.values())))
    lines = [
        "| yard | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for name, row in figures.items():
        lines.append(f"| {name} | " + " | ".join(_cell(row[column]) for column in columns) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}" if value < 1 else f"{value:.1f}"
    return f"{value:,}"


def main(argv: list[str] | None = None) -> int:
    """Simulate the baseline and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m corridor.cli.baseline")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory)
        code = simulate(args.days, args.seed, out)
        if code:
            return code
        print(f"baseline: corridor simulate --days {args.days} --seed {args.seed}")
        print("(TEU handled a year = 2 x TEU in: every box is handled entering and leaving)")
        print(markdown(baseline_figures(out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
