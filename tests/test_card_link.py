"""The link in a failed-payment email: straight to Stripe's card page, then the open
invoice paid with the new card and the supporter thanked; and every link that cannot be
used (expired, used, for another gift, not ours, nothing left to pay) meets a clear page
with a way to get a new link by email."""
from urllib.parse import urlsplit

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import CardUpdateLink, OutboxMessage, SupportChange
from supportapp.services.stripe_events import receive_event
from tests.services.test_recovery import (
    DAY,
    EMAIL,
    LINK_RE,
    Renewal,
    _failure,
    _move_to,
    _recovery_emails,
)
from tests.test_support_manage import sign_in


@pytest.fixture
def failed(app, fake_stripe):
    """A renewal that failed, its first email queued; the supporter's new card is known to
    Stripe as the customer's default once they replace it."""
    renewal = Renewal(fake_stripe)
    receive_event(renewal.fail())
    fake_stripe.cards[renewal.customer] = "pm_new_card"
    return renewal


def _link(index=0):
    """The path of the card link in recovery email number `index`."""
    email = _recovery_emails()[index]
    support_id, token = LINK_RE.search(email.text_body).groups()
    return f"/support/manage/card/{support_id}/{token}"


def _text(response):
    return response.get_data(as_text=True)


def test_link_goes_straight_to_stripe_and_back_pays_and_thanks(client, failed, fake_stripe):
    """One click to Stripe's card page (no sign-in); back from it, the new card goes on the
    subscription, the open invoice is paid, the failure is recovered, the change is in the
    gift's history and the thank-you email is queued, all once."""
    link = _link()
    response = client.get(link)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://billing.stripe.com/")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    name, customer, urls = fake_stripe.changes[-1]
    assert (name, customer) == ("create_card_update_session", failed.customer)
    assert urlsplit(urls["done_url"]).path == f"{link}/done"
    assert urlsplit(urls["return_url"]).path == "/support/manage"

    done = client.get(f"{link}/done")
    assert done.status_code == 200
    assert "Thank you: your gift is back on track" in _text(done)
    assert "payment of $5.00 has gone through" in _text(done)
    assert [c[:2] for c in fake_stripe.changes[-2:]] == [
        ("set_subscription_card", failed.sub_id), ("pay_invoice", failed.invoice["id"])]
    failure = _failure()
    assert failure.recovered_at is not None and failure.next_followup_at is None
    (row,) = db.session.scalars(select(CardUpdateLink)).all()
    assert row.used_at is not None
    (change,) = db.session.scalars(select(SupportChange)).all()
    assert (change.kind, change.details) == ("card_updated", {"via": "recovery_link"})
    thanks = _recovery_emails()[-1]
    assert (thanks.key, thanks.kind, thanks.to_address) == (
        f"recovery:{failed.invoice['id']}:thanks", "recovery_thanks", EMAIL)
    assert "The payment of $5.00 that was declined" in thanks.text_body

    # Spent: the link and its return URL open nothing more, and nothing is paid twice.
    for path in (link, f"{link}/done"):
        again = client.get(path)
        assert again.status_code == 410 and "already been used" in _text(again)
    assert [c[0] for c in fake_stripe.changes].count("pay_invoice") == 1
    assert len(_recovery_emails()) == 2


def test_a_declined_new_card_keeps_the_link(client, failed, fake_stripe):
    """The new card is refused too: a page that says so and offers another try with the same
    link; nothing is recorded; the next card pays."""
    fake_stripe.declining.add(failed.invoice["id"])
    link = _link()
    declined = client.get(f"{link}/done")
    assert declined.status_code == 402
    assert "Your card has insufficient funds." in _text(declined)
    assert f'href="{link}"' in _text(declined)
    assert _failure().open
    assert db.session.scalars(select(CardUpdateLink.used_at)).one() is None
    assert [e.kind for e in _recovery_emails()] == ["recovery_failed"]
    fake_stripe.declining.clear()
    assert client.get(f"{link}/done").status_code == 200
    assert _failure().recovered_at is not None


