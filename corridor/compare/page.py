"""`report.html`: one self-contained page, the ranking of the levers first.

Everything is in the file: the styles, the charts as inline SVG (`corridor.compare.charts`),
no script and no link to anything outside, so it opens in a browser without network and can
be mailed as it is. The order is the planner's: which lever saves most dwell per yard, then
the dwell distribution against the 24 h line, the stage split of dwell, truck turnaround, the
gate queue over the day, equipment use, and the significant differences in a table.
"""

import html
import math
from collections.abc import Sequence

import pandas as pd

from corridor.compare import charts
from corridor.compare.runs import Run
from corridor.compare.table import pairing, ranking

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #1a202c; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; font-size: 0.85rem; } td, th { padding: 0.2rem 0.6rem; }
th { text-align: left; border-bottom: 1px solid #a0aec0; } td.n { text-align: right; }
figure { margin: 0; } svg { max-width: 100%; height: auto; }
.note { color: #4a5568; font-size: 0.9rem; }
"""


Section = tuple[str, str, str]
"""A page section: its title, its HTML content (escaped by its maker) and its id."""


def report_html(
    frame: pd.DataFrame, base: Run, scenarios: Sequence[Run], first: Sequence[Section] = ()
) -> str:
    """The whole page; `first`: sections a caller puts before the ranking (a what-if's held
    trains, `corridor.forecast.held_report`)."""
    runs = [base, *scenarios]
    ranked = ranking(frame)
    sections = [
        *first,
        ("Levers ranked by hours of dwell saved per yard", _ranking(ranked), "ranking"),
        ("Dwell against the 24 h target", charts.dwell_chart(runs), "dwell"),
        ("Where the dwell goes", charts.stage_chart(runs), "stages"),
        ("Truck turnaround", charts.turnaround_chart(runs), "turnaround"),
        ("Gate queue over the day", charts.gate_queue_chart(runs), "gate-queue"),
        ("Equipment use", charts.equipment_chart(runs), "equipment"),
        ("Significant differences", _significant(frame), "differences"),
    ]
    body = "\n".join(
        f'<section id="{key}"><h2>{html.escape(title)}</h2>\n{content}</section>'
        for title, content, key in sections
    )
    methods = "; ".join(
        f"{html.escape(run.name)}: {_method_words(pairing(base, run))}" for run in scenarios
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Comparison against {html.escape(base.name)}</title>"
        f"<style>{STYLE}</style></head><body>\n"
        f"<h1>Which lever brings a yard to one day? Against {html.escape(base.name)}</h1>\n"
        f'<p class="note">Differences are scenario − base with 95 % intervals ({methods}). '
        "Charts of distributions show the first replication of each run.</p>\n"
        f"{body}\n</body></html>\n"
    )


def _ranking(ranked: pd.DataFrame) -> str:
    if ranked.empty:
        return "<p>No run has a mean dwell to rank.</p>"
    rows = "".join(
        f"<tr><td>{html.escape(str(row.scope))}</td><td>{html.escape(str(row.scenario))}</td>"
        f'<td class="n">{_hours(row.hours_saved)}</td>'
        f'<td class="n">[{_hours(row.saved_low)}, {_hours(row.saved_high)}]</td>'
        f"<td>{'yes' if row.significant else 'no'}</td></tr>"
        for row in ranked.itertuples(index=False)
    )
    table = (
        '<table id="ranking-table"><tr><th>yard</th><th>lever</th><th>hours saved</th>'
        f"<th>95 % interval</th><th>significant</th></tr>{rows}</table>"
    )
    return f"{table}\n<figure>{charts.ranking_chart(ranked)}</figure>"


def _significant(frame: pd.DataFrame) -> str:
    found = frame[frame["significant"]]
    if found.empty:
        return "<p>No difference is significant at 95 %.</p>"
    rows = "".join(
        f"<tr><td>{html.escape(str(row.scenario))}</td><td>{html.escape(str(row.scope))}</td>"
        f"<td><code>{html.escape(str(row.kpi))}</code></td>"
        f'<td class="n">{row.base:.4g}</td><td class="n">{row.value:.4g}</td>'
        f'<td class="n">{row.difference:+.4g}</td>'
        f'<td class="n">[{row.ci95_low:.4g}, {row.ci95_high:.4g}]</td></tr>'
        for row in found.itertuples(index=False)
    )
    return (
        "<table><tr><th>scenario</th><th>yard</th><th>KPI</th><th>base</th><th>scenario</th>"
        f"<th>difference</th><th>95 % interval</th></tr>{rows}</table>"
    )


def _hours(value: object) -> str:
    number = float(str(value))
    return "–" if math.isnan(number) else f"{number:+.2f}"


def _method_words(method: str) -> str:
    return "paired t on common random numbers" if method == "paired" else "Welch t"
