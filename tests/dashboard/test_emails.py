"""The Emails page for admins: every outbox message in words, filtered, and a failed one sent
again (that message only, by admins only)."""
import logging
from datetime import UTC, datetime

import lxml.html
import pytest
from sqlalchemy import select

from tests.dashboard.conftest import SMTP_REFUSED
from tests.dashboard.test_labels_shown import CODE

COLUMNS = ("key", "kind", "to_address", "subject", "text_body", "html_body", "message_id",
           "status", "attempts", "next_attempt_at", "lease_until", "last_error", "created_at",
           "sent_at")


def _outbox():
    """{id: (every column)} of the outbox as the database holds it now."""
    from supportapp.extensions import db
    from supportapp.models import OutboxMessage

    db.session.expire_all()
    return {m.id: tuple(getattr(m, c) for c in COLUMNS)
            for m in db.session.scalars(select(OutboxMessage))}


def _page(response):
    assert response.status_code == 200, response.status_code
    return lxml.html.fromstring(response.data.decode())


def _subjects(page):
    return [" ".join(td.text_content().split())
            for td in page.xpath("//table[contains(@class, 'emails')]/tbody/tr/td[4]")]


def test_admins_see_every_email_newest_first_in_words(staff_client, supporter_history):
    """Kind, status and the error read as words, newest first; a message that can be sent
    again (given up, or failed and waiting) has a button, the others none."""
    response = staff_client("admin").get("/dashboard/emails")
    assert response.headers["Cache-Control"] == "no-store"
    page = _page(response)
    for element in page.xpath("//code | //script"):
        element.drop_tree()
    text = " ".join(page.text_content().split())
    assert CODE.findall(text) == []
    assert _subjects(page) == ["Late receipt", "Subject of confirm:1", "Subject of receipt:in_3",
                               "Subject of receipt:in_2", "Your sign-in link", "Your receipt"]
    assert page.xpath("//select[@name='status']/option/text()") == [
        "any", "Queued", "Sending", "Sent", "Given up"]
    assert page.xpath("//select[@name='kind']/option/text()") == [
        "any", "Change confirmed", "Receipt", "Sign-in link"]
    assert SMTP_REFUSED in text and "Timed out" in text
    buttons = [" ".join(b.text_content().split())
               for b in page.xpath("//form[contains(@action, '/resend')]/button")]
    assert buttons == ["Send again: Late receipt", "Send again: Subject of receipt:in_2",
                       "Send again: Your sign-in link"]


@pytest.mark.parametrize("query, subjects", [
    ("status=given_up", ["Late receipt", "Your sign-in link"]),
    ("status=sent", ["Your receipt"]),
    ("kind=sign_in_link", ["Your sign-in link"]),
    ("status=queued&kind=receipt", ["Subject of receipt:in_2"]),
    ("status=failed&kind=nothing", ["Late receipt", "Subject of confirm:1",
                                    "Subject of receipt:in_3", "Subject of receipt:in_2",
                                    "Your sign-in link", "Your receipt"]),
])
def test_the_list_filters_by_status_and_kind(staff_client, supporter_history, query, subjects):
    """A status or kind narrows the list; one the outbox does not know is ignored."""
    page = _page(staff_client("admin").get(f"/dashboard/emails?{query}"))
    assert _subjects(page) == subjects


