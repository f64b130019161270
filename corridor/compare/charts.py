"""The report's charts, drawn with matplotlib as inline SVG (no script, no network).

Each function returns one `<svg>` element as text. matplotlib is used without pyplot (a
`Figure` of its own, no global state), with text kept as text (`svg.fonttype = none`) and a
fixed id salt and no date, so the same runs give the same bytes. It is imported by the first
chart (`_figure`), not with this module: it is half of the `corridor` command's start-up
(0.4 of 0.9 s), which every command paid, a mistyped one too.
"""

import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from corridor.compare.runs import Run

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MINUTES_PER_HOUR = 60.0
TARGET_DWELL_H = 24.0
UTILISATION = ("gate", "handling", "plugs", "stack")


def ranking_chart(ranking: pd.DataFrame) -> str:
    """Hours of mean dwell saved per yard and lever, with the 95 % interval as error bars."""
    yards = list(dict.fromkeys(ranking["scope"]))
    figure = _figure((8, 0.5 + 0.35 * max(len(ranking), 1) + 0.3 * len(yards)))
    axes = figure.add_subplot()
    labels = [f"{row.scope}: {row.scenario}" for row in ranking.itertuples(index=False)]
    saved = ranking["hours_saved"].to_numpy(dtype=float)
    low = saved - ranking["saved_low"].to_numpy(dtype=float, na_value=np.nan)
    high = ranking["saved_high"].to_numpy(dtype=float, na_value=np.nan) - saved
    position = np.arange(len(ranking))[::-1]
    colours = ["#2f855a" if s else "#a0aec0" for s in ranking["significant"]]
    axes.barh(position, saved, color=colours, xerr=[np.nan_to_num(low), np.nan_to_num(high)])
    axes.set_yticks(position, labels)
    axes.axvline(0.0, color="black", linewidth=0.8)
    axes.set_xlabel("hours of mean dwell saved per box (green: significant at 95 %)")
    return _svg(figure)


def dwell_chart(runs: Sequence[Run]) -> str:
    """Share of boxes within x hours of dwell, per yard and run, against the 24 h line."""

    def dwell(frame: pd.DataFrame) -> "pd.Series[float]":
        return (frame["left"] - frame["entered"]) / MINUTES_PER_HOUR

    return _ecdf_panels(runs, "box_visits", dwell, "dwell (h)", TARGET_DWELL_H)


def stage_chart(runs: Sequence[Run]) -> str:
    """Where dwell goes: mean hours from entering to stacked, and from stacked to leaving."""
    yards = _yards(runs)
    figure = _figure((8, 0.8 + 0.45 * len(yards) * max(len(runs), 1)))
    axes = figure.add_subplot()
    labels, before, after = [], [], []
    for yard in yards:
        for run in runs:
            boxes = run.frames.get("box_visits")
            if boxes is None:
                continue
            left = boxes[(boxes["yard"] == yard) & boxes["left"].notna()]
            labels.append(f"{yard}: {run.name}")
            before.append(float((left["stacked"] - left["entered"]).mean() / MINUTES_PER_HOUR))
            after.append(float((left["left"] - left["stacked"]).mean() / MINUTES_PER_HOUR))
    position = np.arange(len(labels))[::-1]
    axes.barh(position, np.nan_to_num(before), label="entering to stacked")
    axes.barh(
        position, np.nan_to_num(after), left=np.nan_to_num(before), label="stacked to leaving"
    )
    axes.set_yticks(position, labels)
    axes.set_xlabel("mean hours per box that left (first replication)")
    return _svg(figure)


def turnaround_chart(runs: Sequence[Run]) -> str:
    """Share of trucks turned around within x minutes (gate queue to out-gate), per yard."""

    def turn(frame: pd.DataFrame) -> "pd.Series[float]":
        return frame["departed"] - frame["arrived"]

    return _ecdf_panels(runs, "truck_visits", turn, "truck turnaround (min)", None)


