"""/support/manage: a sign-in link by email, the supporter's page, and every change on it."""
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event, select

from supportapp.extensions import db
from supportapp.models import (
    Contribution,
    OutboxMessage,
    RecurringSupport,
    StripeEvent,
    SupportChange,
    SupportSignIn,
)
from supportapp.services import sign_in_links
from supportapp.services.supporter_email import email_digest
from supportapp.web.manage_session import MANAGE_COOKIE
from tests import stripe_fakes as sf
from tests.conftest import make_app

EMAIL = "reader@example.com"
LINK_RE = re.compile(r"http://127\.0\.0\.1:5000(/support/manage/link/[A-Za-z0-9._-]+)")


def _add_supporter(fake_stripe, email=EMAIL, amount=500, customer=None):
    """A monthly recurring support (and Stripe's subscription) with two paid payments."""
    sub_id, customer = sf.new_id("sub"), customer or sf.new_id("cus")
    fake_stripe.subscriptions[sub_id] = sf.subscription(
        sub_id, amount=amount, customer=customer, pause_collection=None,
        metadata={"frequency": "monthly"})
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    support = RecurringSupport(
        stripe_subscription_id=sub_id, stripe_customer_id=customer, amount_minor=amount,
        currency="USD", interval="month", status="active", status_at=hour_ago,
        email=email, current_period_end=hour_ago + timedelta(days=30))
    db.session.add(support)
    for days, reason in ((40, "subscription_create"), (10, "subscription_cycle")):
        db.session.add(Contribution(
            amount_minor=amount, currency="USD", frequency="monthly", status="paid",
            billing_reason=reason, stripe_invoice_id=sf.new_id("in"),
            stripe_subscription_id=sub_id, stripe_customer_id=customer, email=email,
            paid_at=datetime.now(UTC) - timedelta(days=days)))
    db.session.commit()
    return support


@pytest.fixture
def supporter(app, fake_stripe):
    return _add_supporter(fake_stripe)


def _messages(**where):
    db.session.rollback()
    return db.session.scalars(select(OutboxMessage).filter_by(**where)
                              .order_by(OutboxMessage.id)).all()


def _changes():
    db.session.rollback()
    return db.session.scalars(select(SupportChange).order_by(SupportChange.id)).all()


def _link_path(email=EMAIL):
    (message,) = _messages(kind="sign_in_link", to_address=email)[-1:]
    return LINK_RE.search(message.text_body).group(1)


def sign_in(client, email=EMAIL):
    """Ask for a link as the form does, then open the one that was emailed."""
    assert client.post("/support/manage", data={"email": email}).status_code == 200
    response = client.get(_link_path(email))
    assert response.status_code == 303, response.data[:300]
    return response


# --- asking for a link -------------------------------------------------------------------

def test_known_and_unknown_addresses_get_the_same_answer(client, supporter):
    """Whether or not the address gave, the page says the same and one email is queued: the
    link to a supporter, a note that there are no gifts to anyone else."""
    pages = {}
    for email in (EMAIL, "stranger@example.com"):
        response = client.post("/support/manage", data={"email": email})
        assert response.status_code == 200
        pages[email] = response.data.decode().replace(email, "ADDRESS")
        assert "If we have gifts from <strong>ADDRESS</strong>, a link" in pages[email]
    assert pages[EMAIL] == pages["stranger@example.com"]
    (link,) = _messages(to_address=EMAIL)
    (note,) = _messages(to_address="stranger@example.com")
    assert (link.kind, note.kind) == ("sign_in_link", "sign_in_no_gifts")
    assert LINK_RE.search(link.text_body) and LINK_RE.search(link.html_body)
    assert "It works once, within 30 minutes" in link.text_body
    assert "in that browser for 24 hours" in link.html_body
    assert "/support/manage/link/" not in note.text_body + note.html_body
    assert "no gifts from this address" in note.text_body