def test_an_expired_link_offers_a_new_one_by_email(app, client, failed):
    """After seven days: a clear page (410) with a button that emails a fresh link to the
    address the gift was made with, once however often it is pressed; the fresh link works."""
    link = _link()
    _move_to(app, failed.at + 8 * DAY)
    expired = client.get(link)
    assert expired.status_code == 410
    assert "This link has expired" in _text(expired)
    assert f'action="{link}/new-link"' in _text(expired)
    assert client.get(f"{link}/done").status_code == 410
    for _ in range(2):
        sent = client.post(f"{link}/new-link")
        assert sent.status_code == 200 and "Check your email" in _text(sent)
    fresh = [e for e in _recovery_emails() if e.kind == "recovery_new_link"]
    assert len(fresh) == 1 and fresh[0].to_address == EMAIL
    assert fresh[0].subject == "Your new link to update your card"
    new_link = _link(-1)
    assert new_link != link
    assert client.get(new_link).status_code == 303


def test_a_link_for_another_gift_is_refused(client, failed, fake_stripe):
    """The gift's number changed in the URL: refused (400) with a way to sign in by email;
    no new link is sent for it, and Stripe is never asked."""
    link = _link()
    support_id = link.split("/")[4]
    other = link.replace(f"/card/{support_id}/", f"/card/{int(support_id) + 1}/")
    refused = client.get(other)
    assert refused.status_code == 400
    assert "This link is for another gift" in _text(refused)
    assert 'href="/support/manage"' in _text(refused)
    assert client.get(f"{other}/done").status_code == 400
    assert client.post(f"{other}/new-link").status_code == 400
    assert [e.kind for e in _recovery_emails()] == ["recovery_failed"]
    assert fake_stripe.changes == []


@pytest.mark.parametrize("make_token", [
    lambda token: token[:-3] + "abc",  # tampered
    lambda token: "not-a-token",
    # Signed right, but with another site's key.
    lambda token: URLSafeTimedSerializer("another-key", salt="supportapp.card-update-link")
    .dumps({"s": 1, "l": "x"}),
])
def test_a_link_that_is_not_ours_is_refused(client, failed, make_token):
    link = _link()
    base, token = link.rsplit("/", 1)
    refused = client.get(f"{base}/{make_token(token)}")
    assert refused.status_code == 400 and "This link is not valid" in _text(refused)


def test_nothing_left_to_pay(client, failed, fake_stripe):
    """Stripe's own retry paid first: the link says so (200) and asks Stripe nothing."""
    link = _link()
    receive_event(failed.paid(failed.at + DAY))
    paid = client.get(link)
    assert paid.status_code == 200 and "Nothing to pay" in _text(paid)
    assert fake_stripe.changes == []


def test_an_ended_gift(client, failed, fake_stripe):
    """The gift ended unpaid: 410, no card page, no new link."""
    link = _link()
    receive_event(failed.ended(failed.at + DAY))
    ended = client.get(link)
    assert ended.status_code == 410 and "This gift has ended" in _text(ended)
    assert client.post(f"{link}/new-link").status_code == 400
    assert fake_stripe.changes == []


def test_stripe_unreachable(client, failed, fake_stripe):
    """A calm 503 page; the link is not spent, and works once Stripe answers."""
    link = _link()
    fake_stripe.unavailable = True
    assert client.get(link).status_code == 503
    assert client.get(f"{link}/done").status_code == 503
    assert db.session.scalars(select(CardUpdateLink.used_at)).one() is None
    fake_stripe.unavailable = False
    assert client.get(f"{link}/done").status_code == 200


def test_a_card_replaced_on_the_manage_page_pays_the_open_invoice(client, failed,
                                                                   fake_stripe):
    """The same payment when the supporter replaces the card from their support page."""
    sign_in(client)
    support_id = _failure().recurring_support_id
    assert client.post(f"/support/manage/gifts/{support_id}/card").status_code == 303
    done = urlsplit(fake_stripe.changes[-1][2]["done_url"])
    back = client.get(f"{done.path}?{done.query}", follow_redirects=True)
    assert "The unpaid $5.00 has been paid with it." in _text(back)
    assert ("pay_invoice", failed.invoice["id"], {}) in fake_stripe.changes
    assert _failure().recovered_at is not None
    kinds = [m.kind for m in db.session.scalars(select(OutboxMessage)).all()]
    assert "recovery_thanks" in kinds and "support_changed" in kinds
