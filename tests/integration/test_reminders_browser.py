""""Remind me later" in a real Chromium: from the appeal's offer, with the keyboard alone,
to the reminder in the local mail server a month later, and a gift made from its link that
the funnel counts as won by that reminder for that story and variant. The new pages pass
axe and fit a 320 px phone."""
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import Appeal, AppealVariant, Contribution, Reminder
from supportapp.services.appeals import save_appeal
from supportapp.services.clock import current_time, move_clock
from supportapp.services.periods import Period
from supportapp.services.reminders import (
    add_months,
    month_label,
    month_name,
    next_month,
    sign_up,
    this_month,
    unsubscribe_token,
)
from supportapp.services.reports import stories_table, variants_table
from supportapp.services.worker import run_due_jobs
from tests.a11y import assert_fits, assert_no_axe_violations, focused, tab_to
from tests.integration.conftest import CARD_OK
from tests.mail_server import point_app_at

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def drive(live, make_story):
    """A live appeal with two variants (the first one always shown), and a story."""
    appeal = Appeal(name="Winter drive", status="live", placement_paragraph=2,
                    target_sections=[], excluded_sections=[])
    for name, weight in (("control", 1), ("urgent", 0)):
        appeal.variants.append(AppealVariant(
            name=name, heading="Since you're here…", body="<p>Help us keep reporting.</p>",
            cta_label="Support us", preset_amounts={}, default_frequency="monthly",
            weight=weight, is_control=name == "control"))
    save_appeal(appeal)
    body = "".join(f"<p>Paragraph {n} of a story about the harbour, with enough words to "
                   f"fill a line or two on a phone.</p>" for n in range(1, 7))
    story = make_story(slug="harbour-dredging", title="Dredging the harbour", body_html=body)
    live.app.config["PUBLIC_URL"] = live.url  # the email's links lead to this server
    return {"appeal": appeal.id, "variant": appeal.variants[0].id, "story": story}


def _type(page, text):
    page.keyboard.type(text)


@pytest.mark.parametrize("live", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_remind_me_later_from_the_appeal_to_a_gift_it_won(live, drive, page, mail_server):
    """Keyboard alone: the appeal's "Remind me in <next month>", then on /support the
    address, the month after next, consent and the button; the appeal is gone from the
    story. The app's clock reaches that month and the worker runs: one reminder arrives,
    with a one-click unsubscribe; its link opens /support, where a gift is made on the
    emulator's Checkout; the funnel counts it as won by that reminder, for that story and
    variant."""
    point_app_at(live.app, mail_server.host, mail_server.port)
    story = drive["story"]
    wanted = add_months(this_month(), 2)
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"{live.url}/stories/{story.slug}")
    remind = page.locator("section.appeal a.appeal__remind")
    assert remind.inner_text() == f"Remind me in {month_name(next_month())}"
    assert tab_to(page, "a.appeal__remind").visible
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r".*/support\?.*#remind$"))
    assert tab_to(page, "#remind-email").visible
    _type(page, "reader@example.com")
    page.keyboard.press("Tab")
    assert focused(page).describe.startswith("select#remind-month")
    assert focused(page).visible
    page.keyboard.press("ArrowDown")  # next month -> the month after
    assert page.locator("#remind-month").input_value() == f"{wanted:%Y-%m}"
    page.keyboard.press("Tab")
    assert focused(page).describe.startswith("input#remind-consent")
    assert focused(page).visible
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert focused(page).describe.startswith('button "Remind me"')
    assert focused(page).visible
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r".*/support/remind/set\?.*"))
    assert month_label(wanted) in page.locator("p[role=status]").inner_text()
    page.locator("a", has_text="Back to the story").click()
    page.wait_for_url(f"{live.url}/stories/{story.slug}")
    assert page.locator("section.appeal").count() == 0  # hidden, as after "Maybe later"

    with live.app.app_context():
        [reminder] = db.session.scalars(select(Reminder)).all()
        assert (reminder.story_id, reminder.variant_id, reminder.month) == (
            story.id, drive["variant"], wanted)
        reminder_id = reminder.id
        run_due_jobs(threading.Event())  # not due yet
        assert mail_server.count() == 0
        move_clock(datetime(wanted.year, wanted.month, 1, 9, tzinfo=UTC) - current_time())
        run_due_jobs(threading.Event())  # the reminder is written ...
        run_due_jobs(threading.Event())  # ... and sent (and nothing twice)
        db.session.remove()
    assert mail_server.wait_for(1)
    [message] = mail_server.messages()
    assert message["To"] == "reader@example.com"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert str(message["List-Unsubscribe"]).strip().startswith(
        f"<{live.url}/reminders/unsubscribe/")
    text = message.get_body(("plain",)).get_content()
    assert month_label(wanted) in text and "Dredging the harbour" in text
    [link] = re.findall(r"\S+/support\?\S+", text)
    assert "reader" not in link and "example.com" not in link

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(link)
    assert page.url.startswith(f"{live.url}/support?")
    form = page.locator("form.contribute__form")
    assert form.locator("input[name=story]").input_value() == story.slug
    assert form.locator("input[name=variant]").input_value() == str(drive["variant"])
    form.locator("input[name=frequency][value=one_off]").check()
    form.locator("input[name=amount_custom]").fill("18")
    form.locator("button.contribute__submit").click()
    page.wait_for_url(re.compile(re.escape(live.emulator.url) + r"/c/pay/cs_test_.*"))
    session_id = page.url.rsplit("/", 1)[1]
    assert live.pay(session_id, card=CARD_OK).json()["status"] == "complete"
    live.settle()

    with live.app.app_context():
        gift = db.session.scalars(select(Contribution)).one()
        assert (gift.reminder_id, gift.story_id, gift.variant_id, gift.amount_minor) == (
            reminder_id, story.id, drive["variant"], 1800)
        sent_at = db.session.get(Reminder, reminder_id).sent_at
        period = Period(datetime.now(UTC).date() - timedelta(days=1), sent_at.date())
        by_variant = {row.variant_id: row for row in variants_table(drive["appeal"], period)}
        won = by_variant[drive["variant"]]
        assert (won.reminder_signups, won.reminders_sent, won.reminder_gifts) == (1, 1, 1)
        other = next(v for k, v in by_variant.items() if k != drive["variant"])
        assert (other.reminder_signups, other.reminders_sent, other.reminder_gifts) == (0, 0, 0)
        [story_row] = [r for r in stories_table(period) if r.story_id == story.id]
        assert (story_row.reminders_sent, story_row.reminder_gifts) == (1, 1)
        db.session.remove()