def test_known_and_unknown_addresses_do_the_same_work(client, supporter):
    """No enumeration by timing: both paths run the same SQL statements, in the same order,
    on the same tables (a purge, a lookup, a sign-in, an email)."""
    statements = []

    def note(_conn, _cursor, statement, *_args):
        words = statement.split()
        tables = sorted({w.strip('"') for w in words if w.strip('"') in db.metadata.tables})
        statements.append((words[0].upper(), tuple(tables)))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        shapes = []
        for email in ("READER@example.com", "stranger@example.com"):
            statements.clear()
            assert client.post("/support/manage", data={"email": email}).status_code == 200
            shapes.append(list(statements))
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert shapes[0] == shapes[1]
    assert ("INSERT", ("outbox_message",)) in shapes[0]
    assert ("INSERT", ("support_sign_in",)) in shapes[0]


@pytest.mark.parametrize("email", [
    "reader@example.com\r\nBcc: everyone@evil.example", "reader@example.com\n",
    "\nreader@example.com", "Reader <reader@example.com>", "not an address", "",
    "a@b.example, c@d.example", "x" * 250 + "@example.com",
])
def test_bad_addresses_refused_at_the_form(client, supporter, email):
    """A line break (header injection), a display name, two addresses or none: 400, the
    form says why, nothing is recorded or queued."""
    response = client.post("/support/manage", data={"email": email})
    assert response.status_code == 400
    assert 'role="alert"' in response.data.decode()
    assert _messages() == [] and db.session.scalars(select(SupportSignIn)).all() == []


def test_the_form_needs_its_csrf_token(database_url, supporter):
    """Without the form's CSRF token a request is refused and nothing is sent."""
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/support/manage").data.decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/support/manage", data={"email": EMAIL}).status_code == 400
    assert _messages() == []
    response = client.post("/support/manage", data={"email": EMAIL, "csrf_token": token})
    assert response.status_code == 200 and len(_messages()) == 1


def test_link_requests_are_rate_limited_per_address_and_per_email(database_url, supporter):
    """Past the per-email limit an address gets no more links, whoever asks; past the
    per-client limit a client gets no more, whatever address it types."""
    app = make_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                   MANAGE_LINK_EMAIL_RATE_LIMIT="2 per minute",
                   MANAGE_LINK_RATE_LIMIT="3 per minute")
    client = app.test_client()
    codes = [client.post("/support/manage", data={"email": EMAIL},
                         environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}).status_code
             for n in range(3)]
    assert codes == [200, 200, 429]
    codes = [client.post("/support/manage", data={"email": f"other{n}@example.com"},
                         environ_base={"REMOTE_ADDR": "10.0.1.1"}).status_code
             for n in range(4)]
    assert codes == [200, 200, 200, 429]
    assert len(_messages(to_address=EMAIL)) == 2 and len(_messages()) == 5


# --- opening the link --------------------------------------------------------------------

def test_link_opens_the_page_once(client, supporter):
    """The link sets an HttpOnly, SameSite=Lax cookie and leads to a URL without the token;
    the page lists the gifts; the same link a second time opens nothing."""
    response = sign_in(client)
    assert urlsplit(response.headers["Location"]).path == "/support/manage/gifts"
    cookie = client.get_cookie(MANAGE_COOKIE, path="/support/manage")
    assert cookie.http_only and cookie.same_site == "Lax"
    assert 0 < (cookie.expires - datetime.now(UTC)).total_seconds() <= 24 * 3600
    page = client.get("/support/manage/gifts")
    text = page.data.decode()
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "$5 a month" in text and "Signed in as <strong>reader@example.com" in text
    assert text.count('class="history__date"') == 2
    assert 'name="frequency" value="monthly" checked' in text
    assert 'name="frequency" value="annual">' in text
    [pause_choices] = re.findall(r'name="months">(.*?)</select>', text, re.S)
    assert pause_choices.count('<option value="') == 3 and "3 months</option>" in text
    again = client.get(_link_path())
    assert again.status_code == 410 and "already been used" in again.data.decode()
    assert 'href="/support/manage">Get a new link' in again.data.decode()


def test_signed_in_browser_goes_straight_to_its_page(client, supporter):
    """/support/manage in a browser that holds a session shows its gifts, not the form."""
    sign_in(client)
    response = client.get("/support/manage")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/support/manage/gifts")


