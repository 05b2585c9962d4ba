"""Erasing a supporter's personal data when they ask, keeping the accounts whole.

The address goes from their contributions, recurring supports, sign-ins, support changes,
"Remind me later" reminders and emails (kept only as a keyed digest where a record must
still say whose it was; the files sent with the emails are deleted), and from the Stripe
events stored after they were applied; amounts, currencies, dates and Stripe ids stay, so
the books still add up. Their recurring gifts are cancelled and their Stripe customers
deleted first, with no transaction open; if Stripe cannot be reached, nothing here is
erased and the supporter can ask again.
"""
from dataclasses import dataclass

from sqlalchemy import Text, cast, delete, func, or_, select, update

from supportapp.extensions import db
from supportapp.models import (
    Contribution,
    OutboxAttachment,
    OutboxMessage,
    RecurringSupport,
    Reminder,
    StripeEvent,
    SupportChange,
    SupportSignIn,
)
from supportapp.models.types import utcnow
from supportapp.services import payments
from supportapp.services.recurring import apply_subscription
from supportapp.services.supporter_email import email_digest, normalise_email
from supportapp.services.supporter_gifts import gifts_of

ERASED_NOTE = "erased at the supporter's request"


@dataclass(frozen=True)
class _Found:
    contribution_ids: list
    support_ids: list
    customers: list
    subscriptions: list  # still supporting: cancelled before the customer goes


def _find(email):
    gifts = gifts_of(email)
    customers = {row.stripe_customer_id for row in (*gifts.contributions, *gifts.supports)}
    return _Found([row.id for row in gifts.contributions],
                  [row.id for row in gifts.supports], sorted(c for c in customers if c),
                  [(s.id, s.stripe_subscription_id) for s in gifts.supports if s.supporting])


def erase_supporter(email):
    """Cancel the address's recurring gifts, delete its Stripe customers, then erase its
    personal data here in one transaction, logged as a SupportChange "erased"."""
    found = _find(email)
    db.session.rollback()  # no transaction stays open while Stripe answers
    answers = [(support_id, _cancel(subscription_id))
               for support_id, subscription_id in found.subscriptions]
    deleted = sum(payments.delete_customer(customer) for customer in found.customers)
    fetched_at = utcnow()
    for support_id, answer in answers:
        if answer is not None:
            apply_subscription(db.session.get(RecurringSupport, support_id), answer,
                               fetched_at)
    digest = email_digest(email)
    _erase_rows(email, digest, found)
    db.session.add(SupportChange(email=digest, kind="erased", details={
        "contributions": len(found.contribution_ids),
        "recurring_supports": len(found.support_ids), "stripe_customers_deleted": deleted}))
    db.session.commit()


def _cancel(subscription_id):
    try:
        return payments.cancel_subscription(subscription_id)
    except payments.PaymentsRejected:
        return None  # Stripe has it ended already; the webhook said or will say so


def _matches(column, email):
    return func.lower(column) == normalise_email(email)


def _erase_rows(email, digest, found):
    if found.contribution_ids:
        db.session.execute(update(Contribution).where(Contribution.id.in_(
            found.contribution_ids)).values(email=None))
    if found.support_ids:
        db.session.execute(update(RecurringSupport).where(RecurringSupport.id.in_(
            found.support_ids)).values(email=None))
    db.session.execute(update(SupportChange).where(_matches(SupportChange.email, email))
                       .values(email=digest))
    db.session.execute(delete(SupportSignIn).where(_matches(SupportSignIn.email, email)))
    _erase_reminders(email, digest)
    _erase_emails(email, digest)
    _redact_events(email, found.customers)


def _erase_reminders(email, digest):
    # Reminders not sent yet never go; all keep their counts (story, variant, dates).
    db.session.execute(update(Reminder).where(
        _matches(Reminder.email, email), Reminder.sent_at.is_(None),
        Reminder.unsubscribed_at.is_(None)).values(unsubscribed_at=utcnow()))
    db.session.execute(update(Reminder).where(_matches(Reminder.email, email))
                       .values(email=digest))


def _erase_emails(email, digest):
    # Messages not sent yet are not sent at all: their address is gone.
    db.session.execute(update(OutboxMessage).where(
        _matches(OutboxMessage.to_address, email),
        OutboxMessage.status.in_(("queued", "sending"))).values(
            status="given_up", last_error=ERASED_NOTE, lease_until=None))
    # Files sent with them (a statement's PDF) list the gifts and the address: they go too.
    db.session.execute(delete(OutboxAttachment).where(OutboxAttachment.message_id.in_(
        select(OutboxMessage.id).where(_matches(OutboxMessage.to_address, email)))))
    db.session.execute(update(OutboxMessage).where(_matches(OutboxMessage.to_address, email))
                       .values(to_address=digest, text_body="", html_body=""))


def _redact_events(email, customers):
    """Stored events that name the address or its customers keep only their id and type,
    once applied (an event still waiting keeps its payload, or it could never be applied)."""
    text = func.lower(cast(StripeEvent.payload, Text))
    needles = [normalise_email(email), *(customer.lower() for customer in customers)]
    events = db.session.scalars(select(StripeEvent).where(
        StripeEvent.processed_at.is_not(None),
        or_(*(text.contains(needle, autoescape=True) for needle in needles)))).all()
    for event in events:
        event.payload = {"id": event.event_id, "type": event.type, "redacted": ERASED_NOTE}
