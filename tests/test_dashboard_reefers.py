"""The dashboard's reefers heading out of their band, most urgent first, in a real headless
Chromium: the list follows the API's time to breach (breached first, never-breaching left
out), marks those under an hour, and says "none" for a yard with none.

Data reaches the store as the worker sends it (`SqlStore.commit`); the API is served by
uvicorn. Screenshot: `.artifacts/dashboard-reefers.png`.
"""

from datetime import timedelta
from pathlib import Path

import pytest

from api.store.sql_store import SqlStore
from tests.api_fixtures import (
    T0,
    corridor_batch,
    reefer_id,
    sample_reefer,
)
from tests.chromium import Chromium, dashboard_open

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parent.parent / ".artifacts"
YUZUI = {11: 150.0, 12: None, 13: 0.0, 14: 42.5, 15: 600.0}  # serial -> minutes to breach


def test_the_dashboard_lists_reefers_most_urgent_first(chromium: Chromium, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'corridor.db'}"
    store = SqlStore.open(url)
    batch = corridor_batch(T0)
    batch.reefers = [
        sample_reefer(
            "yuzui",
            serial,
            T0,
            power="off" if minutes else "on",
            minutes_to_breach=minutes,
            breach_at=None if minutes is None else T0 + timedelta(minutes=minutes),
        )
        for serial, minutes in YUZUI.items()
    ]
    store.commit(batch)
    with dashboard_open(chromium, store, url):
        card = ".yard[data-scope=yuzui] [data-breach]"
        chromium.wait_for(f"document.querySelector('{card}').dataset.count === '4'")
        rows = chromium.evaluate(
            f"[...document.querySelectorAll('{card} li')]"
            ".map(li => [li.dataset.container, +li.dataset.minutes, li.className])"
        )
        assert rows == [
            [reefer_id(13), 0.0, "urgent"],
            [reefer_id(14), 42.5, "urgent"],
            [reefer_id(11), 150.0, ""],
            [reefer_id(15), 600.0, ""],
        ]
        text = chromium.text(card)
        assert "Reefer time to breach: 4" in text
        assert f"{reefer_id(13)} breached" in text
        assert f"{reefer_id(14)} 43 min" in text
        assert f"{reefer_id(15)} 10.0 h" in text
        assert chromium.evaluate(f"document.querySelector('{card}').className") == "breach bad"
        assert chromium.text(".yard[data-scope=xiaonanya] [data-breach]").endswith(
            "none heading out of band"
        )
        chromium.screenshot(ARTIFACTS / "dashboard-reefers.png")
    assert chromium.errors == []