def _token(app, link_id, secret=None, salt="supportapp.manage-link"):
    return URLSafeTimedSerializer(secret or app.config["SECRET_KEY"], salt=salt).dumps(link_id)


@pytest.mark.parametrize("case", ["tampered", "other key", "other purpose", "unknown id",
                                  "garbage", "not a string"])
def test_tampered_or_foreign_links_open_nothing(app, client, supporter, case):
    """A link altered, signed with another key or for another purpose, or naming no sign-in
    of ours: a clear 400 page with a button to get a new link; no session opens."""
    client.post("/support/manage", data={"email": EMAIL})
    good = _link_path().rsplit("/", 1)[1]
    token = {
        "tampered": good[:-3] + ("aaa" if not good.endswith("aaa") else "bbb"),
        "other key": _token(app, "x" * 43, secret="another-newsrooms-key"),
        "other purpose": _token(app, "x" * 43, salt="supportapp.manage-session"),
        "unknown id": _token(app, "x" * 43),
        "garbage": "%E2%98%83" * 30,
        "not a string": _token(app, {"id": 1}),
    }[case]
    response = client.get(f"/support/manage/link/{token}")
    assert response.status_code == 400
    assert "This link is not valid" in response.data.decode()
    assert 'href="/support/manage">Get a new link' in response.data.decode()
    assert client.get_cookie(MANAGE_COOKIE, path="/support/manage") is None
    assert db.session.scalars(select(SupportSignIn.used_at)).all() == [None]


