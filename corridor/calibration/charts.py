"""Small inline SVG bar charts for the HTML report: no script, no font or file fetched.

One chart type: horizontal bars, grouped by category (a stage), one bar per series (observed,
modelled before, modelled after), with a zero line so a negative bias reads as one. Inline
`<svg>` in HTML needs no namespace declaration, so the page names no address at all.
"""

from collections.abc import Callable, Sequence
from html import escape
from typing import NamedTuple

BAR_H = 14
GAP = 10
LABEL_W = 250
PLOT_W = 420
VALUE_W = 70


class Series(NamedTuple):
    """One bar per category, in one colour."""

    name: str
    colour: str
    values: Sequence[float]


def bar_chart(title: str, categories: Sequence[str], series: Sequence[Series], unit: str) -> str:
    """An `<svg>` element: `categories` down the side, each with one bar per series."""
    group_h = BAR_H * len(series) + GAP
    legend_h = 20
    height = 30 + legend_h + group_h * len(categories)
    values = [v for s in series for v in s.values if v == v] or [0.0]
    low, high = min(0.0, *values), max(0.0, *values)
    span = (high - low) or 1.0

    def x(value: float) -> float:
        return LABEL_W + (value - low) / span * PLOT_W

    parts = [
        f'<svg role="img" width="{LABEL_W + PLOT_W + VALUE_W}" height="{height}" '
        f'viewBox="0 0 {LABEL_W + PLOT_W + VALUE_W} {height}">',
        f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>',
        *_legend(series, 36),
    ]
    top = 30 + legend_h
    for row, category in enumerate(categories):
        y0 = top + row * group_h
        parts.append(f'<text x="0" y="{y0 + group_h / 2:.1f}">{escape(category)}</text>')
        for k, one in enumerate(series):
            parts.append(_bar(x, one.values[row], one.colour, y0 + k * BAR_H, unit))
    zero = x(0.0)
    parts.append(
        f'<line x1="{zero:.1f}" y1="{top - 4}" x2="{zero:.1f}" y2="{height}" stroke="#333"/>'
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _bar(x: Callable[[float], float], value: float, colour: str, y: float, unit: str) -> str:
    if value != value:  # NaN: no pair for this stage
        return f'<text x="{LABEL_W}" y="{y + BAR_H - 3}" font-size="11">no data</text>'
    left, right = sorted((x(0.0), x(value)))
    label = f"{value:.1f} {unit}"
    return (
        f'<rect x="{left:.1f}" y="{y}" width="{max(right - left, 0.5):.1f}" '
        f'height="{BAR_H - 2}" fill="{colour}"><title>{escape(label)}</title></rect>'
        f'<text x="{LABEL_W + PLOT_W + 4}" y="{y + BAR_H - 3}" font-size="11">'
        f"{escape(label)}</text>"
    )


def _legend(series: Sequence[Series], y: int) -> list[str]:
    parts, left = [], LABEL_W
    for one in series:
        parts.append(f'<rect x="{left}" y="{y - 10}" width="10" height="10" fill="{one.colour}"/>')
        parts.append(f'<text x="{left + 14}" y="{y}" font-size="12">{escape(one.name)}</text>')
        left += 20 + 7 * len(one.name)
    return parts
