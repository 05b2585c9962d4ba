"""Winning back a renewal whose card was declined.

1. A renewal's `invoice.payment_failed` opens a PaymentFailure (one per invoice; Stripe's
   retries and duplicate or late events update it) and, in the same transaction, queues the
   first email, `recovery:<invoice>:0`: a link straight to replacing the card
   (recovery_links), valid seven days.
2. Follow-ups go out on the days of RECOVERY_FOLLOWUP_DAYS after the failure (3 and 7),
   `recovery:<invoice>:1` and `:2`, from the worker (`send_due_followups`, in JOBS), at the
   `next_followup_at` kept on the failure: a worker that was down sends, when it starts,
   the latest follow-up that fell due (not each one it missed), and the key and a row lock
   keep two workers from sending one twice. Before each, Stripe is asked whether the
   invoice is still open.
3. It ends the moment the invoice is paid (`invoice.paid`: `recovered_at`) or the
   subscription ends unpaid (`lost_at`); no follow-up is due after either.
4. A card replaced through the link (or on the manage page) pays the open invoice at once,
   as Stripe's next retry would, and the supporter is thanked (`recovery:<invoice>:thanks`).
   Stripe is asked with no transaction open; the link is spent only when the payment went
   through, so a second card can be tried.
"""
import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from babel.dates import format_date
from flask import current_app
from sqlalchemy import select, true, update

from supportapp.extensions import db
from supportapp.models import OutboxMessage, PaymentFailure, RecurringSupport, SupportChange
from supportapp.models.dialect import dialect_insert
from supportapp.services import payments
from supportapp.services import stripe_payload as p
from supportapp.services.clock import current_time
from supportapp.services.giving import with_period
from supportapp.services.money import format_money_exact
from supportapp.services.outbox import OutboxError, public_url, queue_email
from supportapp.services.recovery_links import (
    ENDED_STATUSES,
    LINK_LIFETIME,
    LinkRefused,
    check_link,
    claim,
    failure_of_link,
    issue_link,
    release,
)
from supportapp.services.stripe_facts import RENEWAL_REASONS

log = logging.getLogger(__name__)

BATCH_SIZE = 20
FIRST, THANKS = "0", "thanks"


def _key(invoice_id, which):
    return f"recovery:{invoice_id}:{which}"


# --- What Stripe's events say (called by recurring.py, in the event's transaction) ---------

def renewal_failed(support, invoice, event, decline_code, contribution):
    """Record a failed attempt at a renewal's invoice and, when it opens the failure, queue
    the first email. Safe under duplicate and out-of-order events: the first failure, the
    last one and the attempts only ever grow; an invoice already paid, or a subscription
    already ended, opens a failure that is recovered or lost at once, with no email."""
    if invoice.get("billing_reason") not in RENEWAL_REASONS:
        return None
    invoice_id = p.required(p.stripe_id(invoice.get("id")), "invoice id")
    failed_at = p.event_time(event)
    attempts = p.amount(invoice.get("attempt_count")) or 1
    next_retry = p.timestamp(invoice.get("next_payment_attempt"))
    opened = db.session.execute(
        dialect_insert(PaymentFailure).values(
            recurring_support_id=support.id, stripe_invoice_id=invoice_id,
            amount_minor=contribution.amount_minor, currency=contribution.currency,
            first_failed_at=failed_at, last_failed_at=failed_at, reason=decline_code,
            attempt_count=attempts, next_retry_at=next_retry, followups_sent=0,
            created_at=current_time())
        .on_conflict_do_nothing(index_elements=["stripe_invoice_id"])
        .returning(PaymentFailure.id)).scalar() is not None
    failure = _locked(PaymentFailure.stripe_invoice_id == invoice_id)
    if not opened:
        failure.first_failed_at = min(failure.first_failed_at, failed_at)
        if failed_at >= failure.last_failed_at:
            failure.last_failed_at = failed_at
            failure.reason = decline_code or failure.reason
        if attempts >= failure.attempt_count:
            failure.attempt_count, failure.next_retry_at = attempts, next_retry
    if not failure.open:
        return failure
    if contribution.paid_at is not None:  # its invoice.paid came first
        _recovered(failure, contribution.paid_at)
    elif support.status in ENDED_STATUSES:
        _lost(failure, failed_at)
    elif opened:
        _first_email(failure, support)
    return failure


