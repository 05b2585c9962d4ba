"""Failed renewals won back, end to end: the emulator renews with the 0341 card and retries
on its schedule as its clock moves, webhooks reach the app for real, the worker (the app's
own job code, on the app's clock) sends the emails to a real SMTP server, and the link in
an email replaces the card on the emulator's portal page and pays the invoice."""
import re
import threading
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import PaymentFailure, RecurringSupport
from supportapp.services.clock import move_clock
from supportapp.services.worker import run_due_jobs
from tests.integration.conftest import CARD_OK, CARD_RENEWAL_FAILS
from tests.mail_server import point_app_at

# What the app and its data do here runs on both databases elsewhere; one is enough.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

DAY = 24 * 3600
LINK_RE = re.compile(r"https?://[^/\s]+(/support/manage/card/\d+/[A-Za-z0-9._-]+)")


class Year:
    """Both clocks, the emulator's and the app's, moved together; the worker run by hand."""

    def __init__(self, live, mail_server):
        self.live, self.mail = live, mail_server
        point_app_at(live.app, mail_server.host, mail_server.port)
        self.seen = 0

    def emulator_now(self):
        return requests.get(f"{self.live.emulator.url}/_emulator/clock", timeout=10).json()[
            "now"]

    def advance(self, to=None, days=None):
        """Move the emulator's clock (running what falls due), then the app's by as much;
        wait for the webhooks; returns the emulator's answer."""
        before = self.emulator_now()
        answer = self.live.control("/clock/advance", **(
            {"to": str(to)} if to is not None else {"days": str(days)})).json()
        move_clock(timedelta(seconds=answer["now"] - before), self.live.app)
        self.live.settle()
        return answer

    def work(self):
        """One round of the worker's jobs (follow-ups, then mail) in the live app."""
        with self.live.app.app_context():
            run_due_jobs(threading.Event())
            db.session.remove()

    def new_mail(self):
        """The messages that arrived since the last call."""
        messages = self.mail.messages()
        fresh, self.seen = messages[self.seen:], len(messages)
        return fresh

    def subscribe(self, card=CARD_RENEWAL_FAILS):
        session_id = self.live.start_checkout(frequency="monthly", amount="5")
        assert self.live.pay(session_id, card=card).json()["status"] == "complete"
        self.live.settle()
        sub = self.live.stripe.v1.subscriptions.retrieve(self.live.subscription_of(session_id))
        self.work()
        self.new_mail()  # the first payment's receipt
        return sub


@pytest.fixture
def year(live, mail_server):
    return Year(live, mail_server)


def _text(message):
    return message.get_body(("plain",)).get_content()


def _link(message):
    return LINK_RE.search(_text(message)).group(1)


def _failure():
    db.session.rollback()
    return db.session.scalars(select(PaymentFailure)).one()


def _replace_card_through(live, link, card=CARD_OK):
    """What the supporter does with the link: our URL sends them to the emulator's card
    page; the card typed there brings them back to ours, which answers."""
    to_stripe = live.browser.get(live.url + link, allow_redirects=False, timeout=30)
    assert to_stripe.status_code == 303, to_stripe.text[:300]
    portal = to_stripe.headers["Location"]
    assert portal.startswith(f"{live.emulator.url}/p/session/")
    saved = requests.post(f"{portal}/payment_method", data={
        "card_number": card, "expiry": "12/34", "cvc": "123"}, allow_redirects=False,
        timeout=30)
    assert saved.status_code == 303, saved.text[:300]
    assert saved.headers["Location"] == f"{live.url}{link}/done"
    return live.browser.get(saved.headers["Location"], timeout=30)


