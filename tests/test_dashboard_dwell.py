"""The dashboard's dwell against the one-day target, in a real headless Chromium: the boxes over
24 h now (oldest first, with their stage) from the API, and the stacked bar of the dwell stages
per yard against the 24 h line, "—" wherever the snapshot does not carry a figure.

Data reaches the store as the worker sends it (`SqlStore.commit`); the API is served by uvicorn.
Screenshots in `.artifacts/`: `dashboard-dwell.png` (the page as served) and
`dashboard-dwell-stages.png` (every yard's bar drawn from a snapshot with stages).
"""

import dataclasses
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.store.sql_store import SqlStore
from corridor.engine.live_view import BoxNow
from tests.api_fixtures import T0, corridor_batch, sample_kpis
from tests.chromium import Chromium, dashboard_open

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parent.parent / ".artifacts"
STAGES = {
    "export": {
        "gate_to_stack": 0.5,
        "waiting_for_inspection": 6.0,
        "inspection": 3.5,
        "waiting_for_train": 18.0,
        "loading": 2.0,
    },
    "import": {"waiting_for_unloading": 4.0, "waiting_for_pickup": 41.0},
}
OLD_BOXES = [  # (yard, serial, age in hours, stage)
    ("yuzui", 1, 30.0, "waiting_for_train"),
    ("yuzui", 2, 52.5, "waiting_for_pickup"),
    ("yuzui", 3, 26.25, "inspection"),
    ("yuzui", 4, 20.0, "waiting_for_pickup"),  # under 24 h: not listed
    ("tuanjiecun", 5, 40.0, "waiting_for_unloading"),
]


def old_box(yard: str, serial: int, age_h: float, stage: str) -> dict[str, Any]:
    """An old box as the worker sends it, at the clock T0."""
    direction = "import" if stage in ("waiting_for_unloading", "waiting_for_pickup") else "export"
    entered = T0 - timedelta(hours=age_h)
    reefer, train = serial == 2, f"T-{serial}"
    number = f"TGHU{serial:07d}"
    now = BoxNow(yard, number, direction, reefer, 2, entered, T0, age_h, stage, train)
    return dataclasses.asdict(now)


def kpis_with_stages() -> dict[str, Any]:
    """A KPI block with the dwell fields that count every box (as the KPI code will give it)."""
    kpis = sample_kpis()
    kpis["dwell_h"] = {
        **kpis["dwell_h"],
        "stages": STAGES,
        "bottleneck": {"stage": "waiting_for_pickup", "share": 0.8},
        "in_yard": {"boxes": 640, "over_24h": 4, "age_h": {"p50": 9.0, "p90": 31.0, "max": 52.5}},
        "share_within_24h_departed": 0.83,
    }
    return kpis


def listed(browser: Chromium, where: str) -> list[list[str]]:
    """(container, stage) of each box an overdue list shows, top to bottom."""
    rows = f"[...document.querySelectorAll('{where} [data-overdue] li')]"
    return list(browser.evaluate(f"{rows}.map(li => [li.dataset.container, li.dataset.stage])"))


def test_the_dashboard_lists_the_boxes_over_24h_and_shows_the_stages_the_api_gives(
    chromium: Chromium, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'corridor.db'}"
    store = SqlStore.open(url)
    batch = corridor_batch(T0)
    batch.snapshots = [dataclasses.replace(s, kpis=kpis_with_stages()) for s in batch.snapshots]
    batch.boxes = [old_box(*row) for row in OLD_BOXES]
    store.commit(batch)
    with dashboard_open(chromium, store, url) as server:
        chromium.wait_for("document.querySelector('.yard[data-scope=yuzui] [data-overdue]')"
                          ".dataset.total === '3'")  # fmt: skip
        assert listed(chromium, ".yard[data-scope=yuzui]") == [
            ["TGHU0000002", "waiting_for_pickup"],
            ["TGHU0000001", "waiting_for_train"],
            ["TGHU0000003", "inspection"],
        ]
        yuzui = chromium.text(".yard[data-scope=yuzui] [data-overdue]")
        assert "在场超 24 h Boxes over 24 h now: 3" in yuzui
        assert "待提箱 waiting for pickup" in yuzui
        assert "2.2 d" in yuzui  # 52.5 h
        assert chromium.text(".yard[data-scope=xiaonanya] [data-overdue]").endswith("none")
        assert [row[0] for row in listed(chromium, "#corridor")] == [
            "TGHU0000002", "TGHU0000005", "TGHU0000001", "TGHU0000003"
        ]  # fmt: skip

        # The bar shows what the API's KPI view carries: the stages once the KPI type has them
        view = httpx.get(f"{server.url}/yards/yuzui/kpis", params={"window": "24h"}).json()
        served = view["kpis"]["dwell_h"].get("stages")
        card = ".yard[data-scope=yuzui] [data-stages]"
        state = chromium.evaluate(f"document.querySelector('{card}').dataset.state")
        assert state == ("shown" if served else "absent")
        if served is None:
            assert chromium.text(card).split("\n")[1] == "—"
            assert "bottleneck: —" in chromium.text(card)
        else:
            assert shown_hours(chromium, card) == served
        chromium.screenshot(ARTIFACTS / "dashboard-dwell.png")

        draw_every_yard(chromium, kpis_with_stages())
        chromium.screenshot(ARTIFACTS / "dashboard-dwell-stages.png")
    assert chromium.errors == []


