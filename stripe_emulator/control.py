"""`/_emulator/...`: test controls that Stripe offers in its Dashboard or CLI.

No authentication: the emulator only listens on a developer's machine.
Every answer is JSON; errors use Stripe's error object.
"""

import copy

from flask import Blueprint, current_app, jsonify, request

from . import billing, payments
from .pay import Attempt, pay
from .wire import StripeError

bp = Blueprint("emulator_control", __name__, url_prefix="/_emulator")

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
    """Pay a session as the hosted page would (3D Secure answered by `authenticate`)."""
    authenticate = request.form.get("authenticate", "complete")
    if authenticate not in ("complete", "fail"):
        raise StripeError("authenticate must be complete or fail", param="authenticate")
    attempt = Attempt(
        card_number=request.form.get("card", ""),
        email=request.form.get("email") or None,
        authenticate=authenticate,
        fallback_email="supporter@example.com",
    )
    with _state().store.transaction():
        result = pay(_state(), session_id, attempt)
    return jsonify({"session": session_id, **result.to_dict()}), _PAY_STATUS[result.status]


@bp.post("/subscriptions/<sub_id>/advance")
def advance_subscription(sub_id):
    """Move a subscription into its next period and bill it."""
    state = _state()
    with state.store.transaction():
        sub, invoice = billing.advance(state, sub_id)
        return jsonify(
            {
                "status": sub["status"],
                "paid": bool(invoice) and invoice["status"] == "paid",
                "subscription": copy.deepcopy(sub),
                "invoice": copy.deepcopy(invoice),
            }
        )


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
    """Read or change where webhooks go (`forward_to`, `webhook_secret`)."""
    state = _state()
    if "forward_to" in request.form:
        state.forward_to = request.form["forward_to"] or None
    if request.form.get("webhook_secret"):
        state.webhook_secret = request.form["webhook_secret"]
    return jsonify(state.config())


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
