"""Receipts through the emulator: every event of every kind of gift delivered twice and
concurrently, with the thank-you pages loading and the worker sending at the same time,
writes one receipt per payment and one notice per refund, and one of each arrives."""
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import OutboxMessage
from supportapp.services.mail_worker import send_due_mail
from tests.integration.test_event_delivery import _deliver, _make_history


def _expected_keys(events):
    """receipt:<session> per paid one-off checkout, receipt:<invoice> per paid invoice."""
    receipts = set()
    for event in events:
        obj = event["data"]["object"]
        if event["type"] == "checkout.session.completed" and obj["mode"] == "payment":
            receipts.add(f"receipt:{obj['id']}")
        elif event["type"] == "invoice.paid":
            receipts.add(f"receipt:{obj['id']}")
    return receipts


def _thanks(live, session_id):
    return live.browser.get(f"{live.url}/contribute/thanks",
                            params={"session_id": session_id}, timeout=60).status_code


class _WorkerThread(threading.Thread):
    """The worker's own sending code, looping in the background as `flask worker` would."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.app, self.stop = app, threading.Event()

    def run(self):
        with self.app.app_context():
            while not self.stop.wait(0.05):
                send_due_mail()


def test_one_receipt_per_payment_under_concurrent_duplicates(app, live, mail_server):
    """Each event twice at the same moment, and each one-off's thank-you page twice, from
    8 threads, while the worker sends: 6 receipts (2 one-offs, 3 monthly payments, 1
    annual; the declined renewal none) and 1 refund notice are written, and exactly those
    arrive in the mail server, once each; replaying every event afterwards adds nothing."""
    live.delivery(False)
    worker = _WorkerThread(app)
    worker.start()
    events = _make_history(live)
    sessions = [e["data"]["object"]["id"] for e in events
                if e["type"] == "checkout.session.completed"
                and e["data"]["object"]["mode"] == "payment"]
    work = [("event", e) for e in events for _ in (0, 1)] + [("thanks", s) for s in sessions
                                                             for _ in (0, 1)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda job: _deliver(live, job[1]) if job[0] == "event"
                              else _thanks(live, job[1]), work))
    for (kind, item), code in zip(work, codes, strict=True):
        assert code in (200, 500)
        if kind == "event" and code >= 500:  # Stripe retries a 5xx (e.g. a deadlock victim)
            assert _deliver(live, item) == 200
    assert {_deliver(live, e) for e in events} == {200}
    worker.stop.set()
    worker.join(30)
    send_due_mail()

    db.session.rollback()
    messages = db.session.scalars(select(OutboxMessage)).all()
    receipts = [m for m in messages if m.kind == "receipt"]
    assert len(receipts) == 6
    assert {m.key for m in receipts} == _expected_keys(events)
    assert {m.to_address for m in messages} == {"reader@example.com"}
    (notice,) = [m for m in messages if m.kind == "refund_notice"]
    assert notice.subject == "Your refund from The Harbour Ledger: $5.00"
    assert "Refunded in total: $5.00 of $20.00" in notice.text_body
    arrived = mail_server.messages()
    assert sorted(m["Message-ID"] for m in arrived) == sorted(m.message_id for m in messages)
    assert [m["Subject"].startswith("Your receipt") for m in arrived].count(True) == 6
    assert {m.status for m in messages} == {"sent"}


def test_renewal_receipts_follow_the_emulator(live):
    """Delivered by the emulator as they happen: a monthly gift and two renewals get three
    receipts, each with its invoice and amount."""
    session = live.start_checkout(frequency="monthly", amount="7")
    live.pay(session)
    subscription = live.subscription_of(session)
    live.control(f"/subscriptions/{subscription}/advance")
    live.control(f"/subscriptions/{subscription}/advance")
    live.settle()
    db.session.rollback()
    receipts = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "receipt")
                                  .order_by(OutboxMessage.id)).all()
    invoices = live.stripe.v1.invoices.list(params={"subscription": subscription}).data
    assert sorted(m.key for m in receipts) == sorted(f"receipt:{i.id}" for i in invoices)
    assert len(receipts) == 3
    assert all(m.subject == "Your receipt from The Harbour Ledger: $7.00 a month"
               for m in receipts)
    assert ["renewed" in m.text_body for m in receipts].count(True) == 2