def _reminder_pages(live, drive):
    """The new reader-facing pages, by name: a path, or a function that opens the page."""
    story = drive["story"]
    with live.app.app_context():
        signed = sign_up("pages@example.com", f"{add_months(this_month(), 3):%Y-%m}")
        reminder = db.session.get(Reminder, signed.reminder_id)
        token = unsubscribe_token(reminder)
        db.session.remove()

    def errors(page):
        page.goto(f"{live.url}/support/remind")
        page.fill("#remind-email", "not an address")
        page.click("button.remind__submit")
        page.wait_for_selector("#remind .contribute__errors")

    def unsubscribed(page):
        page.goto(f"{live.url}/reminders/unsubscribe/{token}")
        page.click("form button")
        page.wait_for_selector("p[role=status]")

    return {
        "story with the offer": f"/stories/{story.slug}",
        "/support with the chooser": f"/support?story={story.slug}&appeal={drive['appeal']}"
                                     f"&variant={drive['variant']}#remind",
        "/support/remind": "/support/remind",
        "the form with its errors": errors,
        "reminder set": f"/support/remind/set?month={add_months(this_month(), 3):%Y-%m}"
                        f"&story={story.slug}",
        "unsubscribe, asking": f"/reminders/unsubscribe/{token}",
        "unsubscribe, done": unsubscribed,
        "unsubscribe, not a link of ours": "/reminders/unsubscribe/not-ours",
    }


def _open(page, live, target):
    if callable(target):
        target(page)
    else:
        page.goto(live.url + target)


@pytest.mark.a11y
def test_axe_finds_nothing_on_the_reminder_pages(live, drive, page):
    for target in _reminder_pages(live, drive).values():
        page.set_viewport_size({"width": 1280, "height": 800})
        _open(page, live, target)
        assert_no_axe_violations(page)


def test_the_reminder_pages_fit_from_320_px(live, drive, page):
    """No sideways scrolling at 320, 390, 768 or 1280 px; on a phone the offer and the
    chooser's fields are whole and on screen."""
    for _name, target in _reminder_pages(live, drive).items():
        _open(page, live, target)
        assert_fits(page)
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"{live.url}/stories/{drive['story'].slug}")
    offer = page.locator("a.appeal__remind").bounding_box()
    assert offer["x"] >= 0 and offer["x"] + offer["width"] <= 320
    page.goto(f"{live.url}/support/remind")
    for field in ("#remind-email", "#remind-month", "button.remind__submit"):
        box = page.locator(field).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 320, field
