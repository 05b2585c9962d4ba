"""The rules of the manage page that need no request: pause dates, the smaller gift offered
before a cancellation, the sentences of a confirmation, forgetting old sign-ins."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import SupportSignIn
from supportapp.services.sign_in_links import KEEP_EXPIRED, request_link
from supportapp.services.support_changes import add_months, describe, lower_amount


@pytest.mark.parametrize(("start", "months", "end"), [
    (datetime(2026, 1, 31, 9, tzinfo=UTC), 1, datetime(2026, 2, 28, 9, tzinfo=UTC)),
    (datetime(2028, 1, 31, tzinfo=UTC), 1, datetime(2028, 2, 29, tzinfo=UTC)),
    (datetime(2026, 11, 15, tzinfo=UTC), 2, datetime(2027, 1, 15, tzinfo=UTC)),
    (datetime(2026, 12, 31, tzinfo=UTC), 3, datetime(2027, 3, 31, tzinfo=UTC)),
])
def test_pause_ends_on_the_same_day_months_later(start, months, end):
    """A pause of N months ends on the same day of the month, or the month's last day."""
    assert add_months(start, months) == end


@pytest.mark.parametrize(("amount", "lower"), [(500, 200), (800, 400), (2500, 1200),
                                               (150, 100), (100, None), (199, 100)])
def test_smaller_gift_offered_before_cancelling(amount, lower):
    """Half the gift in whole units, never below the minimum; none at the minimum."""
    assert lower_amount(amount) == lower


def test_sentences_of_a_confirmation():
    """Each change reads as one plain sentence, in the supporter's currency."""
    assert describe("amount_changed", {"from": 500, "to": 800, "currency": "EUR"}) == \
        "The amount is now €8 (it was €5)."
    assert describe("paused", {"months": 2, "resumes_at": "2027-01-15T09:00:00+00:00"}) == \
        "Payments are paused until January 15, 2027; nothing is taken meanwhile."
    assert describe("frequency_changed", {"from": "monthly", "to": "annual"}).startswith(
        "It is now annual (it was monthly)")


def test_sign_ins_are_forgotten_a_day_after_they_expire(app):
    """Asking for a link deletes sign-ins (and their addresses) expired more than a day ago,
    and keeps the others."""
    now = datetime.now(UTC)
    db.session.add_all([
        SupportSignIn(email="old@example.com", link_hash="a" * 64,
                      expires_at=now - KEEP_EXPIRED - timedelta(minutes=1)),
        SupportSignIn(email="recent@example.com", link_hash="b" * 64,
                      expires_at=now - timedelta(hours=1)),
    ])
    db.session.commit()
    request_link("new@example.com", now=now)
    emails = db.session.scalars(select(SupportSignIn.email).order_by(SupportSignIn.id)).all()
    assert emails == ["recent@example.com", "new@example.com"]
