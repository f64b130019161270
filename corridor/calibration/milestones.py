"""Observed against modelled, per yard and stage: the pairs, and the table that sums them up.

A *stage* is the time between two milestones of one truck or train, measured the same way in
the observations and in the model, so each pair shares its start and differs only in how long
the stage took:

- `gate`: the truck's ETA (its arrival at the in-gate queue) to gate-in: queue and gate check;
- `in_yard`: gate-in to gate-out: the drive to the block, waits, the lift, the drive back and
  the out-gate check;
- `turnaround`: ETA to gate-out, the two above together;
- `train_departure`: a departure's timetabled time to its actual departure.

`in_yard` needs both of a truck's milestones observed. A pair counts only once the model has
reached the milestone too (a truck still in the yard at the end of the run has no pair).
"""

import numpy as np
import pandas as pd

STAGES = ("gate", "in_yard", "turnaround", "train_departure")
STAGE_LABELS = {
    "gate": "ETA → gate-in (queue + gate check)",
    "in_yard": "gate-in → gate-out (drive, lift, drive back, exit)",
    "turnaround": "ETA → gate-out",
    "train_departure": "timetable → train departed",
}
PAIR_COLUMNS = ["yard", "stage", "subject_id", "observed", "modelled"]
SUMMARY_COLUMNS = [
    "yard",
    "stage",
    "n",
    "observed_p50",
    "observed_p90",
    "modelled_p50",
    "modelled_p90",
    "bias_p50",
    "bias_mean",
]


def stage_pairs(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per (stage, truck or train) with both durations in minutes (`PAIR_COLUMNS`)."""
    milestones = _observed_milestones(frames["observations"])
    parts = [
        _truck_stages(frames["truck_visits"], milestones),
        _train_stages(frames["train_visits"], milestones),
    ]
    pairs = pd.concat([part for part in parts if len(part)], ignore_index=True)
    if pairs.empty:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    pairs = pairs.dropna(subset=["observed", "modelled"])
    pairs["yard"] = pairs["yard"].astype(str)
    return pairs[PAIR_COLUMNS].reset_index(drop=True)


def summarise(pairs: pd.DataFrame, yards: list[str]) -> pd.DataFrame:
    """Per yard and stage (in `yards` then `STAGES` order): n, medians, p90s and the bias.

    `bias_p50` is the median, `bias_mean` the mean, of each pair's observed minus modelled
    duration: positive when the model is faster than what was observed.
    """
    rows = []
    for (yard, stage), group in pairs.groupby(["yard", "stage"], sort=False):
        observed, modelled = group["observed"], group["modelled"]
        residual = observed - modelled
        rows.append(
            {
                "yard": yard,
                "stage": stage,
                "n": len(group),
                "observed_p50": observed.median(),
                "observed_p90": observed.quantile(0.9),
                "modelled_p50": modelled.median(),
                "modelled_p90": modelled.quantile(0.9),
                "bias_p50": residual.median(),
                "bias_mean": residual.mean(),
            }
        )
    table = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    order = {(yard, stage): i for i, (yard, stage) in enumerate(_grid(yards))}
    rank = [
        order.get((y, s), len(order)) for y, s in zip(table["yard"], table["stage"], strict=True)
    ]
    return table.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)


def _grid(yards: list[str]) -> list[tuple[str, str]]:
    return [(yard, stage) for yard in yards for stage in STAGES]


def _observed_milestones(observations: pd.DataFrame) -> pd.DataFrame:
    """Observed times, one row per (yard, subject), one column per milestone."""
    table = observations.assign(yard=observations["yard"].astype(str))
    table["milestone"] = table["milestone"].astype(str)
    wide = table.pivot_table(
        index=["yard", "subject_id"], columns="milestone", values="observed", aggfunc="first"
    )
    for milestone in ("gate_in", "gate_out", "train_departed"):
        if milestone not in wide.columns:
            wide[milestone] = np.nan
    return wide


def _truck_stages(visits: pd.DataFrame, milestones: pd.DataFrame) -> pd.DataFrame:
    trucks = visits.assign(yard=visits["yard"].astype(str)).join(
        milestones, on=["yard", "truck_id"], how="inner"
    )
    arrived, gate_in, gate_out = trucks["arrived"], trucks["gate_end"], trucks["departed"]
    seen_in, seen_out = trucks["gate_in"], trucks["gate_out"]
    stages = {
        "gate": (seen_in - arrived, gate_in - arrived),
        "in_yard": (seen_out - seen_in, gate_out - gate_in),
        "turnaround": (seen_out - arrived, gate_out - arrived),
    }
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "yard": trucks["yard"],
                    "stage": stage,
                    "subject_id": trucks["truck_id"].astype(str),
                    "observed": observed,
                    "modelled": modelled,
                }
            )
            for stage, (observed, modelled) in stages.items()
        ],
        ignore_index=True,
    )


def _train_stages(visits: pd.DataFrame, milestones: pd.DataFrame) -> pd.DataFrame:
    departures = visits[visits["direction"].astype(str) == "export"]
    trains = departures.assign(yard=departures["yard"].astype(str)).join(
        milestones, on=["yard", "train_id"], how="inner"
    )
    return pd.DataFrame(
        {
            "yard": trains["yard"],
            "stage": "train_departure",
            "subject_id": trains["train_id"].astype(str),
            "observed": trains["train_departed"] - trains["scheduled"],
            "modelled": trains["departed"] - trains["scheduled"],
        }
    )