def shown_hours(browser: Chromium, card: str) -> dict[str, dict[str, float]]:
    """Hours per direction and stage, as the stacked bar's segments carry them."""
    rows = browser.evaluate(
        f"[...document.querySelectorAll('{card} rect[data-stage]')].map(r =>"
        " [r.parentNode.dataset.direction, r.dataset.stage, +r.dataset.hours])"
    )
    hours: dict[str, dict[str, float]] = {}
    for direction, stage, value in rows:
        hours.setdefault(direction, {})[stage] = value
    return hours


def draw_every_yard(browser: Chromium, kpis: dict[str, Any]) -> None:
    """Render each yard's stage block from `kpis` with the page's own code."""
    browser.evaluate(
        "document.querySelectorAll('.yard [data-stages]').forEach(card =>"
        f" renderDwellStages(card, {json.dumps(kpis)}))"
    )


def test_the_stacked_bar_splits_dwell_by_stage_against_the_24h_line(
    chromium: Chromium, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'corridor.db'}"
    store = SqlStore.open(url)
    store.commit(corridor_batch(T0))
    card = ".yard[data-scope=xiaonanya] [data-stages]"
    with dashboard_open(chromium, store, url):
        draw_every_yard(chromium, kpis_with_stages())

        assert shown_hours(chromium, card) == STAGES  # every stage, in the order given
        totals = chromium.evaluate(
            f"[...document.querySelectorAll('{card} g[data-direction]')]"
            ".map(g => [g.dataset.direction, +g.dataset.total])"
        )
        assert totals == [["export", 30.0], ["import", 45.0]]
        card_js = json.dumps(card)
        geometry = chromium.evaluate(f"""(() => {{
            const root = document.querySelector({card_js});
            const line = root.querySelector('line[data-target-h]');
            const bar = (d) => [...root.querySelectorAll(`g[data-direction=${{d}}] rect`)];
            const right = (r) => +r.getAttribute('x') + +r.getAttribute('width');
            const end = (rects) => Math.max(...rects.map(right));
            const start = (rects) => Math.min(...rects.map(r => +r.getAttribute('x')));
            return {{target: +line.getAttribute('x1'), exportStart: start(bar('export')),
                     exportEnd: end(bar('export')), importEnd: end(bar('import'))}};
        }})()""")
        per_hour = (geometry["exportEnd"] - geometry["exportStart"]) / 30.0
        assert geometry["target"] == pytest.approx(geometry["exportStart"] + 24 * per_hour)
        assert geometry["importEnd"] == pytest.approx(geometry["exportStart"] + 45 * per_hour)
        text = chromium.text(card)
        assert "瓶颈 bottleneck: 待提箱 waiting for pickup 80%" in text
        assert "640 boxes · 4 over 24 h · age p90 31 h, max 52.5 h" in text
        assert "departed within 24 h: 83%" in text

        # absent, partial or malformed figures show "—" and never break the page
        without_stages = {"dwell_h": {"mean": 30.0}}  # a snapshot from before the stages
        for kpis in (None, without_stages, {"dwell_h": {"stages": "soon", "in_yard": 3}}):
            browser_render(chromium, card, kpis)
            assert chromium.evaluate(f"document.querySelector('{card}').dataset.state") == (
                "absent"
            )
            assert chromium.text(card).split("\n")[1] == "—"
        browser_render(chromium, card, {"dwell_h": {"stages": {"export": {"loading": "2 h"}}}})
        assert shown_hours(chromium, card) == {}
    assert chromium.errors == []


def browser_render(browser: Chromium, card: str, kpis: dict[str, Any] | None) -> None:
    browser.evaluate(
        f"renderDwellStages(document.querySelector('{card}'), {json.dumps(kpis)}) ?? true"
    )
