"""DCSA Track & Trace events, turned into v1 events where the twin has a counterpart.

Carriers and terminals report what happens to a box, a truck or a train as DCSA events. The
twin is driven by trucks and trains, so this module decides, event by event, whether a DCSA
event is a *fact* the twin can use, and `corridor.contract.dcsa_assembly` turns the facts into
v1 events (see `docs/events.md`, "DCSA"):

- equipment events, actual and laden: `GTIN` and `GTOT` by truck (an export delivery, an
  import pickup), `DISC` and `LOAD` by rail (boxes off and onto a train);
- transport events, actual: `ARRI` and `DEPA` of a rail call (a train arrives, a train
  leaves: the departure is what schedules a train, so exports leave) or of a truck call (when
  the truck reached the yard and when it left);
- reefer events (3.0): `MEAS`, a measurement, becomes a `reefer.reading`.

Everything else (estimated and planned events, shipment and IoT events, empty boxes, places
that are not one of the yards, retracted events, invalid container numbers) becomes a
`DcsaNote` naming the DCSA field and the reason: never a silent drop, never a traceback.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from corridor.contract.container_ids import container_number_error, size_type_error
from corridor.contract.dcsa_assembly import Conversion, Fact, assemble
from corridor.contract.dcsa_shapes import DcsaItem, DcsaNote, DcsaRecord, read_dcsa_file
from stations.spec import StationSpec

PICKUP_TURNAROUND_MIN = 30.0
_GATE = ("GTIN", "GTOT")
_RAIL_MOVES = ("DISC", "LOAD")
_EXPECTED_MOVEMENT = {"GTIN": "EXPORT", "GTOT": "IMPORT"}


def facility_codes(stations: Mapping[str, StationSpec]) -> dict[str, str]:
    """Facility code or place name (case-folded) -> yard id, from the station specs.

    A yard is named by its id, its English and Chinese names and its DCSA facility codes (its
    station file's `[dcsa] facility_codes`). Chongqing's UN/LOCODE (CNCKG) covers every yard,
    so it names none of them.
    """
    table: dict[str, str] = {}
    for spec in stations.values():
        names = (spec.id, spec.name_en, spec.name_zh, *spec.identity.dcsa_facility_codes)
        table.update({name.casefold(): spec.id for name in names})
    return table


def convert_dcsa(
    items: Iterable[DcsaItem],
    stations: Mapping[str, StationSpec],
    *,
    facilities: Mapping[str, str] | None = None,
    pickup_turnaround_min: float = PICKUP_TURNAROUND_MIN,
) -> Conversion:
    """v1 events (in time order) and notes for DCSA records from `dcsa_shapes`.

    `facilities` adds codes or place names to the station files' (e.g. {"CNCKG": "yuzui"}).
    """
    places = {**facility_codes(stations), **_folded(facilities or {})}
    every = list(items)
    records = [item for item in every if isinstance(item, DcsaRecord)]
    verdicts = _verdicts(records, places)
    facts = [verdict for verdict in verdicts if isinstance(verdict, Fact)]
    notes = [item for item in [*every, *verdicts] if isinstance(item, DcsaNote)]
    conversion = assemble(facts, stations, timedelta(minutes=pickup_turnaround_min))
    return conversion.with_notes(notes)


def import_dcsa_files(
    paths: Sequence[Path],
    stations: Mapping[str, StationSpec],
    *,
    facilities: Mapping[str, str] | None = None,
    pickup_turnaround_min: float = PICKUP_TURNAROUND_MIN,
) -> Conversion:
    """Read and convert DCSA files together (a train's events may span files).

    Raises `DcsaFileError` for a file that cannot be read at all.
    """
    items = [item for path in paths for item in read_dcsa_file(path)]
    return convert_dcsa(
        items, stations, facilities=facilities, pickup_turnaround_min=pickup_turnaround_min
    )


def _verdicts(records: list[DcsaRecord], places: Mapping[str, str]) -> list[Fact | DcsaNote]:
    """Each record as a fact, or a note; a retraction withdraws every event with its id."""
    retracted = {record.retracts for record in records if record.retracts}
    verdicts: list[Fact | DcsaNote] = []
    for record in records:
        if record.retracts:
            verdicts.append(record.note("retraction", f"withdraws event {record.retracts!r}"))
        elif record.event_id in retracted:
            verdicts.append(record.note("eventID", "retracted by a later event in the input"))
        else:
            verdicts.append(_fact(record, places))
    return verdicts


def _fact(record: DcsaRecord, places: Mapping[str, str]) -> Fact | DcsaNote:
    problem = _kind_problem(record)
    if problem is not None:
        return problem
    at = _moment(record.moment)
    if at is None:
        return record.note("eventDateTime", "expected RFC 3339 with an offset")
    yard = _yard(record.places, places)
    if yard is None:
        return record.note("eventLocation", "the place is not one of the yards (docs/events.md)")
    return Fact(record, at, yard)


def _kind_problem(record: DcsaRecord) -> DcsaNote | None:
    """Why this kind of event is no fact for the twin, or None."""
    kind = record.event_type
    if kind not in ("EQUIPMENT", "TRANSPORT", "REEFER"):
        return record.note("eventType", f"{kind or 'missing'}: no counterpart in the twin")
    if (record.classifier or "ACT") != "ACT":
        return record.note(
            "eventClassifierCode",
            f"{record.classifier}: only actual (ACT) events are facts; estimates and plans are not",
        )
    if kind == "EQUIPMENT":
        return _equipment_problem(record)
    if kind == "TRANSPORT":
        return _transport_problem(record)
    if record.code != "MEAS":
        return record.note("reeferEventTypeCode", f"{record.code or 'missing'}: only MEAS maps")
    return _box_problem(record)


def _equipment_problem(record: DcsaRecord) -> DcsaNote | None:
    code = record.code
    if code not in (*_GATE, *_RAIL_MOVES):
        return record.note(
            "equipmentEventTypeCode", f"{code or 'missing'}: no counterpart in the twin"
        )
    if record.empty == "EMPTY":
        return record.note("emptyIndicatorCode", "empty equipment: the twin tracks laden boxes")
    expected = "TRUCK" if code in _GATE else "RAIL"
    if record.mode not in ("", expected):
        return record.note("modeOfTransport", f"{code} by {record.mode}: expected {expected}")
    movement = _EXPECTED_MOVEMENT.get(code)
    if record.movement and movement is not None and record.movement != movement:
        return record.note("movementType", f"{record.movement} contradicts {code} at a yard")
    return _box_problem(record)


def _transport_problem(record: DcsaRecord) -> DcsaNote | None:
    if record.code not in ("ARRI", "DEPA"):
        return record.note("transportEventTypeCode", f"{record.code or 'missing'}: not mapped")
    if record.mode not in ("RAIL", "TRUCK"):
        return record.note(
            "modeOfTransport", f"{record.mode or 'missing'}: only rail and truck calls map"
        )
    if not record.call:
        return record.note("transportCallReference", "missing: nothing to match the call by")
    return None


def _box_problem(record: DcsaRecord) -> DcsaNote | None:
    for field, problem in (
        ("equipmentReference", container_number_error(record.equipment)),
        ("ISOEquipmentCode", size_type_error(record.iso_type)),
    ):
        if problem is not None:
            return record.note(field, problem)
    return None


def _yard(places: Iterable[Mapping[str, Any]], codes: Mapping[str, str]) -> str | None:
    """The yard a facility code, location code or place name names, most specific first."""
    for key in ("facilityCode", "UNLocationCode", "locationName"):
        for place in places:
            value = place.get(key)
            if isinstance(value, str) and value.strip().casefold() in codes:
                return codes[value.strip().casefold()]
    return None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


def _folded(facilities: Mapping[str, str]) -> dict[str, str]:
    return {code.strip().casefold(): yard for code, yard in facilities.items()}
