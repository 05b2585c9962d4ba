"""The outbox: an email written with the fact it tells of, once per key, headers kept safe."""
import pytest
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import func, select

from supportapp.extensions import db
from supportapp.models import OutboxMessage
from supportapp.services.outbox import OutboxError, public_url, queue_email, render_email

TEMPLATES = {
    "email/hello.txt": '{% extends "email/_base.txt" %}{% set subject = "Hello " ~ name %}'
                       "{% block content %}Hi {{ name }}, see {{ link }}{% endblock %}",
    "email/hello.html": '{% extends "email/_base.html" %}'
                        '{% block content %}<h1>Hi {{ name }}</h1>'
                        '<p><a class="button" href="{{ link }}">Open</a></p>{% endblock %}',
    "email/broken.txt": '{% extends "email/_base.txt" %}{% set subject = "two\\nlines" %}',
    "email/broken.html": '{% extends "email/_base.html" %}',
}


@pytest.fixture
def mail_app(app):
    app.jinja_env.loader = ChoiceLoader([DictLoader(TEMPLATES), app.jinja_env.loader])
    app.jinja_env.cache = {}
    return app


def _count():
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def test_rendered_with_inlined_css_org_footer_and_our_message_id(mail_app):
    """Both parts come from templates; the HTML's styles are inlined; the footer names the
    newsroom and its address; the Message-ID is ours."""
    assert queue_email("hello:1", "test", "reader@example.com", "hello", name="Ana",
                       link=public_url("contribute.support"))
    db.session.commit()
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.subject == "Hello Ana" and message.status == "queued"
    assert "Hi Ana, see http://127.0.0.1:5000/support" in message.text_body
    assert "The Harbour Ledger · 1 Harbour Street" in message.text_body
    assert "<style" not in message.html_body
    assert 'style="' in message.html_body and "background: #0b5c7a" in message.html_body
    assert message.message_id.startswith("<") and message.message_id.endswith(
        "@harbour-ledger.example>")


def test_same_key_writes_one_message(mail_app):
    """The same fact told twice (a webhook delivered twice) writes one email."""
    assert queue_email("hello:2", "test", "reader@example.com", "hello", name="A", link="x")
    assert not queue_email("hello:2", "test", "reader@example.com", "hello", name="B",
                           link="y")
    db.session.commit()
    assert _count() == 1


def test_written_only_with_the_fact(mail_app):
    """An email written in a transaction that rolls back is gone with it."""
    queue_email("hello:3", "test", "reader@example.com", "hello", name="A", link="x")
    db.session.rollback()
    assert _count() == 0


@pytest.mark.parametrize("address", ["a@b.example\r\nBcc: x@evil.example", "a@b.example\n",
                                     "Name <a@b.example>", "not-an-address", "", None,
                                     "a@b.example, c@d.example"])
def test_header_injection_and_odd_addresses_refused(mail_app, address):
    """A line break (header injection), a display name, two addresses or none: refused."""
    with pytest.raises(OutboxError):
        queue_email("hello:4", "test", address, "hello", name="A", link="x")
    assert _count() == 0


def test_subject_must_be_one_line(mail_app):
    """A template whose subject would break the header is refused."""
    with pytest.raises(OutboxError):
        render_email("broken")


def test_public_url_needs_no_request(mail_app):
    """Links in emails come from SUPPORTAPP_PUBLIC_URL, also outside any request."""
    mail_app.config["PUBLIC_URL"] = "https://news.example/sub"
    assert public_url("contribute.support") == "https://news.example/sub/support"