def gate_queue_chart(runs: Sequence[Run]) -> str:
    """Time-weighted mean gate queue by hour of the day, per yard and run."""
    yards = _yards(runs)
    figure = _figure((8, 2.4 * len(yards)))
    for index, yard in enumerate(yards):
        axes = figure.add_subplot(len(yards), 1, index + 1)
        for run in runs:
            levels = run.frames.get("levels")
            if levels is None:
                continue
            series = levels[(levels["yard"] == yard) & (levels["level"] == "gate_queue")]
            axes.plot(range(24), _by_hour(series), label=run.name, marker=".")
        axes.set_title(yard, loc="left", fontsize=10)
        axes.set_ylabel("trucks queued")
        axes.set_xticks(range(0, 24, 3))
    figure.axes[-1].set_xlabel("hour of the day (from the run's start)")
    return _svg(figure)


def equipment_chart(runs: Sequence[Run]) -> str:
    """Mean use (share of capacity, over the replications) of gate, handling, plugs, stack."""
    yards = _yards(runs)
    figure = _figure((8, 2.4 * len(yards)))
    width = 0.8 / max(len(runs), 1)
    for index, yard in enumerate(yards):
        axes = figure.add_subplot(len(yards), 1, index + 1)
        for number, run in enumerate(runs):
            kpis = run.values.get(yard, {})
            means = [_mean(kpis.get(f"utilisation.{name}", [])) for name in UTILISATION]
            axes.bar(np.arange(4) + number * width, means, width, label=run.name)
        axes.set_xticks(np.arange(4) + width * (len(runs) - 1) / 2, list(UTILISATION))
        axes.set_ylim(0, 1)
        axes.set_title(yard, loc="left", fontsize=10)
        axes.set_ylabel("share in use")
    return _svg(figure)


def _ecdf_panels(
    runs: Sequence[Run],
    table: str,
    measure: Callable[[pd.DataFrame], "pd.Series[float]"],
    label: str,
    target: float | None,
) -> str:
    yards = _yards(runs)
    figure = _figure((8, 2.4 * len(yards)))
    for index, yard in enumerate(yards):
        axes = figure.add_subplot(len(yards), 1, index + 1)
        for run in runs:
            frame = run.frames.get(table)
            if frame is None:
                continue
            values = np.sort(measure(frame[frame["yard"] == yard]).dropna().to_numpy(float))
            if len(values):
                axes.step(values, np.arange(1, len(values) + 1) / len(values), label=run.name)
        if target is not None:
            axes.axvline(target, color="#c53030", linestyle="--", label=f"{target:g} h target")
        axes.set_title(yard, loc="left", fontsize=10)
        axes.set_ylabel("share ≤ x")
    figure.axes[-1].set_xlabel(label)
    return _svg(figure)


def _by_hour(series: pd.DataFrame) -> list[float]:
    """Time-weighted mean of a step series for each hour of the day (minute grid)."""
    times = series["time"].to_numpy(float)
    values = series["value"].to_numpy(float)
    if len(times) == 0:
        return [0.0] * 24
    grid = np.arange(0.0, max(times[-1], 1.0), 1.0)
    at = np.searchsorted(times, grid, side="right") - 1
    level = np.where(at >= 0, values[np.clip(at, 0, None)], 0.0)
    hours = (grid // MINUTES_PER_HOUR).astype(int) % 24
    sums = np.bincount(hours, weights=level, minlength=24)
    counts = np.bincount(hours, minlength=24)
    return list(np.divide(sums, np.maximum(counts, 1)))


def _yards(runs: Sequence[Run]) -> list[str]:
    return list(dict.fromkeys(yard for run in runs for yard in run.yards))


def _mean(values: Sequence[float | None]) -> float:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else 0.0


def _figure(size: tuple[float, float]) -> "Figure":
    """A new figure of `size` inches, matplotlib set up for the report on first use."""
    import matplotlib as mpl  # here, not at the top: see the module docstring
    from matplotlib.figure import Figure

    mpl.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "corridor-compare"})
    return Figure(figsize=size)


def _svg(figure: "Figure") -> str:
    first = figure.axes[0] if figure.axes else None
    if first is not None and first.get_legend_handles_labels()[0]:
        first.legend(fontsize=8)
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]