def invoice_paid(invoice_id, paid_at):
    """The invoice of a failed renewal is paid: recovered, and no follow-up is due. A
    failure recorded as lost stays lost unless the payment came before the end."""
    failure = _locked(PaymentFailure.stripe_invoice_id == invoice_id)
    if failure is None or failure.recovered_at is not None:
        return
    if failure.lost_at is not None and failure.lost_at <= paid_at:
        return
    failure.lost_at = None
    _recovered(failure, paid_at)


def support_ended(support, at):
    """The subscription ended (cancelled, unpaid): its failed renewals still open are lost,
    at `at`, and their follow-ups stop."""
    if support.status not in ENDED_STATUSES:
        return
    db.session.execute(
        update(PaymentFailure)
        .where(PaymentFailure.recurring_support_id == support.id,
               PaymentFailure.recovered_at.is_(None), PaymentFailure.lost_at.is_(None))
        .values(lost_at=at, next_followup_at=None)
        .execution_options(synchronize_session=False))


def _locked(condition):
    return db.session.scalars(select(PaymentFailure).where(condition).with_for_update()
                              .execution_options(populate_existing=True)).first()


def _recovered(failure, at):
    failure.recovered_at, failure.next_followup_at = at, None


def _lost(failure, at):
    failure.lost_at, failure.next_followup_at = at, None


def followup_days():
    """The days after a failure on which follow-ups are due, e.g. (3, 7)."""
    return tuple(current_app.config["RECOVERY_FOLLOWUP_DAYS"])


def _due_after(failure, sent):
    days = followup_days()
    return failure.first_failed_at + timedelta(days=days[sent]) if sent < len(days) else None


# --- The emails --------------------------------------------------------------------------

def _first_email(failure, support):
    failure.next_followup_at = _due_after(failure, 0)
    _queue(failure, support, FIRST, "recovery_failed")


def _queue(failure, support, which, template, **extra):
    """Queue one email about a failed renewal with a fresh link; False when the supporter
    has no usable address (logged, by failure id only) or the email was already written."""
    if not support.email:
        log.warning("payment failure %s: no address to write to", failure.id)
        return False
    db.session.flush()  # the failure's id, for its link
    context = email_context(failure, support)
    if template != "recovery_thanks":
        context["link"] = issue_link(failure)
    try:
        return queue_email(_key(failure.stripe_invoice_id, which), template, support.email,
                           template, **context, **extra)
    except OutboxError:
        log.warning("payment failure %s: the address on file cannot be written to",
                    failure.id)
        return False


def email_context(failure, support):
    """What every recovery email says: the gift, the amount due, the dates."""
    amount = format_money_exact(failure.amount_minor, failure.currency)
    retry = failure.next_retry_at
    return {
        "amount": amount,
        "gift": with_period(amount, support.frequency) if support.frequency else amount,
        "failed_on": _date(failure.first_failed_at),
        "next_retry_on": _date(retry) if retry else None,
        "link_days": LINK_LIFETIME.days,
        "manage": public_url("support_manage.request_link"),
    }


def _date(moment):
    return format_date(moment, format="long", locale="en")


