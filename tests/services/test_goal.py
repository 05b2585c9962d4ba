"""funding_progress: money raised and supporters won by an appeal, net of refunds."""
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from supportapp.extensions import db
from supportapp.models import Appeal, Contribution
from supportapp.services.goal import funding_progress

RATES = {"USD": Decimal(1), "EUR": Decimal("1.08"), "GBP": Decimal("1.27")}


def _row(appeal_id, amount, **fields):
    values = {"amount_minor": amount, "currency": "USD", "appeal_id": appeal_id,
              "status": "paid", "paid_at": datetime(2026, 11, 20, tzinfo=UTC),
              "stripe_payment_intent_id": f"pi_{amount}_{len(fields)}_{id(fields)}"}
    values.update(fields)
    return Contribution(**values)


@pytest.fixture
def gifts(app):
    """An appeal's gifts in three currencies (paid, refunded, failed, old), and another's."""
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
        _row(appeal.id, 999, currency="EUR"),
        _row(appeal.id, 1000, currency="CAD"),
        _row(appeal.id, 100, paid_at=datetime(2026, 1, 1, tzinfo=UTC)),
        _row(other.id, 5000),
    ])
    db.session.commit()
    return appeal


SINCE = datetime(2026, 11, 1, tzinfo=UTC)
USD_SINCE = 500 + 600 + 300 + 300


def test_funding_progress_in_the_goal_currency_alone(gifts):
    """With no rates only gifts in the currency count, net of refunds; a subscription is one
    supporter, and supporters in every currency count."""
    assert funding_progress(gifts.id, "USD", SINCE, rates={}) == (USD_SINCE, 6)
    assert funding_progress(gifts.id, "usd", None, rates={}) == (USD_SINCE + 100, 7)
    assert funding_progress(gifts.id, "EUR", SINCE, rates={}) == (1199, 6)
    assert funding_progress(None, "USD", SINCE, rates={}) == (0, 0)


def test_other_currencies_count_at_the_rates(gifts):
    """EUR 11.99 counts as USD 12.94 (12.9492, rounded down); CAD, with no rate, adds nothing."""
    assert funding_progress(gifts.id, "USD", SINCE, rates=RATES) == (USD_SINCE + 1294, 6)
    # Toward a euro goal: USD 17.00 is 1574.07… euro cents.
    assert funding_progress(gifts.id, "EUR", SINCE, rates=RATES) == (1199 + 1574, 6)


def test_app_rates_by_default_and_no_goal_still_counts_supporters(app, gifts):
    """Without rates given, the app's GOAL_RATES count; with no goal currency nothing is
    raised but the supporters are still counted (for {supporter_count} and the zero line)."""
    app.config["GOAL_RATES"] = RATES
    assert funding_progress(gifts.id, "USD", SINCE) == (USD_SINCE + 1294, 6)
    assert funding_progress(gifts.id, None, SINCE) == (0, 6)
