"""The forecast on the dashboard, in a real headless Chromium: for the corridor and each yard,
a fan chart of the gate queue and the turnaround — the p10-p90 band shaded and the p50 dashed,
after a "now" line at the forecast's start — and the trains at risk with the boxes over 24 h.

The store holds the worker's forecast (from two generated days, over 24 h); the API serves it
cut to the dashboard's 8 hours, through uvicorn; the note says when it is from. Screenshot:
`.artifacts/dashboard-forecast.png`.
"""

from datetime import timedelta
from pathlib import Path

import pytest

from api.store.sql_store import SqlStore
from corridor.scenario import DEFAULT_START
from tests.api_fixtures import T0, corridor_batch
from tests.chromium import Chromium, dashboard_open
from tests.test_api_forecast import worker_forecast

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parent.parent / ".artifacts"
SEED = 3
SCOPES = ["#corridor", ".yard[data-scope=tuanjiecun]", ".yard[data-scope=xiaonanya]",
          ".yard[data-scope=yuzui]"]  # fmt: skip


def fan_geometry(browser: Chromium, svg: str) -> dict[str, float]:
    """Where the chart drew the now line, the band and the p50 line (SVG user units)."""
    geometry: dict[str, float] = browser.evaluate(f"""(() => {{
        const svg = document.querySelector('{svg}');
        const band = svg.querySelector('polygon.fan').getAttribute('points').trim().split(' ')
            .map((p) => p.split(',').map(Number));
        const p50 = svg.querySelector('path.fan-p50').getAttribute('d').split(/[ML]/)
            .filter(Boolean).map((p) => p.split(',').map(Number));
        const now = Number(svg.querySelector('line.now-line').getAttribute('x1'));
        return {{now, band_left: Math.min(...band.map((p) => p[0])),
                 p50_left: Math.min(...p50.map((p) => p[0])),
                 p50_points: p50.length, band_points: band.length,
                 band_top: Math.min(...band.map((p) => p[1])),
                 band_bottom: Math.max(...band.map((p) => p[1])),
                 p50_top: Math.min(...p50.map((p) => p[1])),
                 p50_bottom: Math.max(...p50.map((p) => p[1]))}};
    }})()""")
    return geometry


def test_the_dashboard_draws_each_forecast_as_a_fan_after_the_now_line(
    chromium: Chromium, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'corridor.db'}"
    store = SqlStore.open(url)
    store.commit(corridor_batch(T0))
    store.put_forecast(worker_forecast(DEFAULT_START + timedelta(days=1, hours=22), 24), keep=4)
    with dashboard_open(chromium, store, url, ready_timeout=120):
        for scope in SCOPES:
            for chart in ("forecast-queue", "forecast-turn"):
                svg = f"{scope} svg[data-chart={chart}]"
                chromium.wait_for(f"document.querySelector('{svg}').dataset.hours === '8'", 120)
            turn = fan_geometry(chromium, f"{scope} svg[data-chart=forecast-turn]")
            assert turn["p50_points"] == 8
            assert turn["band_points"] == 16  # p90 forward, p10 back
            assert turn["now"] < turn["band_left"]
            assert turn["now"] < turn["p50_left"]
            assert turn["band_top"] <= turn["p50_top"] <= turn["p50_bottom"] <= turn["band_bottom"]
            note = chromium.text(f"{scope} [data-trains-at-risk]")
            assert "boxes over 24 h at +8 h" in note
            assert "train" in note
            assert "forecast from 14:00 UTC (event time)" in note  # 22:00 in Chongqing
        ARTIFACTS.mkdir(exist_ok=True)
        chromium.screenshot(ARTIFACTS / "dashboard-forecast.png")
    assert chromium.errors == []
