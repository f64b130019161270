"""The held trains of a what-if, for the planner's report: when each left and what it took.

`summary` turns `WhatIf.held` (per side, per train, one `HeldOutcome` per replication) into
plain values, one entry per train: its timetable and held departure, and per side the mean
departure (and delay against the timetable), boxes and TEU loaded, boxes left behind (booked
on it by their shippers, not on it when it left), and in how many replications it had not
left by the end of the run. `html_section` and `markdown_lines` show the same table.
"""

import html
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from corridor.forecast.holds import HeldOutcome

SIDES = ("baseline", "scenario")
FIGURES = ("departure_delay_min", "boxes_loaded", "teu_loaded", "left_behind")
TITLE = "Held trains: when they left and what they took"


def summary(held: Mapping[str, Sequence[Sequence[HeldOutcome]]]) -> list[dict[str, Any]]:
    """One entry per held train (module doc)."""
    entries = []
    for index, runs in enumerate(held.get("scenario", [])):
        first = runs[0]
        entry: dict[str, Any] = {
            "yard": first.yard,
            "train_id": first.train_id,
            "scheduled_departure": first.scheduled_departure.isoformat(),
            "held_departure": first.held_departure.isoformat(),
            "held_min": (first.held_departure - first.scheduled_departure).total_seconds() / 60,
        }
        for side in SIDES:
            entry[side] = _side(held[side][index])
        entries.append(entry)
    return entries


def _side(runs: Sequence[HeldOutcome]) -> dict[str, Any]:
    left = [run for run in runs if run.departed is not None]
    values: dict[str, Any] = {
        name: (sum(float(getattr(run, name)) for run in left) / len(left) if left else None)
        for name in FIGURES
    }
    delay = values["departure_delay_min"]
    values["departed"] = (
        None
        if delay is None
        else (runs[0].scheduled_departure + timedelta(minutes=delay)).isoformat()
    )
    values["not_departed"] = len(runs) - len(left)
    return values


def html_section(entries: Sequence[Mapping[str, Any]]) -> tuple[str, str, str] | None:
    """The report's section (`corridor.compare.page.Section`), None without held trains."""
    if not entries:
        return None
    rows = []
    for entry in entries:
        cells = [
            html.escape(f"{entry['yard']} {entry['train_id']}"),
            html.escape(_minute(entry["scheduled_departure"])),
            f"{entry['held_min']:g} min",
        ]
        for side in SIDES:
            values = entry[side]
            cells += [
                html.escape(_minute(values["departed"])),
                _number(values["departure_delay_min"], "+.0f"),
                _number(values["boxes_loaded"], ".1f"),
                _number(values["left_behind"], ".1f"),
            ]
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    heads = ["train", "timetable", "held"] + [
        f"{side}: {what}" for side in SIDES for what in ("left", "delay", "boxes on", "left behind")
    ]
    head = "".join(f"<th>{html.escape(name)}</th>" for name in heads)
    note = (
        '<p class="note">Means over the replications; delay in minutes against the timetable; '
        "left behind: boxes booked on the train by their shippers that did not leave with it.</p>"
    )
    return TITLE, f'<table id="held-trains"><tr>{head}</tr>{"".join(rows)}</table>\n{note}', "held"


def markdown_lines(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    """The same table in Markdown (nothing without held trains)."""
    if not entries:
        return []
    lines = [
        f"## {TITLE}",
        "",
        "| train | timetable | held | side | left | delay (min) | boxes on | left behind |",
        "|---|---|---:|---|---|---:|---:|---:|",
    ]
    for entry in entries:
        for side in SIDES:
            values = entry[side]
            lines.append(
                f"| {entry['yard']} {entry['train_id']} | {_minute(entry['scheduled_departure'])} "
                f"| {entry['held_min']:g} min | {side} | {_minute(values['departed'])} "
                f"| {_number(values['departure_delay_min'], '+.0f')} "
                f"| {_number(values['boxes_loaded'], '.1f')} "
                f"| {_number(values['left_behind'], '.1f')} |"
            )
    return [*lines, ""]


def _minute(moment: str | None) -> str:
    if moment is None:
        return "not left"
    return datetime.fromisoformat(moment).isoformat(sep=" ", timespec="minutes")


def _number(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)
