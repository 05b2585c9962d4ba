"""Contributions and recurring supports: found or created once, safely under concurrency.

Rows are created with INSERT ... ON CONFLICT DO NOTHING on their unique Stripe ids and then
read back locked (FOR UPDATE on PostgreSQL; SQLite lets one writer in at a time), so two
deliveries racing to create the same record end with one row. Callers commit.
"""
import re

from sqlalchemy import or_, select

from supportapp.extensions import db
from supportapp.models import (
    Appeal,
    AppealVariant,
    Contribution,
    RecurringSupport,
    Reminder,
    Story,
)
from supportapp.models.contribution import STRIPE_KEYS
from supportapp.models.dialect import insert_ignore
from supportapp.models.recurring_support import SUPPORTING_STATUSES
from supportapp.services.gift_attribution import CREDIT_FIELDS, credited_fields
from supportapp.services.reader_cookies import valid_reader_id
from supportapp.services.supporter_email import erased_since

_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_FACTS = ("paid_at", "failed_at", "disputed_at")
# What a gift is credited to (AttributedToAppeal, WonByReminder), as `attribution` gives it.
ATTRIBUTION_FIELDS = ("story_id", "appeal_id", "variant_id", "reader_id", "reminder_id",
                      *CREDIT_FIELDS)
_FILLABLE = ("frequency", "billing_reason", "stripe_subscription_id", "stripe_customer_id",
             *ATTRIBUTION_FIELDS, "email")


def _locked(statement):
    return db.session.scalars(
        statement.with_for_update().execution_options(populate_existing=True)
    ).all()


def fill(record, **values):
    """Set each value the record does not have yet; known values are never overwritten."""
    for name, value in values.items():
        if value is not None and getattr(record, name) is None:
            setattr(record, name, value)


def fill_email(record, email):
    """Give the record its supporter's address unless it has one, or that supporter had
    their data erased since the record was made: a late or replayed Stripe event must not
    bring an erased address back (a gift made after the erasure is a new record)."""
    if email and record.email is None and not erased_since(email, record.created_at):
        record.email = email


def contribution_for(keys, amount_minor, currency):
    """The one contribution that any of these Stripe ids names, created if there is none.

    keys: {"stripe_invoice_id": ..., "stripe_payment_intent_id": ...}; None values are
    skipped. Two rows found for one payment (a refund that came before its payment) are
    merged into one.
    """
    keys = {name: value for name, value in keys.items() if value}
    insert_ignore(Contribution, {**keys, "amount_minor": amount_minor, "currency": currency})
    conditions = [getattr(Contribution, name) == value for name, value in keys.items()]
    row, *others = _locked(select(Contribution).where(or_(*conditions))
                           .order_by(Contribution.id))
    for other in others:
        _absorb(row, other)
    fill(row, **keys)
    return row


def _absorb(row, other):
    """Move what `other` knows about the same payment onto `row`, then delete `other`."""
    ids = {name: getattr(other, name) for name in STRIPE_KEYS}
    facts = {name: getattr(other, name) for name in _FACTS}
    known = {name: getattr(other, name) for name in _FILLABLE}
    refunded = other.amount_refunded_minor
    db.session.delete(other)
    db.session.flush()  # its unique ids are free before row takes them
    fill(row, **ids, **known)
    for name, value in facts.items():
        current = getattr(row, name)
        if value is not None and (current is None or value < current):
            setattr(row, name, value)
    row.amount_refunded_minor = max(row.amount_refunded_minor or 0, refunded or 0)


def contribution_exists(**keys):
    conditions = [getattr(Contribution, name) == value for name, value in keys.items() if value]
    return bool(conditions) and db.session.scalar(
        select(Contribution.id).where(or_(*conditions)).limit(1)) is not None


def recurring_support_for(subscription_id, amount_minor, currency):
    """The recurring support for a subscription, created if there is none yet."""
    insert_ignore(RecurringSupport, {"stripe_subscription_id": subscription_id,
                                     "amount_minor": amount_minor, "currency": currency})
    (support,) = _locked(select(RecurringSupport).where(
        RecurringSupport.stripe_subscription_id == subscription_id))
    return support


def is_newer(support, at):
    """True when a fact dated `at` may change the support: never after it was cancelled,
    never when a later fact is already recorded."""
    if support.status == "canceled":
        return False
    return support.status_at is None or (at is not None and at >= support.status_at)


def set_status(support, status, at):
    if status and is_newer(support, at):
        support.status, support.status_at = status, at


def attribution(metadata):
    """{story_id, appeal_id, variant_id, reader_id, reminder_id} and the direct or
    influenced credit (gift_attribution.credited_fields) from checkout metadata; what does
    not name a real story, appeal, variant or reminder is left out rather than trusted."""
    metadata = metadata if isinstance(metadata, dict) else {}
    slug = metadata.get("story")
    story_id = None
    if isinstance(slug, str) and _SLUG_RE.match(slug) and len(slug) <= 200:
        story_id = db.session.scalar(select(Story.id).where(Story.slug == slug))
    appeal_id = _existing(Appeal, metadata.get("appeal"))
    variant = db.session.get(AppealVariant, v) if (v := _number(metadata.get("variant"))) else None
    if variant is not None and appeal_id is not None and variant.appeal_id != appeal_id:
        variant = None
    reader = metadata.get("reader")
    return {
        "story_id": story_id,
        "appeal_id": appeal_id if appeal_id is not None else getattr(variant, "appeal_id", None),
        "variant_id": variant.id if variant is not None else None,
        "reader_id": valid_reader_id(reader) if isinstance(reader, str) else None,
        # Our own metadata: the view checked the link's signed reference before checkout.
        "reminder_id": _existing(Reminder, metadata.get("reminder")),
        **credited_fields(metadata),
    }


def _number(value):
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


def _existing(model, value):
    number = _number(value)
    return number if number is not None and db.session.get(model, number) else None


def backfill_attribution(subscription_id, values):
    """Give a subscription's payments the story/appeal that won it, where they lack one."""
    rows = db.session.scalars(select(Contribution).where(
        Contribution.stripe_subscription_id == subscription_id,
        Contribution.story_id.is_(None), Contribution.appeal_id.is_(None))).all()
    for row in rows:
        fill(row, **values)


def subscription_is_active(subscription_id):
    """True while the recurring gift lasts, False once it ended, None when not known here."""
    status = db.session.scalar(select(RecurringSupport.status).where(
        RecurringSupport.stripe_subscription_id == subscription_id))
    if status is None:
        return None
    return status in SUPPORTING_STATUSES or status == "incomplete"
