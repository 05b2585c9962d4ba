""""Remind me later" over HTTP: the appeal's offer, the month chooser on /support, the
sign-up and its bad inputs, the one-click unsubscribe, and a gift made from a reminder's
link keeping the reminder in its checkout metadata."""
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import Appeal, AppealVariant, Contribution, RecurringSupport, Reminder
from supportapp.services import reminders
from supportapp.services.appeals import save_appeal
from supportapp.services.clock import current_time, move_clock
from supportapp.services.fulfilment import fulfil_checkout
from supportapp.services.reminders import (
    add_months,
    month_label,
    month_name,
    month_value,
    next_month,
    send_due_reminders,
    this_month,
    unsubscribe_token,
)
from supportapp.services.stripe_events import receive_event
from supportapp.services.supporter import SUPPORTER_COOKIE, make_supporter_token
from tests import stripe_fakes as sf
from tests.conftest import make_app

READER = "r" * 22


@pytest.fixture
def drive(app, make_story):
    appeal = Appeal(name="Drive", status="live", placement_paragraph=2, target_sections=[],
                    excluded_sections=[])
    appeal.variants.append(AppealVariant(
        name="control", heading="Since you're here…", body="<p>Help us report.</p>",
        cta_label="Give", preset_amounts={}, default_frequency="monthly", weight=1,
        is_control=True))
    save_appeal(appeal)
    story = make_story(slug="harbour-dredging", title="Dredging the harbour")
    return {"appeal": appeal.id, "variant": appeal.variants[0].id, "story": story.slug,
            "story_id": story.id}


def _page(response):
    return lxml.html.fromstring(response.data)


def _form(drive, months=1, **changes):
    data = {"email": "reader@example.com", "month": month_value(add_months(this_month(), months)),
            "consent": "y", "story": drive["story"], "appeal": str(drive["appeal"]),
            "variant": str(drive["variant"])}
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def _reminders():
    db.session.rollback()
    return db.session.scalars(select(Reminder).order_by(Reminder.id)).all()


def _cookie_headers(response):
    return response.headers.getlist("Set-Cookie")


# --- the appeal's offer and the month chooser ---------------------------------------------

def test_the_appeal_offers_to_remind_next_month_without_a_session(client, drive):
    """Beside "Maybe later", a plain link to the chooser on /support with the story, appeal
    and variant: the story page stays free of any session, so it stays cacheable."""
    response = client.get(f"/stories/{drive['story']}")
    page = _page(response)
    [link] = page.xpath("//section[@class='appeal']//a[contains(@class, 'appeal__remind')]")
    assert link.text_content() == f"Remind me in {month_name(next_month())}"
    href = urlsplit(link.get("href"))
    assert href.path == "/support" and href.fragment == "remind"
    assert parse_qs(href.query) == {"story": [drive["story"]], "appeal": [str(drive["appeal"])],
                                    "variant": [str(drive["variant"])]}
    assert page.xpath("//button[contains(@class, 'appeal__later')]")
    assert not any(c.startswith("session=") for c in _cookie_headers(response))


def test_the_offer_follows_the_apps_clock(client, drive, app):
    move_clock(add_months(this_month(), 3).replace(day=5) - this_month())
    page = _page(client.get(f"/stories/{drive['story']}"))
    [link] = page.xpath("//a[contains(@class, 'appeal__remind')]")
    assert link.text_content() == f"Remind me in {month_name(next_month())}"


def test_support_shows_the_month_chooser_from_the_link(client, drive):
    """/support (as the appeal links to it): the form knows the story, appeal and variant,
    offers next month to 12 months ahead with next month chosen, and asks for consent."""
    page = _page(client.get(f"/support?story={drive['story']}&appeal={drive['appeal']}"
                            f"&variant={drive['variant']}"))
    [form] = page.xpath("//section[@id='remind']//form")
    assert form.get("action") == "/support/remind" and form.get("method") == "post"
    assert form.xpath("string(.//input[@name='story']/@value)") == drive["story"]
    assert form.xpath("string(.//input[@name='variant']/@value)") == str(drive["variant"])
    options = form.xpath(".//select[@name='month']/option")
    assert [o.get("value") for o in options] == [month_value(m)
                                                 for m in reminders.months_offered()]
    assert [o.get("value") for o in options if o.get("selected") is not None] == [
        month_value(next_month())]
    assert options[0].text == month_label(next_month())
    consent = form.xpath("string(.//input[@name='consent']/ancestor::label)")
    assert "may email me one reminder" in consent and "unsubscribe" in consent
    assert form.xpath(".//label[@for='remind-email']")
    assert form.xpath(".//label[@for='remind-month']")


def test_support_offers_no_reminder_to_a_supporter(client, drive, app):
    client.set_cookie(SUPPORTER_COOKIE, make_supporter_token(app.config["SECRET_KEY"],
                                                             "one_off", None))
    assert not _page(client.get("/support")).xpath("//section[@id='remind']")


