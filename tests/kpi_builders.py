"""Builders for hand-made record frames, shared by the KPI tests."""

from datetime import datetime, timedelta, timezone
from typing import Any

import pandas as pd

from corridor.kpis.report import compute_kpis, kpi_report
from corridor.kpis.result import InputInfo, KpiReport, ScenarioInfo, ScopedKpis
from stations.catalog import station_ids
from stations.records import (
    LEVELS,
    NOT_YET,
    RECORD_TYPES,
    BoxVisit,
    LevelChange,
    Lift,
    ReadingReceived,
    ReeferExcursion,
    TruckVisit,
)
from stations.spec import load_all_stations

TJ, XNY, YZ = station_ids()

# Small, round capacities so utilisation can be checked by hand.
CAPACITIES = {
    TJ: {"lanes": 3, "exception_lanes": 1, "rmgs": 1, "reach_stackers": 1, "teu": 100, "plugs": 10},
    XNY: {
        "lanes": 1,
        "exception_lanes": 1,
        "rmgs": 1,
        "reach_stackers": 1,
        "teu": 100,
        "plugs": 10,
    },
    YZ: {"lanes": 1, "exception_lanes": 1, "rmgs": 1, "reach_stackers": 1, "teu": 100, "plugs": 10},
}
STATIONS = load_all_stations(
    {
        yard: {
            "gate": {"lanes": c["lanes"], "exception_lanes": c["exception_lanes"]},
            "handling": {"rmgs": c["rmgs"], "reach_stackers": c["reach_stackers"]},
            "stack": {"capacity_teu": c["teu"], "reefer_plugs": c["plugs"]},
        }
        for yard, c in CAPACITIES.items()
    }
)
LABELS = {"direction", "equipment", "purpose", "kind", "milestone"}  # as corridor.frames makes them
EPOCH = datetime(2024, 3, 1, tzinfo=timezone(timedelta(hours=8)))
NAN = NOT_YET


def frames(*records: tuple[Any, ...], plain: bool = False) -> dict[str, pd.DataFrame]:
    """Record frames shaped like `corridor.kpis.record_frames.record_frames`: every table, the yard
    and label columns categorical (unless `plain`), levels sorted by (yard, level, time)."""
    by_type = {record_type: name for name, record_type in RECORD_TYPES.items()}
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in RECORD_TYPES}
    for record in records:
        rows[by_type[type(record)]].append(record)
    result = {}
    for name, record_type in RECORD_TYPES.items():
        fields = list(record_type._fields)  # type: ignore[attr-defined]
        frame = pd.DataFrame.from_records(rows[name], columns=fields)
        for field, kind in record_type.__annotations__.items():
            if kind in (float, int, bool):
                frame[field] = frame[field].astype(kind)
        if plain:
            frame["yard"] = frame["yard"].astype(str)
        else:
            frame["yard"] = pd.Categorical(frame["yard"], categories=station_ids())
            for label in LABELS.intersection(frame.columns):
                frame[label] = frame[label].astype("category")
        if name == "levels":
            frame["level"] = pd.Categorical(frame["level"], categories=LEVELS)
            frame = frame.sort_values(["yard", "level", "time"], kind="stable", ignore_index=True)
        result[name] = frame
    return result


def truck(yard: str, arrived: float, gate_start: float, departed: float) -> TruckVisit:
    return TruckVisit(
        yard, "TRK1", "CSQU3054383", "export", 1, False, arrived - 30.0, arrived, gate_start,
        gate_start + 1.0, False, NAN, NAN, departed,
    )  # fmt: skip


def box(
    yard: str,
    direction: str,
    entered: float,
    left: float,
    *,
    teu: int = 1,
    reefer: bool = False,
    stacked: float | None = None,
    inspection: tuple[float, float] | None = None,
    loading_start: float | None = None,
) -> BoxVisit:
    """A box visit. By default stacked as it enters; an export box is not held (inspection
    start and end at stacking) and loads from its leaving (NaN while in the yard)."""
    stacked = entered if stacked is None else stacked
    if direction != "export":
        return BoxVisit(
            yard, "CSQU3054383", direction, teu, reefer, entered, stacked, left, "X1", False, 0.0
        )
    inspection_start, cleared = (stacked, stacked) if inspection is None else inspection
    return BoxVisit(
        yard, "CSQU3054383", direction, teu, reefer, entered, stacked, left, "X1",
        inspection is not None, 0.0, inspection_start, cleared,
        left if loading_start is None else loading_start,
    )  # fmt: skip


def lift(yard: str, start: float, end: float) -> Lift:
    return Lift(yard, "rmg", "CSQU3054383", "truck", start, end)


def level(yard: str, name: str, time: float, value: float) -> LevelChange:
    return LevelChange(yard, name, time, value)


def excursion(yard: str, kind: str, start: float, end: float) -> ReeferExcursion:
    return ReeferExcursion(yard, "CSQU3054383", kind, start, end, NAN)


def kpis(data: dict[str, pd.DataFrame], start: float, end: float) -> ScopedKpis:
    return compute_kpis(data, start=start, end=end, stations=STATIONS)


SCENARIO = ScenarioInfo(name="capacities", digest="sha256:" + "5" * 64)
SOURCE = InputInfo(kind="log", digest="sha256:" + "1" * 64)


def report(data: dict[str, pd.DataFrame], start: float = 0.0, end: float = 1440.0) -> KpiReport:
    counts = {"applied": {"truck.dispatched": 3}, "rejected": {"duplicate": 1}}
    return kpi_report(
        data, start=start, end=end, stations=STATIONS, scenario=SCENARIO,
        seed=7, source=SOURCE, epoch=EPOCH, event_counts=counts,
    )  # fmt: skip


def reading(yard: str, time: float) -> ReadingReceived:
    return ReadingReceived(yard, "CSQU3054383", time)


def queue(yard: str, *points: tuple[float, float]) -> list[LevelChange]:
    return [level(yard, "gate_queue", time, value) for time, value in points]