def test_followups_on_days_3_and_7_then_the_link_pays(live, year):
    """The 0341 card's renewal fails: the email arrives at once, the follow-ups on day 3 and
    day 7 (with the emulator's retry between), each once; the day-7 link replaces the card
    and pays the invoice; the thank-you arrives, then nothing more."""
    sub = year.subscribe()
    period_end = sub["items"].data[0].current_period_end
    renewal = year.advance(to=period_end + 60)
    assert [(s["kind"], s["paid"]) for s in renewal["steps"]] == [("renewal", False)]
    year.work()
    (first,) = year.new_mail()
    assert first["Subject"] == "Your gift to The Harbour Ledger did not go through"
    assert first["To"] == "reader@example.com"
    failure = _failure()
    assert (failure.attempt_count, failure.reason) == (1, "generic_decline")

    retry = year.advance(days=3)  # day 3: the emulator retries (and fails), then the email
    assert [(s["kind"], s["paid"]) for s in retry["steps"]] == [("retry", False)]
    year.work()
    (second,) = year.new_mail()
    assert second["Subject"].startswith("Reminder: ")
    assert _failure().attempt_count == 2
    year.advance(days=2)
    year.work()
    assert year.new_mail() == []
    year.advance(days=2)  # day 7
    year.work()
    (third,) = year.new_mail()
    assert third["Subject"].startswith("Last reminder: ")
    assert len({_link(m) for m in (first, second, third)}) == 3

    done = _replace_card_through(live, _link(third))
    assert done.status_code == 200 and "Thank you: your gift is back on track" in done.text
    live.settle()
    invoice = live.stripe.v1.invoices.retrieve(failure.stripe_invoice_id)
    assert (invoice.status, invoice.amount_paid) == ("paid", 500)
    assert live.stripe.v1.subscriptions.retrieve(sub.id).status == "active"
    failure = _failure()
    assert failure.recovered_at is not None and failure.next_followup_at is None
    year.work()
    subjects = sorted(m["Subject"] for m in year.new_mail())
    assert subjects == ["Thank you: your gift to The Harbour Ledger is back on track",
                        "Your receipt from The Harbour Ledger: $5.00 a month"]

    later = year.advance(days=14)  # day 21: no retry of a paid invoice, nothing sent
    assert later["retries"] == 0
    year.work()
    assert year.new_mail() == []
    db.session.rollback()
    assert db.session.scalars(select(RecurringSupport.status)).one() == "active"


def test_a_card_replaced_after_the_first_email_stops_the_followups(live, year):
    """Paid through the first email's link on day 1: no retry by the emulator, no follow-up
    on day 3 or day 7, and the link opens nothing more."""
    sub = year.subscribe()
    year.advance(to=sub["items"].data[0].current_period_end + 60)
    year.work()
    (first,) = year.new_mail()
    year.advance(days=1)
    assert _replace_card_through(live, _link(first)).status_code == 200
    live.settle()
    year.work()
    assert len(year.new_mail()) == 2  # the thank-you and the receipt
    for days in (2, 4, 10):  # days 3, 7 and 17
        assert year.advance(days=days)["retries"] == 0
        year.work()
        assert year.new_mail() == []
    spent = live.browser.get(live.url + _link(first), allow_redirects=False, timeout=30)
    assert spent.status_code == 410


def test_no_new_card_loses_the_gift_after_the_last_retry(live, year):
    """Nobody replaces the card: the emulator retries on days 3, 8 and 15, then cancels; the
    failure is lost when the subscription ends, and its link says the gift has ended."""
    sub = year.subscribe()
    year.advance(to=sub["items"].data[0].current_period_end + 60)
    year.work()
    (first,) = year.new_mail()
    for days in (3, 4, 1, 7):  # days 3, 7, 8 and 15
        year.advance(days=days)
        year.work()
    assert [m["Subject"].split(":")[0] for m in year.new_mail()] == [
        "Reminder", "Last reminder"]
    failure = _failure()
    assert failure.lost_at is not None and failure.recovered_at is None
    assert failure.attempt_count == 4
    db.session.rollback()
    assert db.session.scalars(select(RecurringSupport.status)).one() == "canceled"
    ended = live.browser.get(live.url + _link(first), allow_redirects=False, timeout=30)
    assert ended.status_code == 410 and "This gift has ended" in ended.text
