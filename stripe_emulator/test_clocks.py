"""Stripe's test clocks (`/v1/test_helpers/test_clocks`): create, advance, delete.

A customer created with `test_clock=<id>` is attached to that clock, and so are
its subscriptions and their invoices (`test_clock` on each). They live at the
clock's `frozen_time` (clock.frozen), not at the emulator's own clock, and only
advancing the test clock runs what falls due for them (schedule.py). Advancing
is asynchronous on Stripe: the call answers the clock `advancing` (its
`frozen_time` still the old one) and the clock turns `ready` later. Here the due
work runs before the call answers, so the next read already finds it `ready`;
the events come in Stripe's order (`.advancing`, the clock's billing events,
`.ready`). Callers hold the store lock.
"""

import copy

from . import customers, schedule
from .clock import add_interval, frozen, now
from .events import emit
from .ids import new_id
from .params import Int, Str, missing
from .wire import StripeError, not_found

OBJECT = "test_helpers.test_clock"
DELETES_AFTER = 7 * 24 * 3600  # Stripe's example clocks are deleted a week after creation
RENEWING = ("active", "past_due", "trialing", "incomplete", "unpaid")

CREATE_FIELDS = {"frozen_time": Int(minimum=0), "name": Str()}
ADVANCE_FIELDS = {"frozen_time": Int(minimum=0)}


def create(state, params):
    """A new clock, `ready` at `frozen_time` (`test_helpers.test_clock.created`)."""
    if "frozen_time" not in params:
        raise missing("frozen_time")
    created = now()
    test_clock = state.store.add(
        {
            "id": new_id("clock"),
            "object": OBJECT,
            "created": created,
            "deletes_after": created + DELETES_AFTER,
            "frozen_time": params["frozen_time"],
            "livemode": False,
            "name": params.get("name"),
            "status": "ready",
            "status_details": {},
        }
    )
    emit(state, "test_helpers.test_clock.created", test_clock)
    return test_clock


def get(state, clock_id, param="id"):
    """The stored (not deleted) clock, or Stripe's 404."""
    test_clock = state.store.get(clock_id, OBJECT)
    if test_clock is None:
        raise not_found("test_clock", clock_id, param)
    return test_clock


def of(state, obj):
    """The stored clock a customer, subscription or invoice is attached to, or None."""
    clock_id = (obj or {}).get("test_clock")
    return state.store.get(clock_id, OBJECT) if clock_id else None


def advance(state, clock_id, params):
    """Move the clock to `params["frozen_time"]`, running its customers' renewals and
    retries in time order; answers the clock as Stripe's call does, still `advancing`."""
    test_clock = get(state, clock_id)
    if "frozen_time" not in params:
        raise missing("frozen_time")
    frozen_time = params["frozen_time"]
    _check_target(state, test_clock, frozen_time)
    test_clock.update(status="advancing",
                      status_details={"advancing": {"target_frozen_time": frozen_time}})
    emit(state, "test_helpers.test_clock.advancing", test_clock)
    answer = copy.deepcopy(test_clock)
    schedule.advance_clock(state, frozen_time, test_clock)
    test_clock.update(status="ready", status_details={})
    emit(state, "test_helpers.test_clock.ready", test_clock)
    return answer


def delete(state, clock_id):
    """Delete the clock and, as Stripe does, the customers on it (their subscriptions
    are cancelled first); `test_helpers.test_clock.deleted`."""
    test_clock = get(state, clock_id)
    with frozen(test_clock):
        for customer in state.store.oldest_first("customer"):
            if customer["test_clock"] == clock_id:
                customers.delete(state, customer["id"])
    emit(state, "test_helpers.test_clock.deleted", test_clock)
    return state.store.mark_deleted(clock_id)


def _check_target(state, test_clock, frozen_time):
    if frozen_time <= test_clock["frozen_time"]:
        raise StripeError(
            "The frozen_time must be after the test clock's current frozen_time "
            f"({test_clock['frozen_time']}).",
            param="frozen_time",
        )
    limit = advance_limit(state, test_clock)
    if frozen_time > limit:
        raise StripeError(
            f"Cannot advance the test clock to {frozen_time}: it can move at most two "
            "intervals of its shortest subscription (two years without subscriptions) at "
            f"a time, here up to {limit}.",
            param="frozen_time",
        )


def advance_limit(state, test_clock):
    """The furthest a clock may move in one advance: two intervals of the shortest
    subscription on it, or two years when it has none (Stripe's rule)."""
    start = test_clock["frozen_time"]
    ends = [add_interval(start, "year", 2)]
    for sub in state.store.oldest_first("subscription"):
        if sub["test_clock"] == test_clock["id"] and sub["status"] in RENEWING:
            for item in sub["items"]["data"]:
                recurring = item["price"]["recurring"]
                ends.append(add_interval(start, recurring["interval"],
                                         2 * recurring["interval_count"]))
    return min(ends)
