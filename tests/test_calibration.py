"""`corridor calibrate`: a log whose observations come from a twin with a known shift in one
process time (the "truth"), calibrated from the baseline under another seed, must give that
shift back within 10 %, a scenario that loads, and a smaller bias when replayed with it."""

import json
import re
from pathlib import Path
from typing import Any

import pytest

from corridor.calibration.search import stage_table
from corridor.cli import main
from corridor.contract import eventlog
from corridor.contract.events import Event, TruckGateIn, TruckGateOut
from corridor.engine.clock import to_datetime
from corridor.engine.twin import replay
from corridor.scenario import DEFAULT_START, Scenario, load_scenario, parse_scenario
from corridor.traffic.generator import generate
from stations.records import TruckVisit

YARD = "yuzui"
TRUTH_SEED, CALIBRATION_SEED = 11, 29  # different draws: the fit may not lean on equal samples
DAYS = 3


def shifted(section_field: str, low: float, mode: float, high: float) -> Scenario:
    """The baseline with one of the yard's triangular fields replaced."""
    section, field = section_field.split(".")
    table = {"dist": "triangular", "low": low, "mode": mode, "high": high}
    return parse_scenario({"stations": {YARD: {section: {field: table}}}}, name="truth")


def observed_log(path: Path, truth: Scenario) -> list[Event]:
    """The yard's traffic, with every truck's gate-in and gate-out as the truth twin played it."""
    base = load_scenario(None).stations
    traffic = list(
        generate({YARD: base[YARD]}, days=DAYS, seed=TRUTH_SEED, start=DEFAULT_START,
                 observed_share=0.0)
    )  # fmt: skip
    twin = replay(traffic, truth.stations, TRUTH_SEED)
    assert twin.epoch is not None
    visits: list[TruckVisit] = twin.tables()["truck_visits"]  # type: ignore[assignment]
    observed: list[Event] = []
    for visit in visits:
        gate_in = to_datetime(visit.gate_end, twin.epoch)
        gate_out = to_datetime(visit.departed, twin.epoch)
        observed.append(TruckGateIn(f"in-{visit.truck_id}", gate_in, YARD, visit.truck_id))
        observed.append(TruckGateOut(f"out-{visit.truck_id}", gate_out, YARD, visit.truck_id))
    events = sorted([*traffic, *observed], key=lambda event: event.ts)
    eventlog.write_log(events, path)
    return events


def run_calibrate(log: Path, out: Path) -> dict[str, Any]:
    return run_calibrate_source(str(log), out)


def fit_of(report: dict[str, Any], yard: str, parameter: str) -> dict[str, Any]:
    (row,) = [r for r in report["fits"] if r["yard"] == yard and r["parameter"] == parameter]
    return row


def gate_bias(table: Any, stage: str) -> float:
    row = table[(table["yard"] == YARD) & (table["stage"] == stage)]
    return float(row["bias_p50"].iloc[0])


@pytest.fixture(scope="module")
def gate_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[Event]]:
    """The smart gate check 2 minutes longer than the baseline's triangular(0.4, 0.6, 1.0)."""
    root = tmp_path_factory.mktemp("gate")
    events = observed_log(root / "observed.jsonl", shifted("gate.service_min", 2.4, 2.6, 3.0))
    run_calibrate(root / "observed.jsonl", root / "out")
    return root / "observed.jsonl", root / "out", events


def test_a_shifted_gate_service_time_is_recovered_within_10_percent(
    gate_case: tuple[Path, Path, list[Event]],
) -> None:
    _, out, _ = gate_case
    report = json.loads((out / "calibration.json").read_text("utf-8"))
    service = fit_of(report, YARD, "gate.service_min")
    assert service["fitted"]
    assert service["shift_min"] == pytest.approx(2.0, rel=0.10)
    assert 0.8 < service["scale"] < 1.25  # the truth kept the spread
    drive = fit_of(report, YARD, "gate.yard_drive_min")
    assert abs(drive["shift_min"]) < 0.5  # the drive was not touched: little to move
    assert not fit_of(report, "tuanjiecun", "gate.service_min")["fitted"]  # no observation there


