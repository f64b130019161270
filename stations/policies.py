"""Operating policies of a yard: the corridor's levers that change how the yard works.

The seed document names four levers for bringing cargo time in station down to one day:
whole-yard truck dispatch (全场集卡调度), remote reefer data collection (冷藏箱数据远程采集),
smart tallying (智能理货) and smart loading plans (智能配载). Each is a policy here, chosen per
yard in a scenario (`[policies.<yard>.<policy>]`, `docs/scenarios.md`), with its parameters;
the behaviour lives in one module per policy (`appointments`, `reefer_checks`, `tallying`,
`loading_plan`). `TODAY` is no policy at all: the yard as the model has always run it, byte for
byte. Every figure a policy takes is an estimate [E] unless a scenario file says otherwise.
"""

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from stations.distributions import Distribution
from stations.spec_errors import SpecError, convert

LoadingPlan = Literal["first_come_first_served", "earliest_cutoff_first"]
LOADING_PLANS: tuple[LoadingPlan, ...] = ("first_come_first_served", "earliest_cutoff_first")
ReeferCheckMode = Literal["manual", "remote"]
Factor = Annotated[float, Meta(gt=0.0, le=10.0)]  # a share of today's time, at most 10 times it


class _PolicySection(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A policy table: unknown keys are refused, as in a station file (`stations.spec`)."""


class AppointmentPolicy(_PolicySection, frozen=True):
    """Whole-yard dispatch: trucks book a slot of `slot_min` minutes, `trucks_per_slot` each."""

    slot_min: Annotated[float, Meta(gt=0.0)]
    trucks_per_slot: Annotated[int, Meta(ge=1)]


class ReeferCheckPolicy(_PolicySection, frozen=True):
    """Checks of a stacked export reefer before it may be booked on a train.

    `manual`: a technician (one of `technicians`) walks to every reefer and checks it for
    `check_min`; a reefer with an open excursion then waits `response_min` for the fix.
    `remote`: the readings are the check, so only a reefer with an open excursion gets a
    technician, and the response is faster because the alarm reaches the staff at once.
    """

    mode: ReeferCheckMode
    technicians: Annotated[int, Meta(ge=1)]
    check_min: Distribution
    response_min: Distribution


class TallyingPolicy(_PolicySection, frozen=True):
    """Smart tallying: gate transactions and lifts take a share of today's time (factors <= 1
    shorten them), and fewer trucks need the manual exception lane."""

    gate_time_factor: Factor = 1.0
    exception_share_factor: Factor = 1.0
    lift_time_factor: Factor = 1.0


@dataclass(frozen=True, slots=True)
class Policies:
    """The policies one yard runs; the defaults are today's yard."""

    truck_appointments: AppointmentPolicy | None = None
    reefer_checks: ReeferCheckPolicy | None = None
    tallying: TallyingPolicy | None = None
    loading_plan: LoadingPlan = "first_come_first_served"


TODAY = Policies()
"""No lever pulled: the model as it ran before policies existed."""


def parse_policies(table: dict[str, Any], where: str) -> Policies:
    """Validate one yard's policy table (`where` prefixes every error, e.g. `policies.yuzui`)."""
    parsers = {
        "truck_appointments": _appointments,
        "reefer_checks": _reefer_checks,
        "tallying": _tallying,
    }
    unknown = set(table) - {*parsers, "loading_plan"}
    if unknown:
        known = ", ".join(sorted({*parsers, "loading_plan"}))
        names = ", ".join(sorted(unknown))
        raise ValueError(f"{where}: unknown policy {names}; known: {known}")
    chosen: dict[str, Any] = {}
    for name, parse in parsers.items():
        if name in table:
            section = table[name]
            if not isinstance(section, dict):
                raise ValueError(f"{where}.{name}: expected a table [{where}.{name}]")
            chosen[name] = parse(section, f"{where}.{name}")
    if "loading_plan" in table:
        chosen["loading_plan"] = _loading_plan(table["loading_plan"], f"{where}.loading_plan")
    return Policies(**chosen)


def _appointments(table: dict[str, Any], where: str) -> AppointmentPolicy:
    policy: AppointmentPolicy = _section(table, AppointmentPolicy, where)
    return policy


def _reefer_checks(table: dict[str, Any], where: str) -> ReeferCheckPolicy:
    mode = table.get("mode")
    if mode not in ("manual", "remote"):
        raise ValueError(f"{where}.mode: expected 'manual' or 'remote', got {mode!r}")
    timings = {key: _as_distribution(table.get(key)) for key in ("check_min", "response_min")}
    policy: ReeferCheckPolicy = _section(
        {**table, **{key: value for key, value in timings.items() if value is not None}},
        ReeferCheckPolicy,
        where,
    )
    return policy


def _tallying(table: dict[str, Any], where: str) -> TallyingPolicy:
    policy: TallyingPolicy = _section(table, TallyingPolicy, where)
    return policy


def _loading_plan(value: object, where: str) -> LoadingPlan:
    for plan in LOADING_PLANS:
        if value == plan:
            return plan
    raise ValueError(f"{where}: expected one of {', '.join(LOADING_PLANS)}, got {value!r}")


def _section(table: dict[str, Any], kind: Any, where: str) -> Any:
    """`table` through the policy's schema; an error names the path (`policies.yuzui.x.y`)."""
    try:
        return convert(table, kind)
    except SpecError as error:
        raise ValueError(error.at(where)) from None


def _as_distribution(value: Any) -> Any:
    """A bare number given for a distribution, written as a constant table (as in a station
    file); anything else unchanged, for the schema to judge."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"dist": "constant", "value": value}
    return value