def send_due_followups(stop=None):
    """The worker's job: send every follow-up due now, a batch at a time, until none is
    left or `stop` is set; returns how many were sent."""
    stop = stop or threading.Event()
    now = current_time()
    sent, seen = 0, set()
    while not stop.is_set():
        due = db.session.scalars(
            select(PaymentFailure.id)
            .where(PaymentFailure.next_followup_at <= now,
                   PaymentFailure.recovered_at.is_(None), PaymentFailure.lost_at.is_(None),
                   PaymentFailure.id.not_in(seen) if seen else true())
            .order_by(PaymentFailure.next_followup_at, PaymentFailure.id)
            .limit(BATCH_SIZE)).all()
        db.session.rollback()  # no transaction stays open while Stripe answers
        if not due:
            break
        for failure_id in due:
            if stop.is_set():
                break
            seen.add(failure_id)
            sent += send_followup(failure_id, now)
    return sent


def send_followup(failure_id, now):
    """Send the follow-up due for one failure, if it still is; 1 when one was queued."""
    invoice_id = db.session.scalar(select(PaymentFailure.stripe_invoice_id)
                                   .where(PaymentFailure.id == failure_id))
    db.session.rollback()
    try:
        invoice = payments.retrieve_invoice(invoice_id)
    except payments.PaymentsUnavailable:
        return 0  # asked again at the worker's next run
    except payments.PaymentsRejected:
        invoice = {}
    failure = db.session.scalars(
        select(PaymentFailure)
        .where(PaymentFailure.id == failure_id, PaymentFailure.next_followup_at <= now,
               PaymentFailure.recovered_at.is_(None), PaymentFailure.lost_at.is_(None))
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)).first()
    if failure is None:  # another worker took it, or it was settled meanwhile
        db.session.rollback()
        return 0
    queued = _followup(failure, invoice, now)
    db.session.commit()
    return int(queued)


def _followup(failure, invoice, now):
    status = invoice.get("status")
    if status == "paid":  # its invoice.paid is on its way
        paid_at = p.timestamp(p.dig(invoice, "status_transitions", "paid_at")) or now
        _recovered(failure, paid_at)
        return False
    support = db.session.get(RecurringSupport, failure.recurring_support_id)
    if status != "open" or support.status in ENDED_STATUSES:
        failure.next_followup_at = None  # void, uncollectible, or no longer Stripe's
        return False
    retry = p.timestamp(invoice.get("next_payment_attempt"))
    if invoice.get("attempt_count", 0) >= failure.attempt_count:
        failure.next_retry_at = retry
    # The latest follow-up due: after a worker outage, one email rather than a burst.
    number = failure.followups_sent
    while (due := _due_after(failure, number)) is not None and due <= now:
        number += 1
    failure.followups_sent = number
    failure.next_followup_at = _due_after(failure, number)
    return _queue(failure, support, str(number), "recovery_followup",
                  final=number == len(followup_days()))


# --- Replacing the card through the link -------------------------------------------------

@dataclass(frozen=True)
class Recovery:
    """The payment taken after a card was replaced."""

    amount_minor: int
    currency: str

    @property
    def amount(self):
        return format_money_exact(self.amount_minor, self.currency)


