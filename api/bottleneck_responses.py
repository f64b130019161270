"""The answer of `GET /yards/{yard}/bottleneck`: waits and utilisation per resource over a
window and the resource named as the bottleneck (`corridor.kpis.bottleneck`, docs/kpis.md)."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ResourceLoadView(BaseModel):
    """One resource of the yard over the window."""

    resource: str = Field(description="gate, exception_lane, reach_stackers, rmgs, ...")
    capacity: int = Field(description="servers: lanes, machines, bays, plugs, tracks")
    utilisation: float | None = Field(description="busy share; null: not measured here")
    waits: int = Field(description="waits that ended in the window")
    wait_mean_min: float | None = Field(
        description="mean wait, minutes; null: none or not recorded"
    )
    wait_h: float = Field(description="waiting hours in all")
    wait_share: float | None = Field(description="share of the yard's waiting hours")


class BottleneckView(BaseModel):
    """What held a yard back over `[from, to)`."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "yard": "tuanjiecun",
                    "from": "2026-01-05T00:00:00Z",
                    "to": "2026-01-05T08:00:00Z",
                    "bottleneck": "reach_stackers",
                    "resources": [
                        {
                            "resource": "reach_stackers",
                            "capacity": 1,
                            "utilisation": 0.99,
                            "waits": 120,
                            "wait_mean_min": 233.3,
                            "wait_h": 466.6,
                            "wait_share": 1.0,
                        }
                    ],
                    "counted": "records of trucks, boxes and trains the worker has stored",
                }
            ]
        },
    )

    yard: str
    from_: datetime = Field(alias="from")
    to: datetime
    bottleneck: str | None = Field(description="the busiest resource that made anyone wait")
    resources: list[ResourceLoadView]
    counted: str = Field(description="which records the figures come from")
