"""A real SMTP server for tests (a pytest plugin, see tests/conftest.py): the `mail_server`
fixture.

It is the local mail server of `make run` (devmail, aiosmtpd) on a free loopback port,
keeping what arrives in the test's own folder; the app's MAIL_* settings point at it. What
the app sends arrives over SMTP, and a test reads it back parsed with the `email` package:

    def test_something(app, mail_server):
        ...queue an email, commit...
        send_due_mail()                      # the worker's own code, in this process
        [message] = mail_server.messages()   # email.message.EmailMessage
        assert message["To"] == "reader@example.com"

A worker run as a real process (`flask --app app worker`) reaches it at `mail_server.url`
(pass it as SUPPORTAPP_MAIL_URL). `refuse(...)` makes it answer with an error instead.
"""
import asyncio
import email
import email.policy
import time
from collections import Counter

import pytest
from jinja2 import ChoiceLoader, DictLoader

from devmail import MailFolder, start_server

# A plain message for tests that need mail to send but not any particular email of the app:
# queue_email(key, "test", to, "test_note", n=1, link="https://...").
NOTE_TEMPLATES = {
    "email/test_note.txt": '{% extends "email/_base.txt" %}{% set subject = "Note " ~ n %}'
                           "{% block content %}Note {{ n }}: {{ link }}{% endblock %}",
    "email/test_note.html": '{% extends "email/_base.html" %}{% block content %}'
                            '<h1>Note {{ n }}</h1><p><a class="button" href="{{ link }}">Open</a>'
                            "</p>{% endblock %}",
}


class _TestMailFolder(MailFolder):
    """The devmail handler, which can also refuse, or take its time over, each message."""

    refuse_at = None  # "RCPT" or "DATA"
    refusal = None  # e.g. "550 5.1.1 Mailbox unavailable"
    delay = 0.0
    data_started = 0  # messages whose DATA began, counted before any delay

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_at == "RCPT":
            return self.refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_started += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refuse_at == "DATA":
            return self.refusal
        return await super().handle_DATA(server, session, envelope)


class TestMailServer:
    """A running devmail server with what a test needs to read or steer it."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, folder):
        self.handler = _TestMailFolder(folder)
        self.folder = self.handler.folder
        self._server = start_server(folder, port=0, handler=self.handler)
        self.host, self.port = "127.0.0.1", self._server.port
        self.url = self._server.url

    def messages(self):
        """Every message received, oldest first, parsed (email.message.EmailMessage)."""
        return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                for path in sorted(self.folder.glob("*.eml"))]

    def message_ids(self):
        """How many times each Message-ID arrived."""
        return Counter(message["Message-ID"] for message in self.messages())

    def count(self):
        return sum(1 for _ in self.folder.glob("*.eml"))

    def wait_for(self, count, timeout=30):
        """Wait until at least `count` messages arrived; False if they did not in time."""
        deadline = time.monotonic() + timeout
        while self.count() < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def refuse(self, reply, at="RCPT"):
        """Answer every message with `reply` ("550 ...", "451 ...") at RCPT or DATA."""
        self.handler.refuse_at, self.handler.refusal = at, reply

    def accept(self):
        self.handler.refuse_at = self.handler.refusal = None

    def slow_down(self, seconds):
        """Take `seconds` over each message's DATA before answering."""
        self.handler.delay = seconds

    def stop(self):
        self._server.stop()


def point_app_at(app, host, port):
    """Make the app's mail settings name this SMTP server (plain SMTP, no login)."""
    app.config.update(MAIL_SERVER=host, MAIL_PORT=port, MAIL_USE_TLS=False,
                      MAIL_USE_SSL=False, MAIL_USERNAME=None, MAIL_PASSWORD=None)


@pytest.fixture
def mail_server(app, tmp_path):
    """A real SMTP server on a free port for this test, the app's MAIL_* settings pointing
    at it; what arrives is kept in tmp_path/"mail" and read with `.messages()`."""
    server = TestMailServer(tmp_path / "mail")
    point_app_at(app, server.host, server.port)
    yield server
    server.stop()


@pytest.fixture
def note_template(app):
    """The test template `test_note` (subject "Note <n>", a link), known to the app."""
    app.jinja_env.loader = ChoiceLoader([DictLoader(NOTE_TEMPLATES), app.jinja_env.loader])
    app.jinja_env.cache = {}
    return "test_note"
