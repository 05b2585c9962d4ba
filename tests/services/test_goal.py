"""funding_progress: money raised and supporters won by an appeal, net of refunds."""
from datetime import UTC, datetime

from supportapp.extensions import db
from supportapp.models import Appeal, Contribution
from supportapp.services.goal import funding_progress


def _row(appeal_id, amount, **fields):
    values = {"amount_minor": amount, "currency": "USD", "appeal_id": appeal_id,
              "status": "paid", "paid_at": datetime(2026, 11, 20, tzinfo=UTC),
              "stripe_payment_intent_id": f"pi_{amount}_{len(fields)}_{id(fields)}"}
    values.update(fields)
    return Contribution(**values)


def test_funding_progress(app):
    """Paid gifts in the currency count, net of refunds; a subscription is one supporter."""
    appeal, other = Appeal(name="A"), Appeal(name="B")
    db.session.add_all([appeal, other])
    db.session.flush()
    db.session.add_all([
        _row(appeal.id, 500),
        _row(appeal.id, 1000, status="partially_refunded", amount_refunded_minor=400),
        _row(appeal.id, 300, stripe_subscription_id="sub_1"),
        _row(appeal.id, 300, stripe_subscription_id="sub_1", stripe_invoice_id="in_2"),
        _row(appeal.id, 700, status="refunded", amount_refunded_minor=700),
        _row(appeal.id, 900, status="failed"),
        _row(appeal.id, 200, currency="EUR"),
        _row(appeal.id, 100, paid_at=datetime(2026, 1, 1, tzinfo=UTC)),
        _row(other.id, 5000),
    ])
    db.session.commit()
    since = datetime(2026, 11, 1, tzinfo=UTC)
    assert funding_progress(appeal.id, "USD", since) == (500 + 600 + 300 + 300, 3)
    assert funding_progress(appeal.id, "usd", None) == (500 + 600 + 600 + 100, 4)
    assert funding_progress(appeal.id, "EUR", since) == (200, 1)
    assert funding_progress(None, "USD", since) == (0, 0)
