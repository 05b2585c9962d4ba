"""Failed renewals won back (services/recovery.py): the failure and its first email from
Stripe's events, whatever their order and repetition; the follow-ups on days 3 and 7 from
the worker, by the app's clock; and their end when the invoice is paid or the gift ends."""
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from supportapp.config import ConfigError, _days_after
from supportapp.extensions import db
from supportapp.models import CardUpdateLink, OutboxMessage, PaymentFailure, RecurringSupport
from supportapp.services.clock import move_clock
from supportapp.services.recovery import send_due_followups, send_followup
from supportapp.services.stripe_events import receive_event
from tests import stripe_fakes as sf

DAY = 24 * 3600
EMAIL = "reader@example.com"
LINK_RE = re.compile(r"http://127\.0\.0\.1:5000/support/manage/card/(\d+)/([A-Za-z0-9._-]+)")


class Renewal:
    """A monthly gift (known to the fake Stripe) whose renewal is about to fail."""

    def __init__(self, fake_stripe, at=None):
        self.fake = fake_stripe
        self.at = at or int(time.time())
        self.metadata = {"frequency": "monthly"}
        session = fake_stripe.add_session(sf.checkout_session(
            mode="subscription", metadata=self.metadata, customer_details={"email": EMAIL}))
        self.sub_id = session["subscription"]
        self.customer = session["customer"]
        self.sub = sf.subscription(self.sub_id, customer=self.customer,
                                   metadata=self.metadata)
        fake_stripe.subscriptions[self.sub_id] = self.sub
        first = sf.invoice(self.sub_id, metadata=self.metadata, payment_intent=sf.new_id("pi"))
        receive_event(sf.event("checkout.session.completed", session, created=self.at - 40 * DAY))
        receive_event(sf.event("invoice.paid", first, created=self.at - 40 * DAY))
        self.intent = sf.new_id("pi")
        self.invoice = sf.invoice(self.sub_id, metadata=self.metadata, status="open",
                                  reason="subscription_cycle", payment_intent=self.intent)
        self.invoice.update(attempt_count=1, next_payment_attempt=self.at + 3 * DAY)
        fake_stripe.add_invoice(self.invoice)
        fake_stripe.intent_errors[self.intent] = "insufficient_funds"

    def fail(self, attempt=1, created=None, next_attempt=None):
        """Stripe's invoice.payment_failed for attempt number `attempt`."""
        self.sub["status"] = "past_due"
        payload = {**self.invoice, "attempt_count": attempt,
                   "next_payment_attempt": next_attempt}
        if attempt == 1 and next_attempt is None:
            payload["next_payment_attempt"] = self.at + 3 * DAY
        return sf.event("invoice.payment_failed", payload,
                        created=created or self.at + (attempt - 1) * 3 * DAY)

    def paid(self, created):
        self.invoice.update(status="paid", amount_paid=self.invoice["amount_due"],
                            next_payment_attempt=None)
        self.invoice["status_transitions"]["paid_at"] = created
        self.sub["status"] = "active"
        return sf.event("invoice.paid", dict(self.invoice), created=created)

    def ended(self, created):
        self.sub.update(status="canceled", canceled_at=created)
        return sf.event("customer.subscription.deleted", dict(self.sub), created=created)


@pytest.fixture
def renewal(app, fake_stripe):
    return Renewal(fake_stripe)


def _failure():
    db.session.rollback()
    return db.session.scalars(select(PaymentFailure)).one()


def _recovery_emails():
    db.session.rollback()
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.key.like("recovery:%"))
                              .order_by(OutboxMessage.id)).all()


def _at(timestamp):
    return datetime.fromtimestamp(timestamp, UTC)


def _move_to(app, timestamp):
    """Move the app's clock so that it reads `timestamp` (Unix seconds), give or take."""
    move_clock(_at(timestamp) - datetime.now(UTC), app)