def test_expired_link_opens_nothing(client, supporter, monkeypatch):
    """A link opened after 30 minutes: 410, "expired", a button to get a new one."""
    from itsdangerous import timed

    client.post("/support/manage", data={"email": EMAIL})
    path = _link_path()
    real = timed.time.time
    monkeypatch.setattr(timed.time, "time", lambda: real() + 31 * 60)
    response = client.get(path)
    assert response.status_code == 410 and "This link has expired" in response.data.decode()
    monkeypatch.setattr(timed.time, "time", real)
    # Its record expired too: even a signature still fresh opens nothing.
    db.session.execute(SupportSignIn.__table__.update().values(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.session.commit()
    assert client.get(path).status_code == 410
    assert client.get_cookie(MANAGE_COOKIE, path="/support/manage") is None


def test_two_clicks_racing_open_one_session(app, supporter, client):
    """The link is swapped for a session in one conditional UPDATE: a second use fails even
    when the first has not finished the page yet."""
    client.post("/support/manage", data={"email": EMAIL})
    token = _link_path().rsplit("/", 1)[1]
    first = sign_in_links.open_link(token)
    with pytest.raises(sign_in_links.LinkRefused) as refused:
        sign_in_links.open_link(token)
    assert refused.value.reason == "used"
    assert sign_in_links.current_session(first).email == EMAIL


def test_session_ends_after_24_hours_and_on_sign_out(client, supporter):
    """A session opens nothing a day later; signing out ends it at once."""
    sign_in(client)
    value = client.get_cookie(MANAGE_COOKIE, path="/support/manage").value
    later = datetime.now(UTC) + timedelta(hours=24, minutes=1)
    assert sign_in_links.current_session(value).email == EMAIL
    assert sign_in_links.current_session(value, now=later) is None
    assert client.post("/support/manage/sign-out").status_code == 303
    assert sign_in_links.current_session(value) is None
    client.set_cookie(MANAGE_COOKIE, value, path="/support/manage")  # a copy kept elsewhere
    response = client.get("/support/manage/gifts")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/support/manage")


def test_pages_need_a_session(client, supporter):
    """Without a session every manage page leads to the sign-in form and changes nothing."""
    for method, path in (("get", "/support/manage/gifts"),
                         ("post", f"/support/manage/gifts/{supporter.id}/change"),
                         ("post", f"/support/manage/gifts/{supporter.id}/cancel"),
                         ("post", "/support/manage/history.csv"),
                         ("post", "/support/manage/erase")):
        response = getattr(client, method)(path, data={"amount": "8", "frequency": "monthly"})
        assert response.status_code == 303, path
    assert _changes() == []


# --- changes -----------------------------------------------------------------------------

def test_change_amount(client, supporter, fake_stripe):
    """5 -> 8 a month: Stripe's price changes (no proration), the support follows Stripe's
    answer, the change is recorded and confirmed by email."""
    sign_in(client)
    response = client.post(f"/support/manage/gifts/{supporter.id}/change",
                           data={"amount": "8", "frequency": "monthly"})
    assert response.status_code == 303
    assert fake_stripe.changes == [("change_subscription_price",
                                    supporter.stripe_subscription_id,
                                    {"amount": 800, "currency": "USD", "frequency": "monthly"})]
    support = db.session.get(RecurringSupport, supporter.id)
    assert (support.amount_minor, support.interval) == (800, "month")
    (change,) = _changes()
    assert (change.kind, change.details, change.email) == (
        "amount_changed", {"from": 500, "to": 800, "currency": "USD"}, EMAIL)
    (confirmation,) = _messages(kind="support_changed")
    assert confirmation.to_address == EMAIL
    assert "$8 a month" in confirmation.text_body and "(it was $5)" in confirmation.text_body
    page = client.get("/support/manage/gifts").data.decode()
    assert "The amount is now $8 (it was $5)." in page and "$8 a month" in page


def test_change_frequency_and_amount_together(client, supporter, fake_stripe):
    """Monthly 5 -> annual 60: one call to Stripe, two changes recorded, one email."""
    sign_in(client)
    client.post(f"/support/manage/gifts/{supporter.id}/change",
                data={"amount": "60", "frequency": "annual"})
    support = db.session.get(RecurringSupport, supporter.id)
    assert (support.amount_minor, support.interval) == (6000, "year")
    assert [c.kind for c in _changes()] == ["amount_changed", "frequency_changed"]
    assert _changes()[1].details == {"from": "monthly", "to": "annual"}
    (confirmation,) = _messages(kind="support_changed")
    assert "$60 a year" in confirmation.text_body and "annual" in confirmation.text_body
    assert fake_stripe.subscriptions[support.stripe_subscription_id]["metadata"] == {
        "frequency": "annual"}


def test_same_gift_again_changes_nothing(client, supporter, fake_stripe):
    """Submitting the gift as it is: nothing asked of Stripe, nothing recorded."""
    sign_in(client)
    response = client.post(f"/support/manage/gifts/{supporter.id}/change",
                           data={"amount": "5.00", "frequency": "monthly"}, follow_redirects=True)
    assert "Nothing changed" in response.data.decode()
    assert fake_stripe.changes == [] and _changes() == []


@pytest.mark.parametrize(("form", "why"), [
    ({"amount": "0.50", "frequency": "monthly"}, "The smallest contribution is $1."),
    ({"amount": "10000.01", "frequency": "monthly"}, "The largest contribution we can take"),
    ({"amount": "five", "frequency": "monthly"}, "Enter the amount as a number"),
    ({"amount": "5.555", "frequency": "monthly"}, "Use at most two decimals"),
    ({"amount": "8", "frequency": "weekly"}, "Choose monthly or annual."),
    ({"amount": "8", "frequency": "one_off"}, "Choose monthly or annual."),
    ({"amount": "8"}, "Choose monthly or annual."),
])
def test_changes_out_of_bounds_are_refused_before_stripe(client, supporter, fake_stripe, form,
                                                         why):
    """An amount outside the limits or a frequency not offered: the page says why (400),
    Stripe is not called, nothing changes."""
    sign_in(client)
    response = client.post(f"/support/manage/gifts/{supporter.id}/change", data=form)
    assert response.status_code == 400 and why in response.data.decode()
    assert fake_stripe.changes == [] and _changes() == []
    assert db.session.get(RecurringSupport, supporter.id).amount_minor == 500


@pytest.mark.parametrize("months", ["4", "0", "12", "", "1.5", "two"])
def test_pause_longer_than_allowed_is_refused(client, supporter, fake_stripe, months):
    """A pause of other than 1, 2 or 3 months: 400 with the reason; Stripe is not called."""
    sign_in(client)
    response = client.post(f"/support/manage/gifts/{supporter.id}/pause",
                           data={"months": months})
    assert response.status_code == 400
    assert "Choose a pause of 1, 2 or 3 months." in response.data.decode()
    assert fake_stripe.changes == [] and _changes() == []


def test_pause_then_resume(client, supporter, fake_stripe):
    """Pause for 2 months (void invoices until then), then resume: each recorded, confirmed
    and reflected on the page."""
    sign_in(client)
    client.post(f"/support/manage/gifts/{supporter.id}/pause", data={"months": "2"})
    name, _, params = fake_stripe.changes[-1]
    assert name == "pause_subscription"
    expected = datetime.now(UTC) + timedelta(days=59)
    assert expected < params["resumes_at"] < expected + timedelta(days=3)
    support = db.session.get(RecurringSupport, supporter.id)
    assert support.paused and support.paused_until.date() == params["resumes_at"].date()
    page = client.get("/support/manage/gifts").data.decode()
    assert "Paused until" in page and "Resume payments now" in page
    again = client.post(f"/support/manage/gifts/{supporter.id}/pause", data={"months": "1"})
    assert again.status_code == 400 and "already paused" in again.data.decode()
    client.post(f"/support/manage/gifts/{supporter.id}/resume")
    db.session.rollback()
    support = db.session.get(RecurringSupport, supporter.id)
    assert not support.paused and support.paused_until is None
    assert [c.kind for c in _changes()] == ["paused", "resumed"]
    assert _changes()[0].details["months"] == 2
    paused, resumed = (m.subject for m in _messages(kind="support_changed"))
    assert (paused, resumed) == ("Your recurring gift is paused",
                                 "Your recurring gift is running again")
    assert "Payments are paused until" in _messages(kind="support_changed")[0].text_body


def test_cancel_page_offers_less_or_a_break_first(client, supporter):
    """Before cancelling, the page offers to lower the amount or to pause, once."""
    sign_in(client)
    text = client.get(f"/support/manage/gifts/{supporter.id}/cancel").data.decode()
    assert "Before you go" in text and "Change my gift" in text and "Pause payments" in text
    assert "Give $2 a month instead?" in text
    assert f'id="amount-{supporter.id}" name="amount" inputmode="decimal" autocomplete="off" ' \
        'value="2"' in text
    assert "I can&#39;t afford it at the moment" in text and "Cancel my gift" in text


def test_cancel_with_a_reason(client, supporter, fake_stripe):
    """Cancelling ends the subscription now, keeps the reason, and confirms by email."""
    sign_in(client)
    response = client.post(f"/support/manage/gifts/{supporter.id}/cancel",
                           data={"reason": "too_expensive"})
    assert response.status_code == 303
    assert fake_stripe.changes[-1] == ("cancel_subscription",
                                       supporter.stripe_subscription_id,
                                       {"feedback": "too_expensive"})
    support = db.session.get(RecurringSupport, supporter.id)
    assert support.status == "canceled" and support.cancelled_at is not None
    (change,) = _changes()
    assert (change.kind, change.details) == ("cancelled", {"reason": "too_expensive"})
    assert "no further payments" in _messages(kind="support_changed")[0].text_body
    page = client.get("/support/manage/gifts").data.decode()
    assert "Cancelled" in page and "Change my gift" not in page
    ended = client.post(f"/support/manage/gifts/{supporter.id}/pause", data={"months": "1"})
    assert ended.status_code == 400 and "has ended" in ended.data.decode()


def test_cancel_reason_outside_the_list_is_refused(client, supporter, fake_stripe):
    """A reason not on the list: 400, and the gift is not cancelled."""
    sign_in(client)
    response = client.post(f"/support/manage/gifts/{supporter.id}/cancel",
                           data={"reason": "<script>"})
    assert response.status_code == 400 and fake_stripe.changes == []


def test_another_addresss_gift_is_not_theirs(client, supporter, fake_stripe):
    """Signed in as one address, every action on another address's gift is a 404 and
    nothing changes, at Stripe or here."""
    other = _add_supporter(fake_stripe, email="someone.else@example.com", amount=700)
    sign_in(client)
    for action, data in (("change", {"amount": "1", "frequency": "monthly"}),
                         ("pause", {"months": "1"}), ("resume", {}),
                         ("cancel", {"reason": "other"}), ("card", {})):
        response = client.post(f"/support/manage/gifts/{other.id}/{action}", data=data)
        assert response.status_code == 404, action
    assert client.get(f"/support/manage/gifts/{other.id}/cancel").status_code == 404
    assert fake_stripe.changes == [] and _changes() == []
    db.session.rollback()
    assert db.session.get(RecurringSupport, other.id).status == "active"
    assert "$7" not in client.get("/support/manage/gifts").data.decode()


def test_stripe_down_changes_nothing(client, supporter, fake_stripe):
    """Stripe unreachable: a calm 503 page; nothing recorded, no email."""
    sign_in(client)
    fake_stripe.unavailable = True
    response = client.post(f"/support/manage/gifts/{supporter.id}/change",
                           data={"amount": "8", "frequency": "monthly"})
    assert response.status_code == 503 and "nothing has changed" in response.data.decode()
    assert _changes() == [] and _messages(kind="support_changed") == []


def test_card_update_recorded_once(client, supporter, fake_stripe):
    """Replacing the card goes to Stripe's page; coming back from it records and confirms
    the change once, however often the return URL is opened."""
    sign_in(client)
    response = client.post(f"/support/manage/gifts/{supporter.id}/card")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://billing.stripe.com/")
    name, customer, urls = fake_stripe.changes[-1]
    assert (name, customer) == ("create_card_update_session", supporter.stripe_customer_id)
    assert urls["return_url"].endswith("/support/manage/gifts")
    done = urlsplit(urls["done_url"])
    assert done.path == "/support/manage/card-updated"
    for _ in range(2):
        assert client.get(f"{done.path}?{done.query}").status_code == 303
    assert [c.kind for c in _changes()] == ["card_updated"]
    assert len(_messages(kind="support_changed")) == 1
    assert client.get("/support/manage/card-updated?ref=forged").status_code == 303
    assert len(_changes()) == 1


def test_history_csv(client, supporter):
    """The history lists every payment of the address, a formula-like cell quoted."""
    first = db.session.scalars(select(Contribution).order_by(Contribution.id)).first()
    first.stripe_invoice_id = "=HYPERLINK(\"http://evil.example\")"
    db.session.commit()
    sign_in(client)
    response = client.post("/support/manage/history.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    lines = response.data.decode().splitlines()
    assert lines[0] == "date,kind,amount,currency,status,refunded,reference"
    assert len(lines) == 3 and all(",Monthly,5,USD,Paid,0," in line for line in lines[1:])
    assert lines[2].endswith(",\"'=HYPERLINK(\"\"http://evil.example\"\")\"")
    assert [c.kind for c in _changes()] == ["history_downloaded"]


# --- erasure -----------------------------------------------------------------------------

def test_erasure(client, supporter, fake_stripe):
    """Erasing: the recurring gift is cancelled and the Stripe customer deleted, then the
    address goes from gifts, emails, changes, sign-ins and stored events; amounts stay; the
    erasure is logged with a digest; the session ends."""
    db.session.add(StripeEvent(event_id="evt_erase", type="invoice.paid",
                               processed_at=datetime.now(UTC),
                               payload={"data": {"object": {"customer_email": EMAIL}}}))
    db.session.add(StripeEvent(event_id="evt_other", type="invoice.paid",
                               processed_at=datetime.now(UTC),
                               payload={"data": {"object": {"customer_email": "x@y.example"}}}))
    db.session.commit()
    sign_in(client)
    client.post(f"/support/manage/gifts/{supporter.id}/pause", data={"months": "1"})
    assert "Erase my personal data" in client.get("/support/manage/erase").data.decode()
    response = client.post("/support/manage/erase")
    assert response.status_code == 200 and "Your personal data is erased" in response.data.decode()
    names = [name for name, *_ in fake_stripe.changes]
    assert names[-2:] == ["cancel_subscription", "delete_customer"]
    assert fake_stripe.deleted_customers == {supporter.stripe_customer_id}
    db.session.rollback()
    contributions = db.session.scalars(select(Contribution)).all()
    assert [(c.email, c.amount_minor) for c in contributions] == [(None, 500), (None, 500)]
    support = db.session.get(RecurringSupport, supporter.id)
    assert support.email is None and support.status == "canceled"
    digest = email_digest(EMAIL)
    assert {m.to_address for m in _messages()} == {digest}
    assert all(m.text_body == "" == m.html_body for m in _messages())
    assert [m.status for m in _messages(kind="sign_in_link")] == ["given_up"]
    assert [(c.kind, c.email) for c in _changes()] == [("paused", digest), ("erased", digest)]
    assert _changes()[-1].details == {"contributions": 2, "recurring_supports": 1,
                                      "stripe_customers_deleted": 1}
    assert db.session.scalars(select(SupportSignIn)).all() == []
    events = {e.event_id: e.payload for e in db.session.scalars(select(StripeEvent))}
    assert "data" not in events["evt_erase"] and "x@y.example" in str(events["evt_other"])
    assert client.get("/support/manage/gifts").status_code == 303
    everything = " ".join(str(row.__dict__) for model in (Contribution, RecurringSupport,
                                                          OutboxMessage, SupportChange)
                          for row in db.session.scalars(select(model)))
    assert EMAIL not in everything.lower()


def test_late_events_do_not_bring_an_erased_address_back(client, supporter, fake_stripe):
    """After an erasure, a late invoice of the erased gift naming the address leaves the
    address gone and sends no receipt; a gift made afterwards by the same person is new and
    keeps its address."""
    sign_in(client)
    assert client.post("/support/manage/erase").status_code == 200
    late = sf.invoice(supporter.stripe_subscription_id, reason="subscription_cycle")
    assert sf.post_event(client, sf.event("invoice.paid", late)).status_code == 200
    db.session.rollback()
    assert db.session.get(RecurringSupport, supporter.id).email is None
    assert db.session.scalar(select(Contribution).filter_by(
        stripe_invoice_id=late["id"])).email is None
    assert _messages(kind="receipt") == []
    again = sf.invoice(sf.new_id("sub"), metadata={"frequency": "monthly"})
    assert sf.post_event(client, sf.event("invoice.paid", again)).status_code == 200
    db.session.rollback()
    assert db.session.scalar(select(Contribution).filter_by(
        stripe_invoice_id=again["id"])).email == EMAIL
    assert [m.key for m in _messages(kind="receipt")] == [f"receipt:{again['id']}"]


def test_erasure_waits_for_stripe(client, supporter, fake_stripe):
    """Stripe unreachable during an erasure: 503, and nothing is erased yet."""
    sign_in(client)
    fake_stripe.unavailable = True
    assert client.post("/support/manage/erase").status_code == 503
    db.session.rollback()
    assert db.session.get(RecurringSupport, supporter.id).email == EMAIL
    assert [c.kind for c in _changes()] == []


# --- around the page ---------------------------------------------------------------------

def test_contribute_manage_without_portal_leads_to_sign_in(client):
    """/contribute/manage in a browser that did not give here leads to /support/manage."""
    response = client.post("/contribute/manage")
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/support/manage"


def test_webhook_confirms_a_pause_made_in_stripe(client, supporter, fake_stripe):
    """A pause set elsewhere (the Stripe Dashboard) reaches the support through the
    webhook, as Stripe's current subscription says; lifting it clears it."""
    sub = fake_stripe.subscriptions[supporter.stripe_subscription_id]
    sub["pause_collection"] = {"behavior": "void", "resumes_at": int(datetime(
        2030, 1, 15, tzinfo=UTC).timestamp())}
    assert sf.post_event(client, sf.event("customer.subscription.updated", sub)).status_code \
        == 200
    db.session.rollback()
    support = db.session.get(RecurringSupport, supporter.id)
    assert support.paused and support.paused_until == datetime(2030, 1, 15, tzinfo=UTC)
    sub["pause_collection"] = None
    sf.post_event(client, sf.event("customer.subscription.updated", sub))
    db.session.rollback()
    assert not db.session.get(RecurringSupport, supporter.id).paused
