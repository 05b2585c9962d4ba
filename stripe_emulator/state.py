"""The emulator's state: the store, the delivery worker and run-time settings."""

import secrets

from .store import Store
from .webhooks import Deliverer, describe_target


def new_webhook_secret():
    return "whsec_" + secrets.token_hex(24)


class EmulatorState:
    def __init__(self, forward_to=None, webhook_secret=None, **delivery_options):
        self.store = Store()
        # A URL, or a callable `(payload, headers) -> status` for in-process tests.
        self.forward_to = forward_to or None
        # Like `stripe listen`, make up a signing secret when none is given.
        self.webhook_secret = webhook_secret or new_webhook_secret()
        self.delivery_enabled = True
        self.deliverer = Deliverer(on_delivered=self._mark_delivered, **delivery_options)

    def reset(self):
        self.store.reset()
        self.deliverer.reset()

    def config(self):
        return {
            "forward_to": describe_target(self.forward_to),
            "webhook_secret": self.webhook_secret,
            "delivery_enabled": self.delivery_enabled,
        }

    def _mark_delivered(self, event_id):
        # Stripe's `pending_webhooks` counts endpoints still waiting for it.
        with self.store.lock:
            event = self.store.get(event_id, "event")
            if event is not None:
                event["pending_webhooks"] = 0