def test_failed_renewal_opens_a_failure_and_queues_the_first_email(renewal):
    """The failure's facts, and one email in the same transaction: the amount, the date,
    and a link straight to the card update that names no one."""
    assert receive_event(renewal.fail()) == "applied"
    failure = _failure()
    assert (failure.stripe_invoice_id, failure.amount_minor, failure.currency) == (
        renewal.invoice["id"], 500, "USD")
    assert failure.first_failed_at == failure.last_failed_at == _at(renewal.at)
    assert (failure.attempt_count, failure.reason) == (1, "insufficient_funds")
    assert failure.next_retry_at == _at(renewal.at + 3 * DAY)
    assert failure.followups_sent == 0 and failure.open
    assert failure.next_followup_at == _at(renewal.at + 3 * DAY)
    (email,) = _recovery_emails()
    assert (email.key, email.kind, email.to_address) == (
        f"recovery:{renewal.invoice['id']}:0", "recovery_failed", EMAIL)
    assert email.subject == "Your gift to The Harbour Ledger did not go through"
    assert "We tried to take your gift of $5.00 a month on" in email.text_body
    support_id, token = LINK_RE.search(email.text_body).groups()
    assert int(support_id) == failure.recurring_support_id
    assert LINK_RE.search(email.html_body).groups() == (support_id, token)
    assert "reader" not in token and renewal.sub_id not in token
    assert "works for 7 days" in email.text_body
    (link,) = db.session.scalars(select(CardUpdateLink)).all()
    assert link.payment_failure_id == failure.id and link.used_at is None
    assert timedelta(days=7) - timedelta(minutes=1) < link.expires_at - link.created_at \
        <= timedelta(days=7)
    support = db.session.scalars(select(RecurringSupport)).one()
    assert support.status == "past_due"


def test_duplicates_retries_and_late_events_email_once(renewal):
    """The same event twice, Stripe's retry failing (attempt 2), and the first failure
    arriving after the retry: one failure with the latest facts, one email."""
    retry = renewal.fail(attempt=2, next_attempt=renewal.at + 8 * DAY)
    first = renewal.fail()
    renewal.fake.intent_errors[renewal.intent] = "card_declined"
    assert receive_event(retry) == "applied"
    assert receive_event(first) == "applied"
    assert receive_event(first) == "duplicate"
    failure = _failure()
    assert failure.first_failed_at == _at(renewal.at)
    assert failure.last_failed_at == _at(renewal.at + 3 * DAY)
    assert failure.attempt_count == 2 and failure.next_retry_at == _at(renewal.at + 8 * DAY)
    assert [e.key for e in _recovery_emails()] == [f"recovery:{renewal.invoice['id']}:0"]


def test_a_failed_first_payment_is_not_a_renewal(app, fake_stripe):
    """Only renewals are chased: a subscription's first invoice failing opens nothing."""
    renewal = Renewal(fake_stripe)
    renewal.invoice["billing_reason"] = "subscription_create"
    receive_event(renewal.fail())
    assert db.session.scalars(select(PaymentFailure)).all() == []
    assert _recovery_emails() == []


def test_paid_ends_it_and_no_followup_goes(app, renewal):
    """invoice.paid: recovered at the time it was paid, nothing more is due, and the
    worker sends nothing on day 3 or 7."""
    receive_event(renewal.fail())
    receive_event(renewal.paid(renewal.at + DAY))
    failure = _failure()
    assert failure.recovered_at == _at(renewal.at + DAY) and failure.lost_at is None
    assert failure.next_followup_at is None
    _move_to(app, renewal.at + 8 * DAY)
    assert send_due_followups() == 0
    assert len(_recovery_emails()) == 1


def test_paid_before_the_failure_arrives(renewal):
    """Stripe's retry paid, and its invoice.paid came before the failure: the failure is
    recorded as recovered at once, and no email asks for a new card."""
    failed = renewal.fail()
    receive_event(renewal.paid(renewal.at + 3 * DAY))
    receive_event(failed)
    failure = _failure()
    assert failure.recovered_at == _at(renewal.at + 3 * DAY)
    assert _recovery_emails() == []


def test_the_subscription_ending_loses_it(app, renewal):
    """Cancelled after the retries: lost at that moment; no follow-up after it."""
    receive_event(renewal.fail())
    receive_event(renewal.ended(renewal.at + 2 * DAY))
    failure = _failure()
    assert failure.lost_at == _at(renewal.at + 2 * DAY) and failure.recovered_at is None
    assert failure.next_followup_at is None
    _move_to(app, renewal.at + 8 * DAY)
    assert send_due_followups() == 0
    # Paid later than it ended (an open invoice can still be paid): it stays lost.
    receive_event(renewal.paid(renewal.at + 3 * DAY))
    assert _failure().lost_at == _at(renewal.at + 2 * DAY)


def test_failure_of_an_ended_subscription_sends_nothing(renewal):
    """Stripe already cancelled the subscription when the failure is applied: lost, no
    email."""
    event = renewal.fail()
    renewal.sub.update(status="canceled", canceled_at=renewal.at)
    receive_event(event)
    assert _failure().lost_at is not None
    assert _recovery_emails() == []