def test_the_month_link_chooses_that_month(client, drive):
    wanted = add_months(this_month(), 5)
    page = _page(client.get(f"/support/remind?month={month_value(wanted)}"))
    [chosen] = page.xpath("//select[@name='month']/option[@selected]")
    assert chosen.get("value") == month_value(wanted)


# --- signing up ---------------------------------------------------------------------------

def test_signing_up_keeps_the_reminder_and_hides_the_appeal(client, drive):
    """The reminder is kept with where the reader came from; the answer sets the same
    HttpOnly cookie as "Maybe later", so the story page shows no appeal afterwards."""
    client.set_cookie("sa_rid", READER)
    response = client.post("/support/remind", data=_form(drive))
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/support/remind/set"
    assert parse_qs(location.query) == {"month": [month_value(next_month())],
                                        "story": [drive["story"]]}
    [cookie] = [c for c in _cookie_headers(response) if c.startswith("sa_later=")]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    [reminder] = _reminders()
    assert (reminder.email, reminder.month, reminder.story_id, reminder.appeal_id,
            reminder.variant_id, reminder.reader_id) == (
        "reader@example.com", next_month(), drive["story_id"], drive["appeal"],
        drive["variant"], READER)
    assert b'class="appeal"' not in client.get(f"/stories/{drive['story']}").data
    done = _page(client.get(response.headers["Location"]))
    assert month_label(next_month()) in done.xpath("string(//p[@role='status'])")
    assert done.xpath(f"//a[@href='/stories/{drive['story']}']")
    assert "example.com" not in response.headers["Location"]


def test_a_reader_who_asks_not_to_be_tracked_is_kept_without_a_reader_id(client, drive):
    client.set_cookie("sa_rid", READER)
    client.post("/support/remind", data=_form(drive), headers={"Sec-GPC": "1"})
    assert _reminders()[0].reader_id is None


@pytest.mark.parametrize("months, says", [
    (-1, "has passed"), (0, "already"), (13, "more than 12 months ahead"),
])
def test_a_month_outside_the_offer_is_refused(client, drive, months, says):
    """Bad input: a past month, this month, or more than 12 months ahead: 400, the form
    again with the reason, nothing kept and the appeal not hidden."""
    response = client.post("/support/remind", data=_form(drive, months=months))
    assert response.status_code == 400
    page = _page(response)
    alert = page.xpath("string(//div[@role='alert'])")
    assert says in alert and "choose a month from" in alert
    assert page.xpath("//select[@name='month'][@aria-invalid='true']")
    assert _reminders() == []
    assert not any(c.startswith("sa_later=") for c in _cookie_headers(response))


@pytest.mark.parametrize("month", ["next", "2027-13", "", "2027-01' OR 1=1"])
def test_a_month_that_is_no_month_is_refused(client, drive, month):
    response = client.post("/support/remind", data=_form(drive, month=month))
    assert response.status_code == 400
    assert "choose a month from" in _page(response).xpath("string(//div[@role='alert'])")
    assert _reminders() == []


@pytest.mark.parametrize("email", [
    "not an address", "reader@", "", "reader@example.com\r\nBcc: victim@example.com",
    "reader@example.com%0d%0aBcc:victim@example.com", "Reader <reader@example.com>",
    "a@example.com, b@example.com", "x" * 250 + "@example.com",
])
def test_a_malformed_address_or_header_injection_is_refused(client, drive, email):
    """Bad input: 400 with a message on the address field; nothing kept."""
    response = client.post("/support/remind", data=_form(drive, email=email))
    assert response.status_code == 400
    page = _page(response)
    assert page.xpath("//input[@name='email'][@aria-invalid='true']")
    assert "email address" in page.xpath("string(//div[@role='alert'])")
    assert _reminders() == []


def test_consent_is_needed(client, drive):
    response = client.post("/support/remind", data=_form(drive, consent=None))
    assert response.status_code == 400
    assert "Tick the box" in _page(response).xpath("string(//div[@role='alert'])")
    assert _reminders() == []


def test_a_second_sign_up_for_the_same_address_and_month_says_so(client, drive):
    """Bad input: the same address and month again: 409 with a clear message, one reminder
    kept; another month is fine."""
    assert client.post("/support/remind", data=_form(drive)).status_code == 303
    again = client.post("/support/remind", data=_form(drive, email="READER@example.com"))
    assert again.status_code == 409
    message = _page(again).xpath("string(//div[@role='alert'])")
    assert f"already has a reminder for {month_label(next_month())}" in message
    assert "just the one" in message
    assert len(_reminders()) == 1
    assert client.post("/support/remind", data=_form(drive, months=2)).status_code == 303
    assert len(_reminders()) == 2


