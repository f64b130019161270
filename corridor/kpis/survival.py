"""The Kaplan-Meier (product-limit) estimate of a share within a limit, with censored times.

A box still in the yard when a window ends has not finished its dwell: all we know is that it
lasts at least its age so far. Dropping such boxes (counting only those that left) makes a
yard look faster than it is, and counting their age as their dwell does too. The product-limit
estimator uses each box for exactly what is known of it: at every dwell time `t` at which boxes
left, the chance of leaving then is the number that left (`d`) over the number still there and
not yet censored (`n`, the *at-risk* set), and the share still in the yard after `t` is the
product of `1 - d/n` over the times up to `t` (Kaplan and Meier, 1958). A box censored at its
age counts in every at-risk set up to that age and in none after. Ties follow the usual rule:
boxes leaving at a time are counted before boxes censored at the same time.

Twenty lines over numpy rather than a survival library: only one point of the curve is needed
(at the 24-hour target), lifelines would bring its plotting and fitting stack (matplotlib,
autograd, formulaic) into the core for it, and the estimator is short enough to check by hand
(`tests/test_dwell_kpis.py` does).
"""

import numpy as np

from corridor.kpis.frames import Flags, Floats


def share_within(durations: Floats, finished: Flags, limit: float, *, beyond: int = 0) -> float:
    """Kaplan-Meier estimate of P(duration <= limit); NaN when there is nothing to estimate.

    `durations[i]` is how long thing `i` lasted (`finished[i]`) or has lasted so far when it
    was censored (not `finished[i]`). Only the times up to `limit` shape the estimate; a
    longer one merely stays in every at-risk set, so a caller may leave those out of the arrays
    and give their number as `beyond`. When the last time observed is a censored one below
    `limit`, the estimate holds its last value there, as the product-limit estimator does:
    never more than the true share, since a share within a limit can only grow with the limit.
    """
    early = durations <= limit
    ends = np.sort(durations[early & finished])
    censored = np.sort(durations[early & ~finished])
    return share_ended(ends, censored, durations.size + beyond)


def share_ended(ends: Floats, censored: Floats, total: int) -> float:
    """The product-limit share ended by the last of `ends`: `ends` (times things ended) and
    `censored` (times things were last seen, not ended) both ascending and up to the limit,
    `total` things in all (those beyond the limit included); NaN when `total` is 0."""
    if total == 0:
        return float("nan")
    if ends.size == 0:
        return 0.0
    # At risk at the k-th end (in time order): all, less the k ends before it (a tie counted
    # one by one gives the same product as 1 - d/n), less those censored strictly before it.
    at_risk = total - np.arange(ends.size) - np.searchsorted(censored, ends, "left")
    still_there = float(np.prod(1.0 - 1.0 / at_risk))
    return 1.0 - still_there
