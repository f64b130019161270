"""A batch's output rows checked against an API response model in one call to pydantic-core.

The store validates the worker's outputs against the API's models before writing them (a
malformed output fails the commit, not a reader later). Model by model (`model_validate`, then
`model_dump`) that cost about 10 µs a row, a tenth of the store's commit thread, which holds the
GIL through its Python code beside the worker's main thread (`docs/performance.md`). Here the
whole list goes through a `TypeAdapter` over a TypedDict built from the model's own fields and
constraints: validation and the resulting dicts come out of pydantic-core's Rust code, with
every field the model has. A row it refuses (a missing field included: the model might fill a
default) is left to the model, row by row, which converts it or raises naming the row.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from typing_extensions import TypedDict


class BulkCheck:
    """`row(item)` for every item, through `model`'s fields in one call when all pass."""

    def __init__(
        self, model: type[BaseModel], row: Callable[[Mapping[str, Any]], dict[str, Any]]
    ) -> None:
        fields: dict[str, Any] = {
            name: Annotated[(field.annotation, *field.metadata)]
            if field.metadata
            else field.annotation
            for name, field in model.model_fields.items()
        }
        shape: Any = TypedDict(f"{model.__name__}Row", fields)  # type: ignore[misc]
        self._adapter: TypeAdapter[Any] = TypeAdapter(list[shape])
        self._row = row

    def rows(self, items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The items as checked rows, in order (`row` for each item if any fails here)."""
        if not items:
            return []
        try:
            checked: list[dict[str, Any]] = self._adapter.validate_python(items)
        except ValidationError:
            return [self._row(item) for item in items]
        return checked