def test_a_filled_honeypot_keeps_nothing(client, drive):
    response = client.post("/support/remind", data=_form(drive, website="http://spam"))
    assert response.status_code == 400
    assert _reminders() == []


def test_the_form_is_protected_by_its_token(database_url, drive):
    """With CSRF on: a POST without the token (another site's form) keeps nothing and shows
    the form again; the token /support gave lets it through."""
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        refused = client.post("/support/remind", data=_form(drive))
        assert refused.status_code == 400
        assert "expired" in _page(refused).xpath("string(//div[@role='alert'])")
        assert _reminders() == []
        page = _page(client.get("/support"))
        token = page.xpath("string(//section[@id='remind']//input[@name='csrf_token']/@value)")
        assert token
        accepted = client.post("/support/remind", data={**_form(drive), "csrf_token": token})
        assert accepted.status_code == 303
        assert len(_reminders()) == 1
        db.session.remove()
        db.engine.dispose()


def test_sign_ups_are_rate_limited(database_url, drive):
    app = make_app(database_url, RATELIMIT_ENABLED=True, REMINDER_RATE_LIMIT="2 per minute")
    client = app.test_client()
    with app.app_context():
        codes = [client.post("/support/remind", data=_form(drive, email=f"r{n}@example.com"))
                 .status_code for n in range(3)]
        assert codes == [303, 303, 429]
        assert len(_reminders()) == 2
        db.session.remove()
        db.engine.dispose()


# --- unsubscribing ------------------------------------------------------------------------

def _sent_reminder(client, drive, email="reader@example.com"):
    client.post("/support/remind", data=_form(drive, email=email))
    reminder = [r for r in _reminders() if r.email == email][0]
    reminder.sent_at = current_time()
    db.session.commit()
    return reminder


