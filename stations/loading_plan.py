"""The loading plan (配载): which open departure a cleared export box is booked on.

`first_come_first_served` is today's plan: a box takes the first departure, in departure
order, whose cut-off has not passed and which still has room, and the boxes that fit nowhere
are booked again in clearing order when the next departure is scheduled. A smart loading plan
(智能配载), `earliest_cutoff_first`, books a box on the open departure whose cut-off comes
first, so capacity closing soonest is filled first and a later departure with an earlier
cut-off (a longer one: 4 h China-Europe against 3 h rail-sea) is not left part-empty while
boxes queue for the next.
"""

from stations.policies import LoadingPlan
from stations.timetable import BookingOrder, TrainPlan, by_departure


def by_cutoff(plan: TrainPlan) -> tuple[float, float, str]:
    """Smart loading plan: cut-off time first."""
    return (plan.cutoff, plan.departure, plan.train_id)


BOOKING_ORDERS: dict[LoadingPlan, BookingOrder] = {
    "first_come_first_served": by_departure,
    "earliest_cutoff_first": by_cutoff,
}