def test_followups_on_day_3_and_day_7_once_each(app, renewal):
    """Nothing before day 3; day 3 sends follow-up 1; day 7 the last; never twice, never
    a third; each with a fresh link and Stripe's next retry date."""
    receive_event(renewal.fail())
    _move_to(app, renewal.at + 3 * DAY - 600)
    assert send_due_followups() == 0
    _move_to(app, renewal.at + 3 * DAY + 60)
    renewal.invoice["next_payment_attempt"] = renewal.at + 8 * DAY
    assert send_due_followups() == 1
    assert send_due_followups() == 0
    failure = _failure()
    assert failure.followups_sent == 1
    assert failure.next_followup_at == _at(renewal.at + 7 * DAY)
    _move_to(app, renewal.at + 7 * DAY + 60)
    assert send_due_followups() == 1
    _move_to(app, renewal.at + 30 * DAY)
    assert send_due_followups() == 0
    first, second, last = _recovery_emails()
    invoice = renewal.invoice["id"]
    assert [(e.key, e.kind) for e in (second, last)] == [
        (f"recovery:{invoice}:1", "recovery_followup"), (f"recovery:{invoice}:2",
                                                         "recovery_followup")]
    assert second.subject.startswith("Reminder: ") and last.subject.startswith("Last reminder")
    assert "try your current card again on" in second.text_body
    assert "last reminder" in last.text_body
    links = {LINK_RE.search(e.text_body).group(2) for e in (first, second, last)}
    assert len(links) == 3
    failure = _failure()
    assert (failure.followups_sent, failure.next_followup_at) == (2, None)


def test_a_worker_that_was_down_sends_the_latest_followup_only(app, renewal):
    """Back on day 9 after missing days 3 and 7: one email, the last reminder."""
    receive_event(renewal.fail())
    _move_to(app, renewal.at + 9 * DAY)
    assert send_due_followups() == 1
    (_, late) = _recovery_emails()
    assert late.key.endswith(":2") and "Last reminder" in late.subject
    assert _failure().followups_sent == 2


def test_a_followup_asks_stripe_first(app, renewal):
    """Stripe says the invoice is paid (its webhook is late): recovered, no follow-up. Stripe
    unreachable: nothing sent now, still due at the next run."""
    receive_event(renewal.fail())
    _move_to(app, renewal.at + 3 * DAY + 60)
    renewal.fake.unavailable = True
    assert send_due_followups() == 0
    assert _failure().next_followup_at == _at(renewal.at + 3 * DAY)
    renewal.fake.unavailable = False
    renewal.paid(renewal.at + 2 * DAY)
    assert send_due_followups() == 0
    assert _failure().recovered_at == _at(renewal.at + 2 * DAY)
    assert len(_recovery_emails()) == 1


def test_the_same_followup_is_never_sent_twice(app, renewal):
    """A second worker (or a rerun) on the same due failure finds nothing left to send."""
    receive_event(renewal.fail())
    _move_to(app, renewal.at + 3 * DAY + 60)
    failure_id = _failure().id
    now = _at(renewal.at + 3 * DAY + 60)
    assert send_followup(failure_id, now) == 1
    assert send_followup(failure_id, now) == 0
    assert len(_recovery_emails()) == 2


def test_followup_days_are_configurable(app, renewal):
    """SUPPORTAPP_RECOVERY_FOLLOWUP_DAYS: one follow-up on day 2 here."""
    app.config["RECOVERY_FOLLOWUP_DAYS"] = (2,)
    receive_event(renewal.fail())
    assert _failure().next_followup_at == _at(renewal.at + 2 * DAY)
    _move_to(app, renewal.at + 10 * DAY)
    assert send_due_followups() == 1
    assert "last reminder" in _recovery_emails()[-1].text_body
    assert _failure().next_followup_at is None


@pytest.mark.parametrize("raw, days", [("3,7", (3, 7)), (" 1, 2 ,30", (1, 2, 30)), ("", ())])
def test_followup_days_setting_reads(monkeypatch, raw, days):
    monkeypatch.setenv("SUPPORTAPP_RECOVERY_FOLLOWUP_DAYS", raw)
    assert _days_after("SUPPORTAPP_RECOVERY_FOLLOWUP_DAYS", "3,7") == days


@pytest.mark.parametrize("raw", ["7,3", "3,3", "0", "61", "three", "3;7"])
def test_followup_days_setting_refuses(monkeypatch, raw):
    monkeypatch.setenv("SUPPORTAPP_RECOVERY_FOLLOWUP_DAYS", raw)
    with pytest.raises(ConfigError, match="SUPPORTAPP_RECOVERY_FOLLOWUP_DAYS"):
        _days_after("SUPPORTAPP_RECOVERY_FOLLOWUP_DAYS", "3,7")
