"""The comparison report in a real headless Chromium (Debian's): it loads from a file with no
console error and no network request, the ranking comes first and every chart is drawn.
Screenshot: `.artifacts/compare-report.png`.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from corridor.compare.report import compare_paths, write_comparison
from corridor.compare.runs import RunPlan
from tests.chromium import Chromium, chromium_binary

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / ".artifacts"
SCENARIOS = ROOT / "scenarios"


class WatchedChromium(Chromium):
    """A Chromium that also keeps the console messages and network requests it is told of."""

    def __init__(self, binary: str, profile: Path) -> None:
        self.console: list[str] = []
        self.requests: list[str] = []
        super().__init__(binary, profile)
        for domain in ("Network.enable", "Log.enable"):
            self.call(domain, session=True)

    def _note(self, reply: dict[str, Any]) -> None:
        super()._note(reply)
        event, params = reply.get("method"), reply.get("params", {})
        if event == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning"):
            self.console.append(json.dumps(params.get("args"))[:500])
        elif event == "Log.entryAdded" and params["entry"].get("level") in ("error", "warning"):
            self.console.append(params["entry"].get("text", "")[:500])
        elif event == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[WatchedChromium]:
    browser = WatchedChromium(chromium_binary(), tmp_path / "profile")
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report of two levers against the baseline: 3 replications of one day each."""
    out = tmp_path_factory.mktemp("report")
    levers = [SCENARIOS / "smart-tallying.toml", SCENARIOS / "truck-appointments.toml"]
    comparison = compare_paths(
        SCENARIOS / "baseline.toml", levers, RunPlan(replications=3, days=1, seed=5)
    )
    write_comparison(comparison, out)
    return out / "report.html"


def test_the_report_opens_offline_with_every_chart(chromium: WatchedChromium, report: Path) -> None:
    url = report.as_uri()
    chromium.navigate(url)
    chromium.wait_for("document.readyState === 'complete'")
    sections = chromium.evaluate("[...document.querySelectorAll('section')].map(s => s.id)")
    assert sections[:6] == ["ranking", "dwell", "stages", "turnaround", "gate-queue", "equipment"]
    assert "smart-tallying" in chromium.text("#ranking-table")
    drawn = chromium.evaluate(
        "[...document.querySelectorAll('section svg')].map(svg => "
        "[svg.closest('section').id, svg.querySelectorAll('path').length, "
        "svg.getBoundingClientRect().width])"
    )
    assert {section for section, _, _ in drawn} == {
        "ranking", "dwell", "stages", "turnaround", "gate-queue", "equipment",
    }  # fmt: skip
    assert all(paths > 20 and width > 300 for _, paths, width in drawn)
    dwell_text = chromium.text("#dwell")
    assert "24 h target" in dwell_text
    ARTIFACTS.mkdir(exist_ok=True)
    chromium.screenshot(ARTIFACTS / "compare-report.png")
    assert chromium.errors == []
    assert chromium.console == []
    assert chromium.requests == [url]  # the page itself, nothing else
