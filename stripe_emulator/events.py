"""Creating events: a snapshot of the object now, then hand-off for delivery."""

import contextvars
import copy
import json
import logging

from .shapes.common import event

log = logging.getLogger(__name__)

# (request id, idempotency key) of the API request being handled, if any:
# events caused by an API call name it in `event.request`, as Stripe's do.
current_request = contextvars.ContextVar("current_request", default=(None, None))


def emit(state, event_type, obj, previous_attributes=None):
    """Record an event about `obj` as it is at this moment and queue it."""
    data = {"object": copy.deepcopy(obj)}
    if previous_attributes is not None:
        data["previous_attributes"] = copy.deepcopy(previous_attributes)
    deliver = state.delivery_enabled and state.forward_to
    request_id, idempotency_key = current_request.get()
    evt = event(event_type, data, request_id, idempotency_key, 1 if deliver else 0)
    state.store.add(evt)
    log.info("--> %s [%s]", event_type, evt["id"])
    if deliver:
        payload = json.dumps(evt, indent=2).encode()
        state.deliverer.submit(evt["id"], payload, state.forward_to, state.webhook_secret)
    else:
        state.deliverer.skip(evt["id"], "skipped" if state.forward_to else "no_target")
    return evt
