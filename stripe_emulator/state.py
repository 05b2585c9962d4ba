"""The emulator's state: the store, the delivery worker and run-time settings."""

import json
import logging
import secrets

from .clock import Clock
from .sepa import DEFAULT_ASYNC_DELAY
from .store import Store
from .webhooks import Deliverer, describe_target

log = logging.getLogger(__name__)


# When a failed renewal is tried again, in days after the attempt before it: Stripe's
# custom retry schedule ("3 days after the previous attempt, then 5, then 7"), so a
# renewal that keeps failing is tried on days 0, 3, 8 and 15.
DEFAULT_RETRY_DAYS = (3, 5, 7)
# What becomes of a subscription once the last retry failed, as in Stripe's settings
# "cancel the subscription" (its default), "mark the subscription as unpaid", "leave the
# subscription past-due".
AFTER_RETRIES = ("cancel", "unpaid", "past_due")
MAX_RETRIES = 8  # Stripe's Smart Retries try at most 8 times


def new_webhook_secret():
    return "whsec_" + secrets.token_hex(24)


def check_retry_days(days):
    """A retry schedule as a tuple of whole days (each 1 to 60); raises ValueError."""
    if isinstance(days, str):
        try:
            days = [int(part) for part in days.replace(" ", "").split(",") if part]
        except ValueError:
            raise ValueError("retry_days must be whole days, e.g. 3,5,7") from None
    days = tuple(days)
    if len(days) > MAX_RETRIES or not all(isinstance(d, int) and 1 <= d <= 60 for d in days):
        raise ValueError(f"retry_days: at most {MAX_RETRIES} retries, each 1 to 60 days after "
                         "the attempt before it")
    return days


def check_after_retries(value):
    if value not in AFTER_RETRIES:
        raise ValueError(f"after_retries must be one of {', '.join(AFTER_RETRIES)}")
    return value


def check_async_delay(value):
    """Seconds (0 to 3600) before a SEPA debit settles; raises ValueError."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError("async_delay must be a number of seconds") from None
    if not 0 <= seconds <= 3600:
        raise ValueError("async_delay must be 0 to 3600 seconds")
    return int(seconds) if seconds == int(seconds) else seconds


def check_events(value):
    """`a.b,c.d` -> frozenset of event types; empty -> None (every type is sent)."""
    types = frozenset(part.strip() for part in value.split(",") if part.strip())
    if any(not part.replace(".", "").replace("_", "").isalnum() for part in types):
        raise ValueError("events must be event types separated by commas")
    return types or None


class EmulatorState:
    def __init__(
        self,
        forward_to=None,
        webhook_secret=None,
        state_file=None,
        retry_days=DEFAULT_RETRY_DAYS,
        after_retries="cancel",
        async_delay=DEFAULT_ASYNC_DELAY,
        **delivery_options,
    ):
        self.store = Store(state_file)
        # A URL, or a callable `(payload, headers) -> status` for in-process tests.
        self.forward_to = forward_to or None
        self.webhook_secret = webhook_secret or self._kept_or_new_secret()
        self.delivery_enabled = True
        # Like `stripe listen --events` or an endpoint's enabled_events: None sends all.
        self.forward_events = None
        self.retry_days = check_retry_days(retry_days)
        self.after_retries = check_after_retries(after_retries)
        # Seconds before a SEPA debit settles (Stripe: days); see sepa.py.
        self.async_delay = check_async_delay(async_delay)
        self.settler = None  # sepa.Settler, started by create_emulator
        self.clock = Clock(self._kept_clock_offset())
        self.deliverer = Deliverer(on_attempt=self._record_attempt, **delivery_options)
        self._resume_deliveries()

    def reset(self):
        """Empty the store and put the clock back to the wall clock (settings are kept,
        except the events filter: every type is sent again)."""
        self.forward_events = None
        with self.store.transaction():
            self.store.reset()
            self.deliverer.reset()
            self.clock.reset()
            self.save_clock()
            if self.settler:
                self.settler.forget()

    def save_clock(self):
        """Keep the clock's offset in the state file, so a restart keeps the time."""
        if self.store.file:
            self.store.file.save_setting("clock_offset", str(self.clock.offset))

    def config(self):
        return {
            "forward_to": describe_target(self.forward_to),
            "webhook_secret": self.webhook_secret,
            "delivery_enabled": self.delivery_enabled,
            "events": sorted(self.forward_events) if self.forward_events else [],
            "retry_days": list(self.retry_days),
            "after_retries": self.after_retries,
            "async_delay": self.async_delay,
        }

    def _kept_clock_offset(self):
        store_file = self.store.file
        kept = store_file.setting("clock_offset") if store_file else None
        return int(kept) if kept else 0

    def delivery(self, event_id):
        """The delivery summary of an event (status, attempts, last answer, url)."""
        with self.store.lock:
            return dict((self.store.private.get(event_id) or {}).get("delivery") or {}) or None

    def close(self):
        if self.settler:
            self.settler.stop()
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
