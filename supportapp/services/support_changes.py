"""What a supporter may change about a recurring gift on the manage page, and its record.

Every change goes the same way: check it (a refusal says why, and Stripe is never asked),
ask Stripe with no transaction open, then in one transaction take the support's state from
Stripe's answer, write the SupportChange and queue the confirmation email. The webhook that
follows applies Stripe's state again; an older state never overwrites a newer one.
"""
import calendar
from datetime import datetime

from babel.dates import format_date
from flask import current_app
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import RecurringSupport, SupportChange
from supportapp.models.types import utcnow
from supportapp.services import payments
from supportapp.services.giving import FREQUENCIES, FREQUENCY_LABELS, with_period
from supportapp.services.money import MINOR_PER_MAJOR, format_money
from supportapp.services.outbox import public_url, queue_email
from supportapp.services.pricing import (
    MIN_AMOUNT_MINOR,
    AmountError,
    check_limits,
    parse_amount,
)
from supportapp.services.recurring import apply_subscription
from supportapp.services.supporter_gifts import support_of

RECURRING_FREQUENCIES = tuple(f for f in FREQUENCIES if f != "one_off")
PAUSE_MONTHS = (1, 2, 3)
# What a supporter may say when they cancel (reader's words), and Stripe's nearest feedback.
CANCEL_REASONS = {
    "too_expensive": "I can't afford it at the moment",
    "reading_less": "I don't read as much as I did",
    "coverage": "I'm unhappy with the coverage",
    "elsewhere": "I'm giving to something else instead",
    "other": "Another reason",
    "not_given": "I'd rather not say",
}
# The confirmation's subject when it tells one change; several changes at once get the
# template's general one.
CONFIRMATION_SUBJECTS = {
    "amount_changed": "The amount of your recurring gift has changed",
    "frequency_changed": "How often your gift is taken has changed",
    "paused": "Your recurring gift is paused",
    "resumed": "Your recurring gift is running again",
    "cancelled": "Your recurring gift is cancelled",
    "card_updated": "The card for your recurring gift is updated",
}
STRIPE_FEEDBACK = {"too_expensive": "too_expensive", "reading_less": "unused",
                   "coverage": "low_quality", "elsewhere": "switched_service", "other": "other"}


class ChangeRefused(ValueError):
    """A change the page refuses before Stripe hears of it; the message says why, for people."""


class NotTheirs(LookupError):
    """The recurring support is not one of the signed-in address's gifts."""


def their_support(email, support_id, supporting=True):
    """The address's recurring support `support_id`; raises NotTheirs when it is not one of
    theirs, and ChangeRefused when it has ended (unless `supporting` is False)."""
    support = support_of(email, support_id)
    if support is None:
        raise NotTheirs(support_id)
    if supporting and not support.supporting:
        raise ChangeRefused("This recurring gift has ended, so it can no longer be changed.")
    return support


def _read_amount(text, currency):
    try:
        amount = parse_amount(text)
        check_limits(amount, currency, current_app.config["MAX_AMOUNT_MINOR"])
    except AmountError as exc:
        raise ChangeRefused(str(exc)) from exc
    return amount


def change_gift(email, support_id, amount_text, frequency):
    """Set a recurring gift's amount and frequency (monthly or annual). Returns the changes
    made, as (kind, details) pairs: none when both were already so."""
    support = their_support(email, support_id)
    if frequency not in RECURRING_FREQUENCIES:
        raise ChangeRefused("Choose monthly or annual.")
    amount = _read_amount(amount_text, support.currency)
    changes = []
    if amount != support.amount_minor:
        changes.append(("amount_changed", {"from": support.amount_minor, "to": amount,
                                           "currency": support.currency}))
    if frequency != support.frequency:
        changes.append(("frequency_changed", {"from": support.frequency, "to": frequency}))
    if changes:
        subscription_id, currency = support.stripe_subscription_id, support.currency
        db.session.rollback()  # no transaction stays open while Stripe answers
        answer = payments.change_subscription_price(subscription_id, amount, currency,
                                                    frequency)
        record_change(email, support_id, changes, answer)
    return changes