def test_the_fitted_scenario_loads_and_replaying_with_it_cuts_the_bias(
    gate_case: tuple[Path, Path, list[Event]],
) -> None:
    log, out, events = gate_case
    fitted = load_scenario(out / "calibrated.toml")
    before = stage_table(events, load_scenario(None), CALIBRATION_SEED)
    after = stage_table(events, fitted, fitted.seed or 0)
    assert fitted.seed == CALIBRATION_SEED
    assert gate_bias(before, "gate") > 1.5
    assert abs(gate_bias(after, "gate")) < 0.2 * gate_bias(before, "gate")
    assert abs(gate_bias(after, "turnaround")) < abs(gate_bias(before, "turnaround"))
    code = main(["replay", str(log), "--scenario", str(out / "calibrated.toml"),
                 "--out", str(out / "replay"), "--quiet"])  # fmt: skip
    assert code == 0
    assert (out / "replay" / "kpis.json").is_file()


def test_the_report_shows_the_bias_before_and_after(
    gate_case: tuple[Path, Path, list[Event]],
) -> None:
    _, out, _ = gate_case
    markdown = (out / "calibration.md").read_text("utf-8")
    report = json.loads((out / "calibration.json").read_text("utf-8"))
    (gate,) = [r for r in report["comparison"] if r["yard"] == YARD and r["stage"] == "gate"]
    assert f"{gate['bias_p50_before']:+.1f} → {gate['bias_p50_after']:+.1f}" in markdown
    assert "`gate.service_min`" in markdown


def test_the_html_page_is_self_contained(gate_case: tuple[Path, Path, list[Event]]) -> None:
    _, out, _ = gate_case
    page = (out / "calibration.html").read_text("utf-8")
    assert page.count("<svg") >= 2
    assert re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE) is None
    assert "http://" not in page
    assert "https://" not in page
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()


def test_a_shifted_yard_drive_time_is_recovered_within_10_percent(tmp_path: Path) -> None:
    """Each leg 3 minutes longer than the baseline's triangular(4, 8, 15)."""
    observed_log(tmp_path / "observed.jsonl", shifted("gate.yard_drive_min", 7.0, 11.0, 18.0))
    report = run_calibrate(tmp_path / "observed.jsonl", tmp_path / "out")
    drive = fit_of(report, YARD, "gate.yard_drive_min")
    assert drive["shift_min"] == pytest.approx(3.0, rel=0.10)
    assert abs(fit_of(report, YARD, "gate.service_min")["shift_min"]) < 0.3


def test_a_missing_log_is_one_line_and_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["calibrate", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "out")])
    assert code == 2
    assert "nope.jsonl" in capsys.readouterr().err
    assert not (tmp_path / "out" / "calibrated.toml").exists()


def test_a_store_url_naming_no_database_creates_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "absent.db"
    code = main(["calibrate", f"sqlite:///{database}", "--out", str(tmp_path / "out")])
    assert code == 2
    assert "no such database file" in capsys.readouterr().err
    assert not database.exists()


def test_a_store_archive_is_calibrated_as_its_log(
    gate_case: tuple[Path, Path, list[Event]], tmp_path: Path
) -> None:
    """The worker's archive in a real SQLite store gives the same fit as the log it holds."""
    from api.store.sql_store import SqlStore
    from corridor.contract.events import encode_event
    from corridor.store_contract import ArchivedEvent, TwinBatch

    _, log_out, events = gate_case
    url = f"sqlite:///{tmp_path / 'twin.db'}"
    store = SqlStore.open(url)
    archived = [ArchivedEvent(e.event_id, e.yard, e.ts, encode_event(e)) for e in events]
    store.commit(TwinBatch("corridor-twin", {}, archived=archived))
    store.close()
    report = run_calibrate_source(url, tmp_path / "out")
    from_log = json.loads((log_out / "calibration.json").read_text("utf-8"))
    assert (tmp_path / "out" / "archive.jsonl").is_file()
    assert report["fits"] == from_log["fits"]


def run_calibrate_source(source: str, out: Path) -> dict[str, Any]:
    code = main(["calibrate", source, "--out", str(out), "--seed", str(CALIBRATION_SEED),
                 "--quiet"])  # fmt: skip
    assert code == 0
    report: dict[str, Any] = json.loads((out / "calibration.json").read_text("utf-8"))
    return report
