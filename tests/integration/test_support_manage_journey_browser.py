"""A monthly supporter's whole journey in Chromium, the mail sent for real: with no cookie,
they ask for a link at /support/manage, open it from the message that arrived in the local
mail server, then, through the page as a person would, raise their gift from 5 to 8 (the
emulator charges 8 and the next renewal's receipt says so), pause it, resume it and cancel
it, receiving a confirmation of each change."""
import re
from datetime import UTC, datetime

import pytest
from babel.dates import format_date
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import SupportChange
from supportapp.services.mail_worker import send_due_mail

pytestmark = pytest.mark.browser
EMAIL = "reader@example.com"  # what live.start_checkout types on the form
SIGN_IN_LINK = re.compile(r"http://\S+/support/manage/link/[A-Za-z0-9._-]+")


class Inbox:
    """The supporter's mailbox: the local mail server, the outbox sent to it by the worker's
    own code."""

    def __init__(self, mail_server):
        self.server, self.read = mail_server, 0

    def next_message(self):
        """Send what is due, then return the one message that arrived since the last call
        (a second one, such as a change confirmed twice, fails the test)."""
        send_due_mail()
        assert self.server.wait_for(self.read + 1), "no message arrived"
        messages = self.server.messages()
        assert len(messages) == self.read + 1, [m["Subject"] for m in messages[self.read:]]
        self.read += 1
        message = messages[-1]
        assert message["To"] == EMAIL
        return message


def _text(message):
    return message.get_body(("plain",)).get_content()


def _confirmation(inbox, subject, sentence):
    """The next message is the confirmation of one change: its subject and its sentence."""
    message = inbox.next_message()
    assert message["Subject"] == subject
    assert sentence in _text(message)


def _subscription(live, subscription_id):
    return live.stripe.v1.subscriptions.retrieve(subscription_id)


def _gift_state(page):
    return page.locator("article.gift .gift__state").inner_text()


def _submitted(live, page, click):
    """Click a button that changes the gift; back on the supporter's page, with the
    emulator's webhooks applied. Returns the page's confirmation."""
    with page.expect_navigation():
        click()
    assert page.url.startswith(f"{live.url}/support/manage/gifts#gift-"), page.url
    live.settle()
    return page.locator(".flash--success").inner_text()


def _sign_in(live, page, inbox, manage_url):
    """Ask for a link with the email address, and open the one that arrived."""
    page.goto(manage_url)
    page.get_by_label("The email address you gave with").fill(EMAIL)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    message = inbox.next_message()
    assert message["Subject"] == "Your link to manage your support"
    link = SIGN_IN_LINK.search(_text(message)).group(0)
    assert link.startswith(f"{live.url}/support/manage/link/")
    assert f'href="{link}"' in message.get_body(("html",)).get_content()
    page.goto(link)
    page.wait_for_url(f"{live.url}/support/manage/gifts")  # the token left the address bar
    assert page.get_by_role("heading", level=1).inner_text() == "Your support"
    assert f"Signed in as {EMAIL}" in page.locator(".manage__who").inner_text()


def _change_amount(live, page, inbox, subscription_id):
    """5 -> 8 a month: charged by the emulator from the next renewal, whose receipt says
    $8.00."""
    page.get_by_label("Amount in USD").fill("8")
    confirmed = _submitted(live, page, page.get_by_role("button", name="Change my gift").click)
    assert confirmed == "The amount is now $8 (it was $5)."
    assert page.locator("article.gift .gift__title").inner_text() == "$8 a month"
    assert _gift_state(page).startswith("Active · next payment on ")
    _confirmation(inbox, "The amount of your recurring gift has changed",
                  "- The amount is now $8 (it was $5).")

    price = _subscription(live, subscription_id)["items"]["data"][0]["price"]
    assert (price["unit_amount"], price["recurring"]["interval"]) == (800, "month")
    assert live.control(f"/subscriptions/{subscription_id}/advance").json()["paid"] is True
    live.settle()
    receipt = inbox.next_message()
    assert receipt["Subject"] == "Your receipt from The Harbour Ledger: $8.00 a month"
    assert "was renewed" in _text(receipt) and "Amount:      $8.00" in _text(receipt)