def test_sending_again_changes_that_message_only(staff_client, supporter_history, caplog):
    """A given-up message is queued again, due now, its tries counted afresh and its last
    error kept; no other column or message changes; the admin reads a flash, the log names
    the staff member and the message, not the address."""
    client = staff_client("admin")
    message = supporter_history["messages"]["given_up"]
    before = _outbox()
    caplog.set_level(logging.INFO)
    started = datetime.now(UTC)
    response = client.post(f"/dashboard/emails/{message.id}/resend",
                           data={"next": "/dashboard/emails?status=given_up"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/emails?status=given_up"
    after = _outbox()
    assert {k: v for k, v in after.items() if k != message.id} == \
        {k: v for k, v in before.items() if k != message.id}
    changed = dict(zip(COLUMNS, after[message.id], strict=True))
    was = dict(zip(COLUMNS, before[message.id], strict=True))
    assert (changed["status"], changed["attempts"], changed["last_error"]) == \
        ("queued", 0, SMTP_REFUSED)
    assert started <= changed["next_attempt_at"] <= datetime.now(UTC)
    assert {c for c in COLUMNS if changed[c] != was[c]} == {"status", "attempts",
                                                             "next_attempt_at"}
    lines = [r.getMessage() for r in caplog.records]
    assert f"staff {client.staff.id} queued outbox message {message.id} to be sent again" \
        in lines
    assert not [line for line in lines if "reader.example" in line.lower()]
    page = _page(client.get(response.headers["Location"]))
    assert page.xpath("//p[contains(@class, 'flash')]/text()") == [
        "The email is queued to be sent again."]
    assert _subjects(page) == ["Late receipt"]


def test_a_failed_message_waiting_for_its_next_try_goes_now(staff_client, supporter_history):
    """A queued message whose last try failed is due now, with its tries counted afresh."""
    message = supporter_history["messages"]["retrying"]
    started = datetime.now(UTC)
    staff_client("admin").post(f"/dashboard/emails/{message.id}/resend")
    after = dict(zip(COLUMNS, _outbox()[message.id], strict=True))
    assert (after["status"], after["attempts"], after["last_error"]) == \
        ("queued", 0, "Connection refused")
    assert started <= after["next_attempt_at"] <= datetime.now(UTC)


@pytest.mark.parametrize("name, pressed_before", [
    ("sent", 0), ("sending", 0), ("queued", 0), ("given_up", 1)])
def test_a_message_that_did_not_fail_is_not_sent_again(staff_client, supporter_history, name,
                                                       pressed_before):
    """Sent, being sent, queued without a failure, or queued again with no try since: nothing
    changes and the flash says so."""
    client = staff_client("admin")
    message = supporter_history["messages"][name]
    for _ in range(pressed_before):
        client.post(f"/dashboard/emails/{message.id}/resend")
    before = _outbox()
    response = client.post(f"/dashboard/emails/{message.id}/resend")
    assert response.headers["Location"] == "/dashboard/emails"
    assert _outbox() == before
    page = _page(client.get("/dashboard/emails"))
    assert page.xpath("//p[contains(@class, 'flash--error')]/text()") == [
        "Not sent again: only an email whose last try failed can be sent again."]


def test_sending_again_goes_back_only_to_this_site(staff_client, supporter_history):
    """A `next` off this site is replaced by the Emails page; a missing message is a 404."""
    client = staff_client("admin")
    message = supporter_history["messages"]["other"]
    response = client.post(f"/dashboard/emails/{message.id}/resend",
                           data={"next": "//evil.example/dashboard"})
    assert response.headers["Location"] == "/dashboard/emails"
    assert client.post("/dashboard/emails/999999/resend").status_code == 404


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_admins_send_again(staff_client, supporter_history, role):
    """Below admin: no Emails page or link, no button on the supporter page, and a 403 for
    the POST, which changes nothing."""
    client = staff_client(role)
    message = supporter_history["messages"]["given_up"]
    assert client.get("/dashboard/emails").status_code == 403
    page = _page(client.get(f"/dashboard/supporters/of-email/{message.id}"))
    assert page.xpath("//a[contains(@href, '/dashboard/emails')]") == []
    assert page.xpath("//form[contains(@action, '/resend')]") == []
    assert "Send again" not in page.text_content()
    assert len(page.xpath("//table[contains(@class, 'emails')]/tbody/tr")) == 5
    before = _outbox()
    assert client.post(f"/dashboard/emails/{message.id}/resend").status_code == 403
    assert _outbox() == before


def test_admins_send_again_from_the_supporter_page(staff_client, supporter_history):
    """On a supporter's page an admin sees the button on each failed email, and comes back
    to the same page (by message id) after pressing one."""
    client = staff_client("admin")
    message = supporter_history["messages"]["given_up"]
    page = _page(client.post("/dashboard/supporters", data={"email": "kind@reader.example"}))
    forms = page.xpath("//form[contains(@action, '/resend')]")
    assert [f.xpath("button")[0].text_content().strip() for f in forms] == [
        "Send again: Subject of receipt:in_2", "Send again: Your sign-in link"]
    back = forms[1].xpath("input[@name='next']/@value")[0]
    assert back == f"/dashboard/supporters/of-email/{message.id}"
    response = client.post(forms[1].get("action"), data={"next": back})
    assert response.headers["Location"] == back
    page = _page(client.get(back))
    assert page.xpath("//p[contains(@class, 'flash')]/text()") == [
        "The email is queued to be sent again."]
    [again] = [row for row in page.xpath("//table[contains(@class, 'emails')]/tbody/tr")
               if "Your sign-in link" in row.text_content()]
    assert " ".join(again.xpath("td[4]")[0].text_content().split()).startswith(
        "Queued Queued again after a failure; due ")
    assert again.xpath(".//form") == []
    assert len(page.xpath("//form[contains(@action, '/resend')]")) == 1


def test_an_erased_supporters_failed_message_is_not_sent_again(staff_client,
                                                                supporter_history):
    """After an erasure the message's address is a digest and its text gone: no button, and
    pressing it anyway changes nothing."""
    from supportapp.extensions import db
    from supportapp.models import OutboxMessage
    from supportapp.services.supporter_email import email_digest

    message = supporter_history["messages"]["given_up"]
    db.session.get(OutboxMessage, message.id).to_address = email_digest(message.to_address)
    db.session.commit()
    client = staff_client("admin")
    page = _page(client.get("/dashboard/emails?status=given_up"))
    assert page.xpath(f"//form[contains(@action, '/emails/{message.id}/resend')]") == []
    before = _outbox()
    client.post(f"/dashboard/emails/{message.id}/resend")
    assert _outbox() == before
