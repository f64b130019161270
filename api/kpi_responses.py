"""The KPI block of the API's responses: the core's `corridor.kpis.result.Kpis`, validated.

The shape is defined once, in the core; the response models (`api.responses`) use that type as
it is, so the OpenAPI schema is generated from it, and the SQL store validates every worker
snapshot with `validate_kpis` before committing it, so a reader never meets a malformed one.
"""

from typing import Any

from pydantic import TypeAdapter
from pydantic.config import JsonDict

from corridor.kpis.result import Kpis

__all__ = ["Kpis", "kpis_json", "validate_kpis"]

_KPIS = TypeAdapter(Kpis)


def validate_kpis(value: Any) -> Kpis:
    """`value` as `Kpis`; raises pydantic's `ValidationError` (a ValueError) naming the field."""
    return _KPIS.validate_python(value)


def kpis_json(kpis: Kpis) -> JsonDict:
    """`kpis` validated and as plain JSON data (for a response model's example)."""
    data: JsonDict = _KPIS.dump_python(validate_kpis(kpis), mode="json")
    return data
