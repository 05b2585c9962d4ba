"""Receiving Stripe events: store by id first, then apply exactly once.

1. The event is INSERTed by its id (ON CONFLICT DO NOTHING) and committed.
2. What Stripe must be asked (the session, the subscription now) is asked with no
   transaction open (stripe_facts), so no lock is held while Stripe answers.
3. Applying it starts by claiming the stored row (UPDATE ... WHERE processed_at IS NULL),
   which holds a row lock on PostgreSQL and the write lock on SQLite until commit, so a
   duplicate delivered at the same moment waits, then finds the event processed.
4. The handlers and `processed_at` commit together.

Only two failures are final: a payload that is provably malformed (stripe_payload.PayloadError,
raised on purpose while reading it) and a request Stripe refused (PaymentsRejected); the
event is marked processed with its error. Anything else, an outage or a bug of ours alike,
rolls back and leaves the event unprocessed: the webhook answers 5xx so that Stripe retries,
and `flask stripe sync` applies it once the cause is gone.
"""
import hashlib
import json
import logging
import re
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from supportapp.extensions import db
from supportapp.models import StripeEvent
from supportapp.models.dialect import insert_ignore
from supportapp.services import payments
from supportapp.services import stripe_payload as p
from supportapp.services.fulfilment import apply_event
from supportapp.services.payments import PaymentsRejected, PaymentsUnavailable
from supportapp.services.stripe_facts import fetch_facts

log = logging.getLogger(__name__)

_EVENT_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,255}$")
_TYPE_RE = re.compile(r"^[a-z0-9_.]{1,100}$")
# Problems with the event itself: retrying cannot help, so it is stored, logged and answered.
FINAL_PROBLEMS = (p.PayloadError, PaymentsRejected)
# Failures that are expected to pass; anything else is a bug of ours and logged in full.
PASSING_PROBLEMS = (PaymentsUnavailable, SQLAlchemyError)


class RetryLater(Exception):
    """Applying the event failed for a reason that may pass (database, Stripe unreachable)."""


def event_key(event):
    """The event's id, or for a body without a usable one a digest of the body itself."""
    event_id = event.get("id") if isinstance(event, dict) else None
    if isinstance(event_id, str) and _EVENT_ID_RE.match(event_id):
        return event_id
    body = json.dumps(event, sort_keys=True, separators=(",", ":"))
    return "unidentified:" + hashlib.sha256(body.encode()).hexdigest()


def event_type(event):
    kind = event.get("type") if isinstance(event, dict) else None
    return kind if isinstance(kind, str) and _TYPE_RE.match(kind) else "unknown"


def store_event(event):
    """Keep the event under its id (once, however often it arrives); returns the id."""
    event_id = event_key(event)
    created = p.timestamp(event.get("created")) if isinstance(event, dict) else None
    payload = event if isinstance(event, dict) else {"body": event}
    insert_ignore(StripeEvent, {"event_id": event_id, "type": event_type(event),
                                "created": created, "payload": payload,
                                "received_at": datetime.now(UTC)})
    db.session.commit()
    return event_id


def _claim(event_id):
    result = db.session.execute(
        update(StripeEvent)
        .where(StripeEvent.event_id == event_id, StripeEvent.processed_at.is_(None))
        .values(attempts=StripeEvent.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _stored(event_id):
    return db.session.scalar(select(StripeEvent).where(StripeEvent.event_id == event_id)
                             .execution_options(populate_existing=True))


def process_event(event_id, facts):
    """Apply a stored event unless it already was, with what Stripe said beforehand.

    Returns "applied", "ignored" (a type we do not act on), "rejected" (its payload cannot
    be applied; kept with the error) or "duplicate". Raises RetryLater.
    """
    try:
        if not _claim(event_id):
            db.session.rollback()
            return "duplicate"
        stored = _stored(event_id)
        handled = apply_event(stored.payload if isinstance(stored.payload, dict) else {}, facts)
        stored.processed_at, stored.error = datetime.now(UTC), None
        db.session.commit()
        return "applied" if handled else "ignored"
    except Exception as exc:  # sorted into final and retried below; nothing is swallowed
        db.session.rollback()
        return _failed(event_id, exc)


def _failed(event_id, exc):
    if isinstance(exc, FINAL_PROBLEMS):
        log.warning("stripe event %s not applicable: %s", event_id, type(exc).__name__)
        _finish(event_id, processed=True, error=_describe(exc))
        return "rejected"
    if isinstance(exc, PASSING_PROBLEMS):
        log.warning("stripe event %s will be retried: %s", event_id, type(exc).__name__)
    else:
        log.exception("stripe event %s failed and will be retried", event_id)
    _finish(event_id, processed=False, error=_describe(exc))
    raise RetryLater(event_id) from exc


def _describe(exc):
    # Our own messages carry no personal data; others are reduced to their class name.
    if isinstance(exc, (p.PayloadError, PaymentsRejected, PaymentsUnavailable)):
        return f"{type(exc).__name__}: {exc}"[:500]
    return type(exc).__name__


def _finish(event_id, processed, error):
    values = {"error": error}
    if processed:
        values["processed_at"] = datetime.now(UTC)
    try:
        db.session.execute(update(StripeEvent)
                           .where(StripeEvent.event_id == event_id,
                                  StripeEvent.processed_at.is_(None))
                           .values(**values).execution_options(synchronize_session=False))
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()


def receive_event(event):
    """Store, ask Stripe, then apply one event from a webhook or from the event list.

    See process_event for the answers; raises RetryLater.
    """
    event_id = store_event(event)
    if event_is_processed(event_id):
        return "duplicate"
    try:
        facts = fetch_facts(event)
    except Exception as exc:  # sorted into final and retried, as when applying
        return _failed(event_id, exc)
    return process_event(event_id, facts)


def event_is_processed(event_id):
    """True once the event has been applied (or found final); ends the read it makes."""
    processed = db.session.scalar(select(StripeEvent.processed_at)
                                  .where(StripeEvent.event_id == event_id)) is not None
    db.session.rollback()  # no transaction stays open across what the caller does next
    return processed


def fetch_events(since):
    """Every Stripe event created since `since` (aware datetime), oldest first."""
    events = list(payments.events_since(int(since.timestamp())))
    events.reverse()
    return events


def sync_event(event):
    """Apply an event from Stripe's list unless it is already known: "applied" or "known"."""
    if event_is_processed(event_key(event)):
        return "known"
    result = receive_event(event)
    return "known" if result == "duplicate" else "applied"
