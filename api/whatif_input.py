"""A what-if's scenario as asked: checked whole before any job is queued, every refusal a 422.

The scenario is the TOML scenario's table (`docs/scenarios.md`), as JSON or TOML text, plus the
what-if's own lever `hold` (`corridor.forecast.holds`). Bounded before it is parsed or
validated: its size (`MAX_SCENARIO_CHARS`, either form) and its nesting (a TOML or JSON text
nested thousands deep would make a parser recurse). `[run]` is refused: a what-if starts from
the live yard at now, with the worker's seed, so a seed, a length or a start date (a future
one, say) would silently mean nothing. Held trains must be announced at the yard at now and
due before the horizon's end (`api.store.announced_trains`); `"next"` becomes the train it
names, so the job records which one it held.
"""

import json
import tomllib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from api.replay_input import MAX_SCENARIO_DEPTH, depth_of, parse_scenario_json
from api.store.announced_trains import Announced, announced_departures
from api.upload import unprocessable
from corridor.forecast.holds import NEXT, TrainHold, parse_holds

MAX_SCENARIO_CHARS = 65_536


def scenario_table(
    scenario: dict[str, Any] | None, toml_text: str | None, yards: Iterable[str]
) -> tuple[dict[str, Any], tuple[TrainHold, ...]]:
    """The validated scenario table (holds apart) and its holds; 422 naming what is wrong."""
    if (scenario is None) == (toml_text is None):
        raise unprocessable("give the scenario either as `scenario` (JSON) or `scenario_toml`")
    table = _from_toml(toml_text) if toml_text is not None else _bounded(scenario or {})
    holds_entries = table.pop("hold", None)
    if "run" in table:
        raise unprocessable(
            "scenario.run: a what-if starts from the live yard at now with the worker's seed; "
            "[run] (seed, days, start) does not apply: leave it out"
        )
    try:
        holds = parse_holds(holds_entries, yards)
    except ValueError as error:
        raise unprocessable(f"scenario.{error}") from None
    return parse_scenario_json(json.dumps(table, default=str)), holds  # TOML dates as text


def resolve_holds(
    engine: Engine, holds: tuple[TrainHold, ...], now: datetime, hours: int
) -> tuple[TrainHold, ...]:
    """The holds with "next" replaced by a train id, each checked against the departures
    announced at now (422 naming the train and yard when it is not one of them)."""
    resolved: list[TrainHold] = []
    end = now + timedelta(hours=hours)
    by_yard: dict[str, dict[str, Announced]] = {}
    for index, hold in enumerate(holds):
        if hold.yard not in by_yard:
            by_yard[hold.yard] = announced_departures(engine, hold.yard, now)
        announced = by_yard[hold.yard]
        where = f"scenario.hold[{index}]"
        if hold.train_id == NEXT:
            open_ = [a for a in announced.values() if a.cutoff > now]
            if not open_:
                raise unprocessable(
                    f"{where}: {hold.yard} has no announced departure still taking bookings "
                    f"at {now.isoformat()}"
                )
            train = min(open_, key=lambda a: (a.departure, a.train_id))
        elif hold.train_id in announced:
            train = announced[hold.train_id]
        else:
            known = ", ".join(sorted(announced)[:10]) or "none"
            raise unprocessable(
                f"{where}.train: {hold.train_id!r} is not a departure announced at {hold.yard} "
                f"and due after {now.isoformat()} (announced: {known})"
            )
        if train.departure >= end:
            raise unprocessable(
                f"{where}: {hold.yard} {train.train_id} leaves at {train.departure.isoformat()}, "
                f"after the horizon ({end.isoformat()}): lengthen `hours` or hold a nearer train"
            )
        if any((r.yard, r.train_id) == (hold.yard, train.train_id) for r in resolved):
            raise unprocessable(f"{where}: {hold.yard} {train.train_id} is held twice")
        resolved.append(TrainHold(hold.yard, train.train_id, hold.minutes))
    return tuple(resolved)


def _from_toml(text: str) -> dict[str, Any]:
    if len(text) > MAX_SCENARIO_CHARS:
        raise unprocessable(f"scenario_toml: longer than {MAX_SCENARIO_CHARS} characters")
    if depth_of(text) > MAX_SCENARIO_DEPTH:
        raise unprocessable(f"scenario_toml: nested deeper than {MAX_SCENARIO_DEPTH} levels")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise unprocessable(f"scenario_toml: not valid TOML: {error}") from None
    except RecursionError:
        raise unprocessable(
            f"scenario_toml: nested deeper than {MAX_SCENARIO_DEPTH} levels"
        ) from None


def _bounded(table: dict[str, Any]) -> dict[str, Any]:
    try:
        text = json.dumps(table)
    except (RecursionError, ValueError):
        raise unprocessable(f"scenario: nested deeper than {MAX_SCENARIO_DEPTH} levels") from None
    if len(text) > MAX_SCENARIO_CHARS:
        raise unprocessable(f"scenario: longer than {MAX_SCENARIO_CHARS} characters as JSON")
    if depth_of(text) > MAX_SCENARIO_DEPTH:
        raise unprocessable(f"scenario: nested deeper than {MAX_SCENARIO_DEPTH} levels")
    loaded: dict[str, Any] = json.loads(text)  # a copy: the holds are popped from it
    return loaded
