"""Everything one email address gave: its contributions and recurring supports, as the
manage page lists them and as the CSV of the supporter's history."""
from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select

from supportapp.extensions import db
from supportapp.labels import label
from supportapp.models import Contribution, RecurringSupport, SupportChange
from supportapp.services.exports import csv_lines
from supportapp.services.money import decimal_string
from supportapp.services.supporter_email import normalise_email

HISTORY_HEADER = ("date", "kind", "amount", "currency", "status", "refunded", "reference")


@dataclass(frozen=True)
class SupporterGifts:
    contributions: list  # newest first
    supports: list  # recurring supports, still supporting first


def _of(column, email):
    return func.lower(column) == normalise_email(email)


def _subscriptions_paid_by(email):
    return select(Contribution.stripe_subscription_id).where(
        _of(Contribution.email, email), Contribution.stripe_subscription_id.is_not(None))


def has_gifts(email):
    """True when the address gave at least once (any contribution or recurring support)."""
    return bool(db.session.scalar(select(or_(
        exists().where(_of(Contribution.email, email)),
        exists().where(_of(RecurringSupport.email, email))))))


def _supports_query(email):
    # A support's own email can be missing (it is filled from the first invoice), so the
    # payments made with the address name its subscriptions too.
    return select(RecurringSupport).where(or_(
        _of(RecurringSupport.email, email),
        RecurringSupport.stripe_subscription_id.in_(_subscriptions_paid_by(email))))


def gifts_of(email):
    """The address's contributions (newest first) and recurring supports."""
    when = func.coalesce(Contribution.paid_at, Contribution.created_at)
    contributions = db.session.scalars(select(Contribution).where(
        _of(Contribution.email, email)).order_by(when.desc(), Contribution.id.desc())).all()
    supports = db.session.scalars(_supports_query(email).order_by(
        RecurringSupport.id)).all()
    supports = sorted(supports, key=lambda s: not s.supporting)
    return SupporterGifts(list(contributions), supports)


def support_of(email, support_id):
    """The recurring support `support_id` if it is this address's, else None."""
    return db.session.scalar(_supports_query(email).where(RecurringSupport.id == support_id))


def _history_row(row):
    when = row.paid_at or row.created_at
    return (when.date().isoformat(), label(row.frequency or "one_off", "frequency"),
            decimal_string(row.amount_minor), row.currency,
            label(row.status, "contribution_status"),
            decimal_string(row.amount_refunded_minor or 0),
            row.stripe_invoice_id or row.stripe_payment_intent_id or "")


def history_csv(email):
    """The address's contributions as CSV lines (newest first); text cells that a
    spreadsheet would run as a formula are quoted (services/exports.py)."""
    return csv_lines(HISTORY_HEADER, [_history_row(row) for row in gifts_of(email).contributions])


def note_history_download(email):
    """Record that the address downloaded its history (staff see it with the changes)."""
    count = len(gifts_of(email).contributions)
    db.session.add(SupportChange(email=email, kind="history_downloaded",
                                 details={"contributions": count}))
    db.session.commit()
