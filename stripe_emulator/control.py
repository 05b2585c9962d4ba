"""`/_emulator/...`: test controls that Stripe offers in its Dashboard or CLI.

No authentication: the emulator only listens on a developer's machine.
Every answer is JSON; errors use Stripe's error object.
"""

import copy

from flask import Blueprint, current_app, jsonify, request

from . import billing, payments, schedule, test_clocks
from .clock import frozen
from .pay import Attempt, pay
from .state import check_after_retries, check_async_delay, check_events, check_retry_days
from .wire import StripeError

bp = Blueprint("emulator_control", __name__, url_prefix="/_emulator")

# How far one advance may move the clock: every renewal on the way runs, so a typo of a few
# zeros would otherwise keep the emulator busy for hours.
MAX_ADVANCE = 10 * 366 * 24 * 3600

# HTTP status for each outcome of a scripted payment.
_PAY_STATUS = {
    "complete": 200,
    "requires_action": 200,
    "failed": 402,
    "invalid": 400,
    "expired": 409,
    "already_complete": 409,
}


def _state():
    return current_app.extensions["stripe_emulator"]


@bp.post("/checkout/<session_id>/pay")
def pay_session(session_id):
    """Pay a session as the hosted page would: with a `card` (3D Secure answered by
    `authenticate`), or by SEPA Direct Debit with an `iban` (and `name`, the holder)."""
    authenticate = request.form.get("authenticate", "complete")
    if authenticate not in ("complete", "fail"):
        raise StripeError("authenticate must be complete or fail", param="authenticate")
    iban = request.form.get("iban")
    attempt = Attempt(
        card_number=request.form.get("card", ""),
        email=request.form.get("email") or None,
        authenticate=authenticate,
        fallback_email="supporter@example.com",
        iban=iban,
        account_holder_name=request.form.get("name", "Jenny Rosen") if iban is not None else None,
    )
    with _state().store.transaction():
        result = pay(_state(), session_id, attempt)
    return jsonify({"session": session_id, **result.to_dict()}), _PAY_STATUS[result.status]


@bp.post("/subscriptions/<sub_id>/advance")
def advance_subscription(sub_id):
    """Move a subscription into its next period and bill it (at its test clock's time if it
    is on one; the clock does not move)."""
    state = _state()
    with state.store.transaction(), frozen(test_clocks.of(state, state.store.get(sub_id))):
        sub, invoice = billing.advance(state, sub_id)
        return jsonify(
            {
                "status": sub["status"],
                "paid": bool(invoice) and invoice["status"] == "paid",
                "subscription": copy.deepcopy(sub),
                "invoice": copy.deepcopy(invoice),
            }
        )


@bp.get("/clock")
def read_clock():
    """The emulator's present (Unix seconds) and how far it is ahead of the wall clock."""
    clock = _state().clock
    return jsonify({"now": clock.now(), "offset": clock.offset})


@bp.post("/clock/advance")
def advance_clock():
    """Move the clock forward (`to` a Unix time, or by `seconds` or `days`) and run the
    renewals and retries that fall due on the way, in time order."""
    state = _state()
    with state.store.transaction():
        to = _target_time(state.clock.now())
        steps = schedule.advance_clock(state, to)
        return jsonify(
            {
                "now": state.clock.now(),
                "renewals": sum(step.kind == "renewal" for step in steps),
                "retries": sum(step.kind == "retry" for step in steps),
                "paid": sum(step.paid for step in steps),
                "failed": sum(not step.paid for step in steps),
                "steps": [step.to_dict() for step in steps],
            }
        )


def _target_time(current):
    given = [name for name in ("to", "seconds", "days") if request.form.get(name)]
    if len(given) != 1:
        raise StripeError("Give one of to (a Unix time), seconds or days.", param="to")
    name = given[0]
    try:
        value = float(request.form[name]) if name == "days" else int(request.form[name])
    except ValueError:
        raise StripeError(f"{name} must be a number.", param=name) from None
    if name == "to":
        to = value
    elif not value >= 0:  # also refuses nan
        raise StripeError(f"{name} cannot be negative: the clock only moves forward.", param=name)
    else:
        to = current + value * 24 * 3600 if name == "days" else current + value
    if not to <= current + MAX_ADVANCE:  # also refuses inf
        raise StripeError(
            f"The clock moves at most {MAX_ADVANCE // (24 * 3600)} days at a time.", param=name
        )
    return int(to)


@bp.post("/charges/<charge_id>/dispute")
def dispute_charge(charge_id):
    reason = request.form.get("reason", "fraudulent")
    state = _state()
    with state.store.transaction():
        return jsonify(copy.deepcopy(payments.open_dispute(state, charge_id, reason)))


@bp.get("/events")
def list_events():
    """Every event, oldest first, with its delivery status."""
    state = _state()
    events = state.store.oldest_first("event")
    return jsonify(
        {
            "data": [
                {
                    "id": event["id"],
                    "type": event["type"],
                    "created": event["created"],
                    "object_id": event["data"]["object"].get("id"),
                    "delivery": state.delivery(event["id"]),
                }
                for event in events
            ],
            "pending_deliveries": state.deliverer.pending(),
        }
    )


@bp.post("/reset")
def reset():
    _state().reset()
    return jsonify({"reset": True})


@bp.route("/config", methods=["GET", "POST"])
def config():
    """Read or change where webhooks go (`forward_to`, `webhook_secret`), which event types
    are sent (`events`, e.g. `invoice.paid,invoice.payment_failed`; empty: all) and the
    retries of failed renewals (`retry_days`, e.g. `3,5,7`; `after_retries`) and the seconds
    before a SEPA debit settles (`async_delay`)."""
    state = _state()
    # Checked before anything changes: a refusal leaves the settings as they were.
    retry_days = _checked("retry_days", check_retry_days, state.retry_days)
    after_retries = _checked("after_retries", check_after_retries, state.after_retries)
    forward_events = _checked("events", check_events, state.forward_events)
    async_delay = _checked("async_delay", check_async_delay, state.async_delay)
    if "forward_to" in request.form:
        state.forward_to = request.form["forward_to"] or None
    if request.form.get("webhook_secret"):
        state.webhook_secret = request.form["webhook_secret"]
    state.retry_days, state.after_retries = retry_days, after_retries
    state.forward_events = forward_events
    state.async_delay = async_delay
    return jsonify(state.config())


def _checked(name, check, current):
    if name not in request.form:
        return current
    try:
        return check(request.form[name])
    except ValueError as error:
        raise StripeError(str(error), param=name) from None


@bp.post("/delivery")
def delivery():
    """`enabled=0` simulates a webhook outage: events are created, not sent."""
    enabled = request.form.get("enabled", "")
    if enabled not in ("0", "1", "true", "false"):
        raise StripeError("enabled must be 0 or 1", param="enabled")
    _state().delivery_enabled = enabled in ("1", "true")
    return jsonify(_state().config())


@bp.post("/deliveries/wait")
def wait_for_deliveries():
    """Block until every queued delivery has succeeded or given up (or timeout)."""
    try:
        timeout = min(float(request.form.get("timeout", "10")), 60.0)
    except ValueError:
        raise StripeError("timeout must be a number of seconds", param="timeout") from None
    deliverer = _state().deliverer
    done = deliverer.wait(timeout)
    return jsonify({"done": done, "pending": deliverer.pending()})
