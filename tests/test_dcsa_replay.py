"""A DCSA-only day at 团结村 replays from the command line: its trains leave with their boxes.

The file is built here in the T&T 3.0 shape of the official examples (tests/data/dcsa), placed
at 团结村 (facility code TJC): export boxes gated in by truck and loaded on a rail call that
departs, an import train discharged and collected by truck, readings of an export reefer.
"""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from corridor.cli import main
from corridor.contract.container_ids import with_check_digit

CST = timezone(timedelta(hours=8))
DAY = datetime(2026, 1, 5, tzinfo=CST)
EXPORTS = 12
IMPORTS = 8


def v3_event(event_id: str, at: datetime, classification: dict[str, str], **details: Any) -> Any:
    return {
        "eventID": event_id,
        "eventDateTime": at.isoformat(),
        "eventLocation": {"locationName": "Tuanjiecun", "facility": {"facilityCode": "TJC"}},
        "eventClassification": {"eventClassifierCode": "ACT", **classification},
        **details,
    }


def transport(call: str, mode: str) -> dict[str, Any]:
    return {"transportCall": {"transportCallReference": call, "modeOfTransport": mode}}


def box_move(
    event_id: str, at: datetime, code: str, box: str, iso: str, call: str, mode: str
) -> Any:
    return v3_event(
        event_id,
        at,
        {"eventTypeCode": "EQUIPMENT", "equipmentEventTypeCode": code},
        equipmentDetails={
            "equipmentReference": box,
            "ISOEquipmentCode": iso,
            "emptyIndicatorCode": "LADEN",
        },
        transportDetails={
            "transportCall": {"transportCallReference": call, "modeOfTransport": mode}
        },
    )


def call_event(event_id: str, at: datetime, code: str, call: str, mode: str) -> Any:
    return v3_event(
        event_id,
        at,
        {"eventTypeCode": "TRANSPORT", "transportEventTypeCode": code},
        transportDetails={
            "transportCall": {"transportCallReference": call, "modeOfTransport": mode}
        },
    )


def reading(event_id: str, at: datetime, box: str, probe: float) -> Any:
    return v3_event(
        event_id,
        at,
        {"eventTypeCode": "REEFER", "reeferEventTypeCode": "MEAS"},
        equipmentDetails={"equipmentReference": box, "ISOEquipmentCode": "45R1"},
        reeferDetails={
            "temperatureUnit": "CEL",
            "internalSetpointTemperature": -18.0,
            "temperatureProbeMeasurements": [
                {"USDAProbeNumber": 1, "measuredTemperatureValue": probe}
            ],
        },
    )


def chongqing_day() -> list[Any]:
    """Exports by truck onto X8001 (leaves 16:00), imports off X9001 collected from 16:30.

    A replay runs to the last event: activity after the departure lets the train leave.
    """
    events: list[Any] = []
    exports = [with_check_digit(f"CBHU{k:06d}") for k in range(EXPORTS)]
    for k, box in enumerate(exports):
        iso = "45R1" if k == 0 else "45G1"
        gate = DAY + timedelta(hours=6, minutes=20 * k)
        loading = DAY + timedelta(hours=14, minutes=5 * k)
        events += [
            call_event(f"tr-arr-{k}", gate - timedelta(minutes=10), "ARRI", f"TRK-E{k}", "TRUCK"),
            box_move(f"gtin-{k}", gate, "GTIN", box, iso, f"TRK-E{k}", "TRUCK"),
            call_event(f"tr-dep-{k}", gate + timedelta(minutes=25), "DEPA", f"TRK-E{k}", "TRUCK"),
            box_move(f"load-{k}", loading, "LOAD", box, iso, "X8001", "RAIL"),
        ]
    events += [
        reading(f"meas-{q}", DAY + timedelta(hours=7, minutes=15 * q), exports[0], -17.6)
        for q in range(20)
    ]
    events.append(call_event("x8001-depa", DAY + timedelta(hours=16), "DEPA", "X8001", "RAIL"))
    events.append(call_event("x9001-arri", DAY + timedelta(hours=5), "ARRI", "X9001", "RAIL"))
    for k in range(IMPORTS):
        box = with_check_digit(f"MSCU{k:06d}")
        events.append(
            box_move(
                f"disc-{k}",
                DAY + timedelta(hours=5, minutes=30 + 5 * k),
                "DISC",
                box,
                "22G1",
                "X9001",
                "RAIL",
            )
        )
        events.append(
            box_move(
                f"gtot-{k}",
                DAY + timedelta(hours=16, minutes=30 + 20 * k),
                "GTOT",
                box,
                "22G1",
                f"TRK-I{k}",
                "TRUCK",
            )
        )
    estimated = call_event("x8002-est", DAY + timedelta(hours=20), "DEPA", "X8002", "RAIL")
    estimated["eventClassification"]["eventClassifierCode"] = "EST"
    return [*events, estimated]


@pytest.fixture
def dcsa_file(tmp_path: Path) -> Path:
    path = tmp_path / "tuanjiecun-day.json"
    path.write_text(json.dumps({"events": chongqing_day()}, indent=2), "utf-8")
    return path


def test_a_replay_of_a_dcsa_file_gives_trains_that_leave_with_their_boxes(
    dcsa_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["replay", str(dcsa_file), "--out", str(out), "--quiet"]) == 0
    assert "x8002-est" not in capsys.readouterr().out
    yard = json.loads((out / "kpis.json").read_text())["yards"]["tuanjiecun"]
    assert yard["trucks"] == EXPORTS + IMPORTS
    assert yard["dwell_h"]["by"]["export"]["mean"] > 0  # exports left: their dwell is measured
    boxes = pd.read_parquet(out / "box_visits.parquet")
    exports = boxes[boxes["direction"] == "export"]
    assert len(exports) == EXPORTS
    assert set(exports["train_id"]) == {"X8001"}
    assert exports["left"].notna().all()
    trains = pd.read_parquet(out / "train_visits.parquet")
    assert set(trains["train_id"]) == {"X8001", "X9001"}


def test_import_dcsa_writes_a_log_that_replays_the_same(
    dcsa_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "day.jsonl"
    assert main(["import-dcsa", str(dcsa_file), "--out", str(log)]) == 0
    streams = capsys.readouterr()
    assert "DCSA event" in streams.err
    assert "EST" in streams.err
    assert streams.err.count("skipped:") == 1
    direct, via_log = tmp_path / "direct", tmp_path / "via-log"
    assert main(["replay", str(dcsa_file), "--out", str(direct), "--quiet"]) == 0
    assert main(["replay", str(log), "--out", str(via_log), "--quiet"]) == 0
    replayed, logged = (json.loads((run / "kpis.json").read_text()) for run in (direct, via_log))
    assert replayed["yards"] == logged["yards"]
    assert replayed["run"]["events"]["applied"] == logged["run"]["events"]["applied"]
    assert replayed["run"]["events"]["rejected"] == {"malformed line": 1}  # the estimate