class CardDeclined(Exception):
    """The new card was refused too; `message` is Stripe's words for the supporter."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def start_link_card_update(support_id, token, return_url, done_url):
    """The URL of Stripe's page for replacing the card of the gift a link is for; raises
    LinkRefused, or payments.PaymentsUnavailable / PaymentsRejected."""
    link = check_link(support_id, token)
    if not link.customer_id:
        raise LinkRefused("invalid", link.failure_id)
    return payments.create_card_update_session(link.customer_id, return_url, done_url)


def finish_link_card_update(support_id, token):
    """After Stripe's page replaced the card: pay the open invoice with it, spend the link,
    record the recovery and thank the supporter. Returns a Recovery; raises LinkRefused,
    CardDeclined (the link still works), or payments.PaymentsUnavailable."""
    link = check_link(support_id, token)
    if not claim(link):
        raise LinkRefused("used", link.failure_id)
    try:
        invoice = _pay_with_new_card(link.customer_id, link.subscription_id, link.invoice_id)
    except BaseException:
        release(link)
        raise
    return _record_recovery(link.failure_id, invoice, "recovery_link")


def pay_after_card_update(support_id):
    """The card of a gift was replaced on the manage page: pay its open failed renewal, if
    it has one. Returns a Recovery, or None when nothing was owed; raises CardDeclined or
    payments.PaymentsUnavailable."""
    row = db.session.execute(
        select(PaymentFailure.id, PaymentFailure.stripe_invoice_id,
               RecurringSupport.stripe_customer_id, RecurringSupport.stripe_subscription_id)
        .join(RecurringSupport, RecurringSupport.id == PaymentFailure.recurring_support_id)
        .where(PaymentFailure.recurring_support_id == support_id,
               PaymentFailure.recovered_at.is_(None), PaymentFailure.lost_at.is_(None))
        .order_by(PaymentFailure.first_failed_at.desc())).first()
    db.session.rollback()
    if row is None:
        return None
    invoice = _pay_with_new_card(row.stripe_customer_id, row.stripe_subscription_id,
                                 row.stripe_invoice_id)
    return _record_recovery(row.id, invoice, "manage_page")


def _pay_with_new_card(customer_id, subscription_id, invoice_id):
    """Put the customer's new default card on the subscription (its own card would win over
    it), then pay the invoice; the invoice as Stripe answered. No transaction is open."""
    try:
        card = payments.customer_card(customer_id) if customer_id else None
        if card:
            payments.set_subscription_card(subscription_id, card)
        return payments.pay_invoice(invoice_id)
    except payments.PaymentDeclined as exc:
        raise CardDeclined(exc.message) from exc
    except payments.PaymentsRejected:
        invoice = payments.retrieve_invoice(invoice_id)
        if invoice.get("status") != "paid":  # void or uncollectible: nothing to pay
            raise
        return invoice  # Stripe's own retry got there first


def _record_recovery(failure_id, invoice, via):
    """In one transaction: the failure recovered, the card change in the gift's history,
    and the thank-you email."""
    failure = _locked(PaymentFailure.id == failure_id)
    support = db.session.get(RecurringSupport, failure.recurring_support_id)
    paid_at = p.timestamp(p.dig(invoice, "status_transitions", "paid_at")) or current_time()
    if failure.recovered_at is None:
        failure.lost_at = None
        _recovered(failure, paid_at)
    if support.email and via == "recovery_link":  # the manage page records its own
        db.session.add(SupportChange(email=support.email, recurring_support_id=support.id,
                                     kind="card_updated", details={"via": via},
                                     created_at=current_time()))
    _queue(failure, support, THANKS, "recovery_thanks")
    db.session.commit()
    return Recovery(failure.amount_minor, failure.currency)


def send_new_link(support_id, token):
    """Email a fresh link for the failed renewal an expired link of ours was sent for, to
    the address on file (never to one given here), once per old link. True when the
    failure still needs it and an email is (or already was) on its way."""
    failure_id = failure_of_link(support_id, token)
    if failure_id is None:
        return False
    failure = _locked(PaymentFailure.id == failure_id)
    support = db.session.get(RecurringSupport, support_id)
    if not failure.open or support.status in ENDED_STATUSES or not support.email:
        db.session.rollback()
        return False
    which = f"again:{token_digest(token)}"
    key = _key(failure.stripe_invoice_id, which)
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)):
        db.session.rollback()
        return True
    queued = _queue(failure, support, which, "recovery_new_link")
    db.session.commit()
    return queued


def token_digest(token):
    """A short stand-in for a link in an email's key (never the link itself)."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


__all__ = ["CardDeclined", "LinkRefused", "Recovery", "finish_link_card_update",
           "invoice_paid", "pay_after_card_update", "renewal_failed", "send_due_followups",
           "send_new_link", "start_link_card_update", "support_ended"]
