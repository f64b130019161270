"""The default 14-day simulation reproduces today: dwell as estimated, volumes as published
(issue 11, item 3; targets and their sources in docs/sources.md)."""

from pathlib import Path
from typing import Any

import pytest

from corridor.cli.baseline import baseline_figures, simulate

HOURS_PER_DAY = 24.0


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    out: Path = tmp_path_factory.mktemp("baseline")
    assert simulate(14, 2026, out) == 0
    return baseline_figures(out)


def test_dwell_matches_todays_estimate(figures: dict[str, dict[str, Any]]) -> None:
    corridor = figures["corridor"]
    assert 24.0 <= corridor["export_mean_h"] <= 72.0  # export 1-3 days
    assert 48.0 <= corridor["import_mean_h"] <= 120.0  # import 2-5 days
    assert 0.5 * HOURS_PER_DAY <= corridor["reefer_mean_h"] <= 2 * HOURS_PER_DAY
    for share in ("share_within_24h", "share_within_24h_departed"):
        if share in corridor:  # the departed-only figure is kept beside the all-boxes one
            assert corridor[share] < 0.7


def test_every_yard_is_far_from_the_one_day_target_today(
    figures: dict[str, dict[str, Any]],
) -> None:
    for name, row in figures.items():
        assert row["export_mean_h"] > HOURS_PER_DAY, name
        assert row["share_within_24h"] < 0.7, name


def test_volumes_match_2024(figures: dict[str, dict[str, Any]]) -> None:
    assert figures["xiaonanya"]["trains_per_year"] == pytest.approx(1_804, rel=0.02)
    assert figures["tuanjiecun"]["teu_handled_per_year"] == pytest.approx(730_700, rel=0.05)