def _pause(live, page, inbox, subscription_id):
    """A month's break: no payment until the emulator's resumes_at, which page and email
    name."""
    page.get_by_label("Take a break for").select_option(label="1 month")
    confirmed = _submitted(live, page, page.get_by_role("button", name="Pause payments").click)
    pause = _subscription(live, subscription_id)["pause_collection"]
    assert pause["behavior"] == "void"
    resumes_at = datetime.fromtimestamp(pause["resumes_at"], UTC)
    assert 28 <= (resumes_at - datetime.now(UTC)).days <= 31
    until = format_date(resumes_at, format="long", locale="en")
    assert confirmed == f"Payments are paused until {until}; nothing is taken meanwhile."
    assert _gift_state(page) == f"Paused until {until}: no payment is taken meanwhile."
    _confirmation(inbox, "Your recurring gift is paused", f"- Payments are paused until {until}")


def _resume(live, page, inbox, subscription_id):
    confirmed = _submitted(live, page,
                           page.get_by_role("button", name="Resume payments now").click)
    assert confirmed == "Payments start again from the next due date."
    assert _subscription(live, subscription_id)["pause_collection"] is None
    assert _gift_state(page).startswith("Active · next payment on ")
    assert page.get_by_role("button", name="Pause payments").is_visible()
    _confirmation(inbox, "Your recurring gift is running again",
                  "- Payments start again from the next due date.")


def _cancel(live, page, inbox, subscription_id):
    """The cancel page offers half the gift, or a break, first; declined, the gift ends with
    the reason chosen."""
    page.get_by_role("link", name="Cancel this gift").click()
    page.get_by_role("heading", name="Cancel your gift of $8 a month?").wait_for()
    offer = page.get_by_role("group", name="Give $4 a month instead?")
    assert offer.get_by_label("Amount in USD").input_value() == "4"
    assert page.get_by_role("button", name="Pause payments").is_visible()
    page.get_by_label("I can't afford it at the moment").check()
    confirmed = _submitted(live, page, page.get_by_role("button", name="Cancel my gift").click)
    assert confirmed == "It is cancelled: no further payments will be taken."
    subscription = _subscription(live, subscription_id)
    assert subscription.status == "canceled"
    assert subscription["cancellation_details"]["feedback"] == "too_expensive"
    assert _gift_state(page).startswith("Cancelled on ")
    assert page.get_by_role("button", name="Change my gift").count() == 0
    _confirmation(inbox, "Your recurring gift is cancelled",
                  "- It is cancelled: no further payments will be taken.")


def test_monthly_supporter_manages_their_gift_from_the_emailed_link(live, mail_server, page):
    """The journey above, on a page with no cookie at the start; each change is made at the
    emulator, shown on the page, confirmed by one email, and recorded with its details."""
    live.app.config["PUBLIC_URL"] = live.url  # the links in emails lead to this server
    session_id = live.start_checkout(frequency="monthly", amount="5")
    assert live.pay(session_id).json()["status"] == "complete"
    live.settle()
    # From here on CSRF is checked, as in production: the page's forms carry their tokens.
    live.app.config["WTF_CSRF_ENABLED"] = True
    subscription_id = live.subscription_of(session_id)
    inbox = Inbox(mail_server)
    first_receipt = inbox.next_message()
    assert first_receipt["Subject"] == "Your receipt from The Harbour Ledger: $5.00 a month"
    manage_url = f"{live.url}/support/manage"
    assert manage_url in _text(first_receipt)

    assert page.context.cookies() == []
    _sign_in(live, page, inbox, manage_url)
    _change_amount(live, page, inbox, subscription_id)
    _pause(live, page, inbox, subscription_id)
    _resume(live, page, inbox, subscription_id)
    _cancel(live, page, inbox, subscription_id)

    db.session.rollback()  # see what the live server committed
    changes = db.session.scalars(select(SupportChange).order_by(SupportChange.id)).all()
    assert [(c.kind, c.email) for c in changes] == [
        (kind, EMAIL) for kind in ("amount_changed", "paused", "resumed", "cancelled")]
    assert changes[-1].details == {"reason": "too_expensive"}
    assert send_due_mail() == 0 and mail_server.count() == inbox.read  # nothing more
