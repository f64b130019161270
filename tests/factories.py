"""Small builders for v1 events, so tests read as timelines."""

from datetime import datetime, timedelta, timezone

from corridor.contract.container_ids import with_check_digit
from corridor.contract.events import (
    ArrivingBox,
    ReeferReading,
    TrainArrived,
    TrainScheduled,
    TruckDispatched,
)

LOCAL = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=LOCAL)
"""08:00 local = 00:00 UTC: the epoch of a log whose first event is at T0."""


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def box_number(serial: int, owner: str = "CSQU") -> str:
    return with_check_digit(f"{owner}{serial:06d}")


def dispatch(
    n: int,
    *,
    ts: float,
    eta: float,
    direction: str = "export",
    iso_type: str = "22G1",
    container: str | None = None,
    yard: str = "yuzui",
    setpoint_c: float | None = None,
) -> TruckDispatched:
    return TruckDispatched(
        event_id=f"dispatch-{yard}-{n}",
        ts=at(ts),
        yard=yard,
        truck_id=f"truck-{n}",
        container_id=container or box_number(n),
        iso_type=iso_type,
        direction=direction,  # type: ignore[arg-type]
        eta=at(eta),
        setpoint_c=setpoint_c,
    )


def schedule(
    train: str, *, ts: float, cutoff: float, departure: float, teu: int = 90, yard: str = "yuzui"
) -> TrainScheduled:
    return TrainScheduled(
        event_id=f"schedule-{yard}-{train}",
        ts=at(ts),
        yard=yard,
        train_id=train,
        departure=at(departure),
        cutoff=at(cutoff),
        capacity_teu=teu,
    )


def arrival(
    train: str, *, ts: float, containers: list[str], iso_type: str = "22G1", yard: str = "yuzui"
) -> TrainArrived:
    return TrainArrived(
        event_id=f"arrival-{yard}-{train}",
        ts=at(ts),
        yard=yard,
        train_id=train,
        boxes=[ArrivingBox(container_id=number, iso_type=iso_type) for number in containers],
    )


def reading(
    container: str,
    *,
    ts: float,
    setpoint: float,
    supply: float,
    power: str = "on",
    yard: str = "yuzui",
) -> ReeferReading:
    return ReeferReading(
        event_id=f"reading-{container}-{ts}",
        ts=at(ts),
        yard=yard,
        container_id=container,
        setpoint_c=setpoint,
        supply_c=supply,
        return_c=supply + 1.5,
        power=power,  # type: ignore[arg-type]
    )