def lower_amount(amount_minor):
    """The smaller gift offered before a cancellation: half, in whole units, at least the
    minimum; None when the gift is the minimum already."""
    if amount_minor <= MIN_AMOUNT_MINOR:
        return None
    return max(MIN_AMOUNT_MINOR, amount_minor // 2 // MINOR_PER_MAJOR * MINOR_PER_MAJOR)


def add_months(moment, months):
    """The same day `months` calendar months later (the month's last day if it is shorter)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month,
                          day=min(moment.day, calendar.monthrange(year, month)[1]))


def pause_gift(email, support_id, months_text, now=None):
    """Take no payment for 1, 2 or 3 months; returns the changes made."""
    support = their_support(email, support_id)
    months = int(months_text) if str(months_text or "").strip() in {
        str(m) for m in PAUSE_MONTHS} else None
    if months is None:
        raise ChangeRefused("Choose a pause of 1, 2 or 3 months.")
    if support.paused:
        raise ChangeRefused("This gift is already paused.")
    resumes_at = add_months(now or utcnow(), months)
    subscription_id = support.stripe_subscription_id
    db.session.rollback()
    answer = payments.pause_subscription(subscription_id, resumes_at)
    changes = [("paused", {"months": months, "resumes_at": resumes_at.isoformat()})]
    record_change(email, support_id, changes, answer)
    return changes


def resume_gift(email, support_id):
    """Take payments again from the next due date; returns the changes made."""
    support = their_support(email, support_id)
    if not support.paused:
        raise ChangeRefused("This gift is not paused.")
    subscription_id = support.stripe_subscription_id
    db.session.rollback()
    answer = payments.resume_subscription(subscription_id)
    changes = [("resumed", {})]
    record_change(email, support_id, changes, answer)
    return changes


def cancel_gift(email, support_id, reason):
    """End a recurring gift now, keeping the reason chosen (a key of CANCEL_REASONS; none
    chosen is "not_given"); returns the changes made."""
    reason = reason or "not_given"
    if reason not in CANCEL_REASONS:
        raise ChangeRefused("Choose one of the reasons, or none.")
    support = their_support(email, support_id)
    subscription_id = support.stripe_subscription_id
    db.session.rollback()
    answer = payments.cancel_subscription(subscription_id, STRIPE_FEEDBACK.get(reason))
    changes = [("cancelled", {"reason": reason})]
    record_change(email, support_id, changes, answer)
    return changes


def record_change(email, support_id, changes, subscription=None, key=None):
    """In one transaction: the support's state from Stripe's answer `subscription` (if any),
    a SupportChange per (kind, details), and one confirmation email to `email`. With a `key`
    (one per fact told) a second call records nothing and returns False."""
    fetched_at = utcnow()
    support = db.session.scalar(
        select(RecurringSupport).where(RecurringSupport.id == support_id)
        .with_for_update().execution_options(populate_existing=True))
    if subscription is not None:
        apply_subscription(support, subscription, fetched_at)
    rows = [SupportChange(email=email, recurring_support_id=support_id, kind=kind,
                          details=details, created_at=fetched_at) for kind, details in changes]
    db.session.add_all(rows)
    db.session.flush()
    queued = queue_email(
        key or f"support_changed:{rows[0].id}", "support_changed", email, "support_changed",
        sentences=[describe(kind, details) for kind, details in changes],
        headline=CONFIRMATION_SUBJECTS.get(changes[0][0]) if len(changes) == 1 else None,
        gift=gift_words(support), manage=public_url("support_manage.request_link"))
    if not queued:
        db.session.rollback()
        return False
    db.session.commit()
    return True


def gift_words(support):
    """"$5 a month", or "$5" when the frequency is not known."""
    amount = format_money(support.amount_minor, support.currency)
    return with_period(amount, support.frequency) if support.frequency else amount


def describe(kind, details):
    """One sentence, for the supporter, about one change (kind, details) of their gift."""
    if kind == "amount_changed":
        return (f"The amount is now {format_money(details['to'], details['currency'])} "
                f"(it was {format_money(details['from'], details['currency'])}).")
    if kind == "frequency_changed":
        return (f"It is now {FREQUENCY_LABELS[details['to']].lower()} "
                f"(it was {FREQUENCY_LABELS.get(details['from'], 'unknown').lower()}); "
                f"a new period starts today, with its first payment.")
    if kind == "paused":
        until = format_date(datetime.fromisoformat(details["resumes_at"]), format="long",
                            locale="en")
        return f"Payments are paused until {until}; nothing is taken meanwhile."
    return _PLAIN_SENTENCES[kind]


_PLAIN_SENTENCES = {
    "resumed": "Payments start again from the next due date.",
    "cancelled": "It is cancelled: no further payments will be taken.",
    "card_updated": "The card it is paid with has been replaced.",
}
