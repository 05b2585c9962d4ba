"""The emulator's state: the store, the delivery worker and run-time settings."""

import json
import logging
import secrets

from .store import Store
from .webhooks import Deliverer, describe_target

log = logging.getLogger(__name__)


def new_webhook_secret():
    return "whsec_" + secrets.token_hex(24)


class EmulatorState:
    def __init__(self, forward_to=None, webhook_secret=None, state_file=None, **delivery_options):
        self.store = Store(state_file)
        # A URL, or a callable `(payload, headers) -> status` for in-process tests.
        self.forward_to = forward_to or None
        self.webhook_secret = webhook_secret or self._kept_or_new_secret()
        self.delivery_enabled = True
        self.deliverer = Deliverer(on_attempt=self._record_attempt, **delivery_options)
        self._resume_deliveries()

    def reset(self):
        with self.store.transaction():
            self.store.reset()
            self.deliverer.reset()

    def config(self):
        return {
            "forward_to": describe_target(self.forward_to),
            "webhook_secret": self.webhook_secret,
            "delivery_enabled": self.delivery_enabled,
        }

    def delivery(self, event_id):
        """The delivery summary of an event (status, attempts, last answer, url)."""
        with self.store.lock:
            return dict((self.store.private.get(event_id) or {}).get("delivery") or {}) or None

    def close(self):
        self.deliverer.stop()
        self.store.close()

    def _kept_or_new_secret(self):
        # Like `stripe listen`, make up a signing secret when none is given; a state
        # file keeps it, so that a restarted emulator signs as before.
        store_file = self.store.file
        secret = store_file.setting("webhook_secret") if store_file else None
        if secret is None:
            secret = new_webhook_secret()
            if store_file:
                store_file.save_setting("webhook_secret", secret)
        return secret

    def _record_attempt(self, record):
        with self.store.transaction():
            private = self.store.private.get(record.event_id)
            event = self.store.get(record.event_id, "event")
            if private is None or event is None:
                return  # reset while it was being sent
            private["delivery"] = record.summary()
            if record.status == "delivered":
                # Stripe's `pending_webhooks` counts endpoints still waiting for it.
                event["pending_webhooks"] = 0

    def _resume_deliveries(self):
        """Queue again what a previous run had not delivered, to today's target."""
        with self.store.transaction():
            for event in self.store.oldest_first("event"):
                delivery = self.store.private[event["id"]].get("delivery") or {}
                if delivery.get("status") != "pending":
                    continue
                if self.forward_to is None:
                    delivery.update(status="no_target", url=None)
                    continue
                delivery["url"] = describe_target(self.forward_to)
                self.deliverer.submit(
                    event["id"],
                    json.dumps(event, indent=2).encode(),
                    self.forward_to,
                    self.webhook_secret,
                    attempts=delivery.get("attempts", 0),
                )
                log.info("resuming delivery of %s [%s]", event["type"], event["id"])
