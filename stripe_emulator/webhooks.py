"""Webhook delivery, the way `stripe listen --forward-to` does it.

Events are POSTed as JSON with a `Stripe-Signature` header
(`t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">`) from one background
thread. A non-2xx answer or a connection error is retried with exponential
backoff; retries wait in a queue ordered by due time, so an endpoint that
keeps failing one event never holds up the events created after it.
"""

import hashlib
import heapq
import hmac
import itertools
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"

log = logging.getLogger(__name__)


def signature_header(payload, secret, timestamp=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def describe_target(target):
    """A URL as is; an in-process callable by its name (for JSON answers)."""
    if target is None or isinstance(target, str):
        return target
    return f"<callable {getattr(target, '__qualname__', repr(target))}>"


@dataclass
class Delivery:
    event_id: str
    status: str  # pending | delivered | failed | skipped | no_target
    url: object = None  # a URL, or a callable target (see `Deliverer.submit`)
    secret: str | None = None
    payload: bytes = b""
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = None

    def summary(self):
        return {
            "status": self.status,
            "delivered": self.status == "delivered",
            "attempts": self.attempts,
            "last_status_code": self.last_status_code,
            "last_error": self.last_error,
            "url": describe_target(self.url),
        }


class Deliverer:
    """Sends queued events; `on_attempt(record)` runs after each attempt, before the
    attempt counts as finished (so `wait` returns only once its outcome is recorded)."""

    def __init__(
        self, retry_base=0.5, retry_cap=4.0, max_attempts=4, timeout=10.0, on_attempt=None
    ):
        self.retry_base = retry_base
        self.retry_cap = retry_cap
        self.max_attempts = max_attempts
        self.timeout = timeout
        self._on_attempt = on_attempt or (lambda record: None)
        self._cond = threading.Condition()
        self._queue = []  # heap of (due time, sequence, Delivery)
        self._records = {}
        self._in_flight = 0
        self._sequence = itertools.count()
        self._thread = None
        self._stopping = False

    def submit(self, event_id, payload, url, secret, attempts=0):
        """Queue an event; `url` may be a callable `(payload, headers) -> status`
        so tests can deliver into an in-process app (e.g. a Flask test client).
        `attempts` counts tries made before a restart."""
        record = Delivery(event_id, "pending", url, secret, payload, attempts)
        with self._cond:
            self._records[event_id] = record
            self._push(record, time.monotonic())
            self._start()

    def wait(self, timeout):
        """Block until nothing is queued or being sent; False on timeout."""
        with self._cond:
            return self._cond.wait_for(self._idle, timeout)

    def pending(self):
        with self._cond:
            return len(self._queue) + self._in_flight

    def reset(self):
        with self._cond:
            self._queue.clear()
            self._records.clear()
            self._cond.notify_all()

    def stop(self):
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread:
            self._thread.join(timeout=self.timeout + 1)

    def _idle(self):
        return not self._queue and not self._in_flight

    def _push(self, record, due):
        heapq.heappush(self._queue, (due, next(self._sequence), record))
        self._cond.notify_all()

    def _start(self):
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="stripe-emulator-webhooks", daemon=True
            )
            self._thread.start()

    def _run(self):
        while True:
            record = self._next_due()
            if record is None:
                return
            status_code, error = self._send(record)
            self._finish(record, status_code, error)

    def _next_due(self):
        with self._cond:
            while not self._stopping:
                if self._queue:
                    delay = self._queue[0][0] - time.monotonic()
                    if delay <= 0:
                        self._in_flight += 1
                        return heapq.heappop(self._queue)[2]
                    self._cond.wait(delay)
                else:
                    self._cond.wait()
            return None

    def _send(self, record):
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signature_header(record.payload, record.secret),
            "User-Agent": USER_AGENT,
        }
        if callable(record.url):
            return _call_in_process(record.url, record.payload, headers)
        request = urllib.request.Request(record.url, record.payload, headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, None
        except urllib.error.HTTPError as error:
            return error.code, f"HTTP {error.code}"
        except (OSError, ValueError) as error:  # refused, timed out, bad URL
            return None, str(error)

    def _finish(self, record, status_code, error):
        delivered = status_code is not None and 200 <= status_code < 300
        # Like `stripe listen`: one line per delivery attempt.
        log.info(
            "<-- [%s] POST %s [%s]",
            status_code or error,
            describe_target(record.url),
            record.event_id,
        )
        retry_at = None
        with self._cond:
            # Reset while this was being sent: forget it.
            current = self._records.get(record.event_id) is record
            if current:
                record.attempts += 1
                record.last_status_code = status_code
                record.last_error = error
                if delivered:
                    record.status = "delivered"
                elif record.attempts < self.max_attempts:
                    backoff = min(self.retry_cap, self.retry_base * 2 ** (record.attempts - 1))
                    retry_at = time.monotonic() + backoff
                else:
                    record.status = "failed"
        try:
            if current:
                self._on_attempt(record)
        finally:
            with self._cond:
                if retry_at is not None:
                    self._push(record, retry_at)
                self._in_flight -= 1
                self._cond.notify_all()


def _call_in_process(target, payload, headers):
    """Deliver to a callable `target(payload, headers) -> status code` (tests)."""
    try:
        return int(target(payload, headers)), None
    except Exception as error:  # noqa: BLE001  (the target's failure is the endpoint's)
        return None, f"{type(error).__name__}: {error}"
