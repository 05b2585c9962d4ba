"""Creating events: a snapshot of the object now, then hand-off for delivery."""

import contextvars
import json
import logging

from .shapes.common import event
from .webhooks import describe_target

log = logging.getLogger(__name__)

# (request id, idempotency key) of the API request being handled, if any:
# events caused by an API call name it in `event.request`, as Stripe's do.
current_request = contextvars.ContextVar("current_request", default=(None, None))


def emit(state, event_type, obj, previous_attributes=None):
    """Record an event about `obj` as it is at this moment and queue it.

    The event is sent once the transaction that made it is saved.
    """
    data = {"object": _snapshot(obj)}
    if previous_attributes is not None:
        data["previous_attributes"] = _snapshot(previous_attributes)
    target, secret = state.forward_to, state.webhook_secret
    wanted = state.forward_events is None or event_type in state.forward_events
    deliver = state.delivery_enabled and target is not None and wanted
    request_id, idempotency_key = current_request.get()
    evt = event(event_type, data, request_id, idempotency_key, 1 if deliver else 0)
    status = "pending" if deliver else (
        "no_target" if not target else "skipped" if wanted else "not_wanted")
    state.store.add(evt, delivery=_delivery(status, target if deliver else None))
    log.info("--> %s [%s]", event_type, evt["id"])
    if deliver:
        payload = json.dumps(evt, indent=2).encode()
        state.store.after_commit(
            lambda: state.deliverer.submit(evt["id"], payload, target, secret)
        )
    return evt


def _snapshot(value):
    # Stored objects are plain JSON, and a JSON round trip copies them several times
    # faster than copy.deepcopy: a year of renewals takes tens of thousands of snapshots.
    return json.loads(json.dumps(value))


def _delivery(status, target):
    return {
        "status": status,
        "delivered": False,
        "attempts": 0,
        "last_status_code": None,
        "last_error": None,
        "url": describe_target(target),
    }
