"""A euro gift paid by SEPA Direct Debit through the emulator, webhooks delivered for real:
checkout completes unpaid (a pending contribution, no receipt), and only the
async_payment_succeeded event makes it paid; a failing IBAN leaves no paid gift."""
import time

import pytest
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import Contribution, RecurringSupport

SUCCEEDS = "DE89370400440532013000"  # Stripe's test IBANs
FAILS = "DE62370400440532013001"
HOUR = 3600


@pytest.fixture
def async_delay(emulator):
    """Set how long the emulator takes to settle a debit, for one test."""
    kept = emulator.state.async_delay

    def set_delay(seconds):
        emulator.state.async_delay = seconds

    yield set_delay
    emulator.state.async_delay = kept


def _contributions():
    db.session.rollback()  # see what the live server committed
    return db.session.scalars(select(Contribution).order_by(Contribution.id)).all()


def _pay_by_iban(live, session_id, iban):
    answer = live.control(f"/checkout/{session_id}/pay", iban=iban, name="Jenny Rosen")
    assert answer.json()["status"] == "complete", answer.text
    live.settle()


def _wait_for_event(live, event_type, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if event_type in [event["type"] for event in live.events()]:
            live.settle()
            return
        time.sleep(0.2)
    raise AssertionError(f"{event_type} never came")


def _thanks(live, session_id):
    return live.browser.get(f"{live.url}/contribute/thanks?session_id={session_id}",
                            timeout=30).text


def test_sepa_gift_counts_once_only_when_the_debit_succeeds(live, async_delay):
    """Pending after checkout; one paid contribution, with the €0.35 fee, after the debit."""
    async_delay(HOUR)
    session_id = live.start_checkout(amount="20", currency="EUR", shown_currency="EUR")
    _pay_by_iban(live, session_id, SUCCEEDS)
    (row,) = _contributions()
    assert (row.status, row.paid_at, row.currency, row.amount_minor) == (
        "pending", None, "EUR", 2000)
    assert "Your payment is on its way" in _thanks(live, session_id)

    live.control("/clock/advance", seconds=str(HOUR))
    live.settle()
    (row,) = _contributions()
    assert (row.status, row.fee_minor) == ("paid", 35)
    assert row.stripe_checkout_session_id == session_id
    assert [e["type"] for e in live.events()][-1] == "checkout.session.async_payment_succeeded"


def test_sepa_gift_whose_debit_fails_is_not_counted(live, async_delay):
    """The failing IBAN, settled by the emulator on its own a second later: a failed row."""
    async_delay(1)
    session_id = live.start_checkout(amount="20", currency="EUR", shown_currency="EUR")
    _pay_by_iban(live, session_id, FAILS)
    _wait_for_event(live, "checkout.session.async_payment_failed")
    (row,) = _contributions()
    assert (row.status, row.paid_at) == ("failed", None) and row.failed_at is not None
    assert [r for r in _contributions() if r.status == "paid"] == []


def test_monthly_sepa_gift_is_active_and_paid_once(live, async_delay):
    """A monthly euro gift by SEPA: the first invoice's payment counts once it settles."""
    async_delay(HOUR)
    session_id = live.start_checkout(frequency="monthly", amount="5", currency="EUR",
                                     shown_currency="EUR")
    _pay_by_iban(live, session_id, SUCCEEDS)
    assert [r.status for r in _contributions()] == []
    live.control("/clock/advance", seconds=str(HOUR))
    live.settle()
    rows = _contributions()
    assert [(r.billing_reason, r.status, r.amount_minor) for r in rows] == [
        ("subscription_create", "paid", 500)]
    db.session.rollback()
    support = db.session.scalars(select(RecurringSupport)).one()
    assert support.status == "active"
