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
from typing import Any, Literal

from stations.distributions import Distribution
from stations.spec_fields import count, dist, number

LoadingPlan = Literal["first_come_first_served", "earliest_cutoff_first"]
LOADING_PLANS: tuple[LoadingPlan, ...] = ("first_come_first_served", "earliest_cutoff_first")
ReeferCheckMode = Literal["manual", "remote"]


@dataclass(frozen=True, slots=True)
class AppointmentPolicy:
    """Whole-yard dispatch: trucks book a slot of `slot_min` minutes, `trucks_per_slot` each."""

    slot_min: float
    trucks_per_slot: int


@dataclass(frozen=True, slots=True)
class ReeferCheckPolicy:
    """Checks of a stacked export reefer before it may be booked on a train.

    `manual`: a technician (one of `technicians`) walks to every reefer and checks it for
    `check_min`; a reefer with an open excursion then waits `response_min` for the fix.
    `remote`: the readings are the check, so only a reefer with an open excursion gets a
    technician, and the response is faster because the alarm reaches the staff at once.
    """

    mode: ReeferCheckMode
    technicians: int
    check_min: Distribution
    response_min: Distribution


@dataclass(frozen=True, slots=True)
class TallyingPolicy:
    """Smart tallying: gate transactions and lifts take a share of today's time (factors <= 1
    shorten them), and fewer trucks need the manual exception lane."""

    gate_time_factor: float = 1.0
    exception_share_factor: float = 1.0
    lift_time_factor: float = 1.0


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
    _only(table, where, {"slot_min", "trucks_per_slot"})
    slot_min = number(table, f"{where}.slot_min")
    if slot_min <= 0:
        raise ValueError(f"{where}.slot_min: expected a positive number of minutes, got {slot_min}")
    return AppointmentPolicy(slot_min, count(table, f"{where}.trucks_per_slot"))


def _reefer_checks(table: dict[str, Any], where: str) -> ReeferCheckPolicy:
    _only(table, where, {"mode", "technicians", "check_min", "response_min"})
    mode = table.get("mode")
    if mode not in ("manual", "remote"):
        raise ValueError(f"{where}.mode: expected 'manual' or 'remote', got {mode!r}")
    return ReeferCheckPolicy(
        mode=mode,
        technicians=count(table, f"{where}.technicians"),
        check_min=dist(table, f"{where}.check_min"),
        response_min=dist(table, f"{where}.response_min"),
    )


def _tallying(table: dict[str, Any], where: str) -> TallyingPolicy:
    keys = ("gate_time_factor", "exception_share_factor", "lift_time_factor")
    _only(table, where, set(keys))
    factors = {key: number(table, f"{where}.{key}") for key in keys if key in table}
    for key, factor in factors.items():
        if not 0.0 < factor <= 10.0:
            raise ValueError(f"{where}.{key}: expected a factor above 0 (at most 10), got {factor}")
    return TallyingPolicy(**factors)


def _loading_plan(value: object, where: str) -> LoadingPlan:
    for plan in LOADING_PLANS:
        if value == plan:
            return plan
    raise ValueError(f"{where}: expected one of {', '.join(LOADING_PLANS)}, got {value!r}")


def _only(table: dict[str, Any], where: str, known: set[str]) -> None:
    unknown = set(table) - known
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
