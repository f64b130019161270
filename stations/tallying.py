"""Smart tallying (智能理货): the gate and the stack record boxes without a clerk's round.

Optical character recognition of container numbers and seals at the gate, and positions read
from the equipment's own sensors at the stack, take the manual tally out of a gate transaction
and out of a lift. The lever is modelled as factors on today's times (a gate transaction or a
lift takes `factor` times as long) and on the share of trucks sent to the manual exception
lane (fewer mismatches to resolve by hand). The factors are estimates [E]: no published study
of these yards gives them; `scenarios/smart-tallying.toml` says which were chosen.
"""

from stations.policies import TallyingPolicy


def gate_time(policy: TallyingPolicy | None, drawn: float) -> float:
    """A drawn gate transaction time under the policy (unchanged without one)."""
    return drawn if policy is None else drawn * policy.gate_time_factor


def lift_time(policy: TallyingPolicy | None, drawn: float) -> float:
    """A drawn lift time under the policy (unchanged without one)."""
    return drawn if policy is None else drawn * policy.lift_time_factor


def exception_share(policy: TallyingPolicy | None, share: float) -> float:
    """The share of trucks needing the manual exception lane under the policy."""
    return share if policy is None else min(1.0, share * policy.exception_share_factor)
