"""Response models of the forecast (`GET /yards/{yard}/forecast`, `/corridor/forecast`)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Band(BaseModel):
    """p10, p50 and p90 of the replications (null: no replication had a value)."""

    p10: float | None
    p50: float | None
    p90: float | None


class ForecastHour(BaseModel):
    """One hour of the forecast, from `start`."""

    start: datetime
    gate_queue: Band = Field(description="trucks waiting at the gate, mean over the hour")
    turnaround_min: Band = Field(
        description="gate queue to out-gate, mean of the trucks reaching the gate in the hour"
    )
    plugs_in_use: Band = Field(description="reefer plugs in use, mean over the hour")


class TrainRiskView(BaseModel):
    """A departure due in the horizon that left late in some replications."""

    train_id: str
    late_share: float = Field(ge=0.0, le=1.0, description="share of replications it left late")
    departure: datetime | None = Field(default=None, description="its scheduled departure")


class ForecastView(BaseModel):
    """The forecast of one yard or of the corridor (docs/forecast.md)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "scope": "tuanjiecun",
                "now": "2026-01-13T06:00:00Z",
                "horizon_h": 1,
                "replications": 8,
                "computed_at": "2026-01-13T06:00:04Z",
                "hours": [
                    {
                        "start": "2026-01-13T06:00:00Z",
                        "gate_queue": {"p10": 0.0, "p50": 0.2, "p90": 1.1},
                        "turnaround_min": {"p10": 22.7, "p50": 23.5, "p90": 24.2},
                        "plugs_in_use": {"p10": 38.2, "p50": 38.2, "p90": 38.4},
                    }
                ],
                "boxes_over_24h": {"p10": 609.0, "p50": 619.0, "p90": 629.0},
                "trains_at_risk": [
                    {
                        "train_id": "TJC-20260113-0930",
                        "late_share": 0.25,
                        "departure": "2026-01-13T09:30:00Z",
                    }
                ],
            }
        }
    )

    scope: str
    now: datetime = Field(
        description="the event time the forecast starts from: the worker's watermark then"
    )
    horizon_h: int
    replications: int
    computed_at: datetime = Field(description="when the worker computed it (wall clock)")
    hours: list[ForecastHour]
    boxes_over_24h: Band = Field(description="boxes in the yard over 24 h old at the horizon")
    trains_at_risk: list[TrainRiskView]


def forecast_view(result: dict[str, Any], scope: str) -> ForecastView:
    """One scope's part of a computed forecast (`corridor.forecast.bands.Forecast.as_dict`)."""
    part = result["corridor"] if scope == "corridor" else result["yards"][scope]
    shared = {key: result[key] for key in ("now", "horizon_h", "replications", "computed_at")}
    return ForecastView.model_validate({"scope": scope, **shared, **part})
