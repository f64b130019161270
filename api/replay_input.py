"""The replay form's fields, checked against what the replay and the store can hold.

A seed must fit the `replay_jobs.seed` column (a 32-bit integer on PostgreSQL): a scenario
seed of 3,000,000,000 once made the job's final update overflow and left it "running" for
ever, so both the form's seed and the scenario's `run.seed` are refused above 2^31 - 1. The
scenario is JSON in the TOML scenario shape; its nesting is bounded before it is decoded
(5,000 nested `[` made the decoder raise RecursionError), and numbers must be finite and fit
64 bits (JSON columns do not take `Infinity`).
"""

import json
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from api.replay_job import check_scenario
from api.upload import unprocessable

MAX_SEED = 2**31 - 1
MAX_SCENARIO_DEPTH = 32
"""Deeper than any scenario (stations.yard.facility.distribution is four levels)."""
_INT64 = 2**63
_DIGITS = re.compile(r"-?[0-9]+")
_JSON_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def digits_only(value: object) -> object:
    """Text must be an optional minus and digits (no `+8`, no spaces, no `8.0`), as the
    schema's `type: integer` says; anything else goes on to pydantic's own checks."""
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise PydanticCustomError("int_digits", "Input should be a whole number written in digits")
    return value


DigitsOnly = BeforeValidator(digits_only)
SeedText = Annotated[int, DigitsOnly, Field(ge=0, le=MAX_SEED)]
_SEED = TypeAdapter(SeedText)


def parse_seed(text: str | None) -> int | None:
    """The form's seed (None when absent or empty); 422 naming the field otherwise."""
    if text is None or text == "":
        return None
    try:
        return _SEED.validate_python(text)
    except ValidationError as error:
        raise unprocessable(f"body.seed: {error.errors()[0]['msg']}") from None


def parse_scenario_json(text: str | None) -> dict[str, Any]:
    """The scenario table, validated (unknown keys named); 422 otherwise."""
    if depth_of(text or "") > MAX_SCENARIO_DEPTH:
        raise unprocessable(f"scenario: nested deeper than {MAX_SCENARIO_DEPTH} levels")
    try:
        table = json.loads(
            text or "{}", parse_constant=_no_constant, parse_float=_finite, parse_int=_int64
        )
    except json.JSONDecodeError as error:
        raise unprocessable(f"scenario: not JSON: {error}") from None
    except ValueError as error:
        raise unprocessable(f"scenario: {error}") from None
    if not isinstance(table, dict):
        raise unprocessable("scenario: expected a JSON object")
    try:
        chosen = check_scenario(table)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise unprocessable(f"scenario: {error}") from None
    if chosen.seed is not None and chosen.seed > MAX_SEED:
        raise unprocessable(f"scenario: run.seed must be at most {MAX_SEED}")
    return table


def depth_of(text: str) -> int:
    """How deeply the JSON text nests arrays and objects (brackets inside strings ignored)."""
    depth = deepest = 0
    for token in _JSON_STRUCTURE.findall(text):
        if token in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in ("]", "}"):
            depth -= 1
    return deepest


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number a scenario may hold")


def _finite(text: str) -> float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:40]} is not a finite number")
    return value


def _int64(text: str) -> int:
    if len(text) > 20 or not -_INT64 <= int(text) < _INT64:
        raise ValueError(f"{text[:40]} does not fit 64 bits")
    return int(text)
