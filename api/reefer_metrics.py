"""The reefers' time to breach on `/metrics`: per yard, the least time to breach and how many
reefers breach within the hour (`api.store_metrics` adds these families to its collector)."""

from collections.abc import Iterable, Mapping

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine

from api.store import readers

WITHIN_MIN = 60.0
"""The count's bound: reefers whose estimate leaves its band within this many minutes."""

REEFER_FAMILIES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "corridor_reefer_min_minutes_to_breach",
        "gauge",
        "Least time until a reefer's estimated cargo temperature leaves its band, by yard.",
        ("yard",),
    ),
    (
        "corridor_reefers_breaching_within",
        "gauge",
        "Reefers whose estimated cargo temperature leaves its band within the bound (or has).",
        ("yard", "within_min"),
    ),
)
"""(name, type, help, labels), as `api.store_metrics.FAMILIES` lists them."""


def add_reefer_breaches(
    engine: Engine, yards: Iterable[str], families: Mapping[str, GaugeMetricFamily]
) -> None:
    """The least minutes to breach per yard (only where a reefer is heading out of its band:
    no sample rather than a false figure) and the count within `WITHIN_MIN`."""
    summary = readers.reefer_breach_summary(engine, within_min=WITHIN_MIN)
    least = families["corridor_reefer_min_minutes_to_breach"]
    within = families["corridor_reefers_breaching_within"]
    bound = f"{WITHIN_MIN:g}"
    for yard in yards:
        if yard in summary:
            least.add_metric([yard], summary[yard][0])
        within.add_metric([yard, bound], summary[yard][1] if yard in summary else 0)