def test_one_click_unsubscribe_as_a_mail_program_sends_it(client, drive):
    """RFC 8058: a POST of `List-Unsubscribe=One-Click` to the header's URL, no cookie, no
    CSRF token: it unsubscribes; the page's own GET only asks."""
    reminder = _sent_reminder(client, drive)
    url = f"/reminders/unsubscribe/{unsubscribe_token(reminder)}"
    asked = client.get(url)
    assert asked.status_code == 200 and asked.headers["Cache-Control"] == "no-store"
    assert _page(asked).xpath(f"//form[@method='post'][@action='{url}']//button")
    assert _reminders()[0].unsubscribed_at is None  # a GET changes nothing
    fresh = make_app(client.application.config["SQLALCHEMY_DATABASE_URI"]).test_client()
    response = fresh.post(url, data="List-Unsubscribe=One-Click",
                          content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert _reminders()[0].unsubscribed_at is not None
    assert "no more reminders" in _page(response).xpath("string(//p[@role='status'])")


def test_a_replayed_unsubscribe_changes_nothing(client, drive):
    """Bad input: the same token POSTed again says it was done; a reminder asked for since
    (fresh consent) stays."""
    reminder = _sent_reminder(client, drive)
    url = f"/reminders/unsubscribe/{unsubscribe_token(reminder)}"
    client.post(url, data={"List-Unsubscribe": "One-Click"})
    first = _reminders()[0].unsubscribed_at
    client.post("/support/remind", data=_form(drive, months=4))
    replay = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert replay.status_code == 200
    assert "already" in _page(replay).xpath("string(//p[@role='status'])")
    rows = _reminders()
    assert rows[0].unsubscribed_at == first and rows[1].unsubscribed_at is None


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_unsubscribe_changes_nothing_for_anyone(client, drive, method):
    """Bad input: a tampered token, or a reader's token with another reminder's id: 400, a
    page saying so, and nobody's reminders change."""
    mine = _sent_reminder(client, drive)
    other = _sent_reminder(client, drive, email="neighbour@example.com")
    token = unsubscribe_token(mine)
    payload, _, signature = token.rpartition(".")
    forged = [
        f"{payload}.{signature[::-1]}",
        reminders._serializer("wrong-salt").dumps([other.id, reminders._email_tag(mine.email)]),
        reminders.reference(other.id),
        token.replace(payload, reminders._serializer("x").dumps([other.id, "x"]).split(".")[0]),
    ]
    for bad in forged:
        response = getattr(client, method)(f"/reminders/unsubscribe/{bad}",
                                           data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 400, bad
        assert "does not work" in _page(response).xpath("string(//h1)")
    assert [r.unsubscribed_at for r in _reminders()] == [None, None]


# --- a gift from the reminder's link ------------------------------------------------------

def _link_query(reminder, slug):
    return parse_qs(urlsplit(reminders.support_link(reminder, slug)).query)


def test_a_gift_from_the_reminders_link_keeps_the_reminder(client, drive, fake_stripe):
    """The link's story, variant and reference reach /support's form and the checkout's
    metadata; the paid gift records the reminder. A forged reference is dropped."""
    reminder = _sent_reminder(client, drive)
    query = _link_query(reminder, drive["story"])
    page = _page(client.get("/support?" + "&".join(f"{k}={v[0]}" for k, v in query.items())))
    fields = {name: page.xpath(f"string(//form[@action='/contribute']//input[@name='{name}']"
                               f"/@value)") for name in ("story", "appeal", "variant",
                                                         "reminder", "nonce")}
    assert fields["reminder"] == query["reminder"][0]
    response = client.post("/contribute", data={**fields, "frequency": "one_off",
                                                "amount": "20", "currency": "USD"})
    assert response.status_code == 303
    params, _ = fake_stripe.created[-1]
    assert params["metadata"]["reminder"] == str(reminder.id)
    assert params["metadata"]["story"] == drive["story"]
    assert params["metadata"]["variant"] == str(drive["variant"])
    session = fake_stripe.add_session(sf.checkout_session(
        amount=2000, metadata=params["metadata"],
        customer_details={"email": "reader@example.com"}))
    fulfil_checkout(session["id"])
    gift = db.session.scalars(select(Contribution)).one()
    assert (gift.reminder_id, gift.story_id, gift.variant_id) == (
        reminder.id, drive["story_id"], drive["variant"])

    forged = {**fields, "reminder": query["reminder"][0][:-3] + "abc",
              "frequency": "one_off", "amount": "21", "currency": "USD", "nonce": "n" * 24}
    client.post("/contribute", data=forged)
    assert "reminder" not in fake_stripe.created[-1][0]["metadata"]


def test_a_recurring_gift_from_a_reminder_keeps_it_on_every_record(client, drive, fake_stripe):
    """A monthly gift: the subscription's metadata carries the reminder to the recurring
    support and its first payment, whichever event comes first."""
    reminder = _sent_reminder(client, drive)
    metadata = {"frequency": "monthly", "story": drive["story"],
                "appeal": str(drive["appeal"]), "variant": str(drive["variant"]),
                "reminder": str(reminder.id)}
    session = fake_stripe.add_session(sf.checkout_session(
        mode="subscription", amount=800, metadata=metadata,
        customer_details={"email": "reader@example.com"}))
    sub_id = session["subscription"]
    fake_stripe.subscriptions[sub_id] = sf.subscription(sub_id, amount=800)
    first = sf.invoice(sub_id, 800, metadata=metadata, payment_intent=sf.new_id("pi"))
    receive_event(sf.event("invoice.paid", first))
    receive_event(sf.event("checkout.session.completed", session))
    db.session.rollback()
    support = db.session.scalars(select(RecurringSupport)).one()
    payment = db.session.scalars(select(Contribution)).one()
    assert support.reminder_id == reminder.id and payment.reminder_id == reminder.id


def test_a_reference_naming_no_reminder_is_not_kept(client, drive, fake_stripe):
    metadata = {"frequency": "one_off", "reminder": "424242"}
    session = fake_stripe.add_session(sf.checkout_session(amount=500, metadata=metadata))
    fulfil_checkout(session["id"])
    assert db.session.scalars(select(Contribution)).one().reminder_id is None


def test_the_dashboard_shows_the_reminders_of_a_story_and_a_variant(client, drive,
                                                                    staff_client):
    """The story page and the appeal's variant table count asked, sent and won."""
    reminder = _sent_reminder(client, drive)
    db.session.add(Contribution(
        amount_minor=1500, currency="USD", frequency="one_off", status="paid",
        paid_at=datetime.now(UTC), reminder_id=reminder.id, story_id=drive["story_id"],
        appeal_id=drive["appeal"], variant_id=drive["variant"],
        stripe_checkout_session_id="cs_test_reminded"))
    db.session.commit()
    send_due_reminders()  # nothing due: the one above is marked sent already
    staff = staff_client("viewer")
    story = _page(staff.get(f"/dashboard/stories/{drive['story_id']}"))
    stat = story.xpath("string(//div[@class='stat'][dt='\"Remind me later\"']/dd)")
    assert stat == "1 asked, 1 sent, 1 gift within 14 days"
    report = _page(staff.get(f"/dashboard/appeals/{drive['appeal']}"))
    headers = [th.text_content() for th in report.xpath("(//table)[1]//thead//th")]
    cells = report.xpath("(//table)[1]//tbody/tr[1]/td")
    values = dict(zip(headers[1:], [c.text_content().strip() for c in cells], strict=True))
    assert (values["Reminders asked"], values["Reminders sent"],
            values["Gifts within 14 days of a reminder"]) == ("1", "1", "1")
    assert report.xpath("//p[@class='meta'][contains(., 'Reminders: readers who chose')]")
