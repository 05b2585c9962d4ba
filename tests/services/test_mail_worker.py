"""The worker's sending, over real SMTP (the `mail_server` fixture): headers and parts,
retries with backoff, giving up, leases, stopping, and nothing unsafe reaching a header."""
import logging
import smtplib
import socket
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from supportapp.extensions import db
from supportapp.models import OutboxMessage
from supportapp.models.types import utcnow
from supportapp.services.mail_worker import (
    backoff_seconds,
    claim_due,
    describe_error,
    send_batch,
    send_due_mail,
)
from supportapp.services.outbox import queue_email

READER = "reader@example.com"


def _queue(template, count=1, to=READER, start=1):
    for n in range(start, start + count):
        assert queue_email(f"note:{n}", "test", to, template, n=n,
                           link=f"https://news.example/notes/{n}?a=1&b=2")
    db.session.commit()


def _messages():
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def _make_due():
    """As if the backoff had passed: every queued message is due now."""
    db.session.execute(update(OutboxMessage).where(OutboxMessage.status == "queued")
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_queued_message_arrives_with_headers_and_both_parts(app, mail_server, note_template):
    """One message: To, From, Reply-To, our Message-ID, the subject, text and HTML parts."""
    app.config["MAIL_REPLY_TO"] = "Letters <letters@harbour-ledger.example>"
    _queue(note_template)
    assert send_due_mail() == 1
    [row] = _messages()
    [received] = mail_server.messages()
    assert received["To"] == READER
    assert received["From"] == app.config["MAIL_FROM"]
    assert received["Reply-To"] == "Letters <letters@harbour-ledger.example>"
    assert received["Message-ID"] == row.message_id
    assert received["Subject"] == "Note 1"
    assert received["Auto-Submitted"] == "auto-generated"
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert "Note 1: https://news.example/notes/1?a=1&b=2" in text
    assert 'href="https://news.example/notes/1?a=1&amp;b=2"' in html and "<h1" in html
    assert (row.status, row.attempts, row.lease_until, row.last_error) == ("sent", 1, None, None)
    assert row.sent_at is not None


def test_no_reply_to_header_unless_set(app, mail_server, note_template):
    """Without SUPPORTAPP_MAIL_REPLY_TO the message has no Reply-To."""
    _queue(note_template)
    send_due_mail()
    [received] = mail_server.messages()
    assert received["Reply-To"] is None


def test_each_message_goes_once(app, mail_server, note_template):
    """Twelve messages (more than a batch) arrive once each; a second run sends nothing."""
    _queue(note_template, count=12)
    assert send_due_mail() == 12
    assert send_due_mail() == 0
    assert sorted(mail_server.message_ids().values()) == [1] * 12
    assert {m.status for m in _messages()} == {"sent"}


def test_smtp_down_keeps_messages_queued_with_backoff(app, mail_server, note_template):
    """Nothing listening: each message stays queued, its try counted, the next one later
    and later (60 s, then 120 s), with the reason kept."""
    app.config["MAIL_PORT"] = _closed_port()
    _queue(note_template, count=2)
    before = utcnow()
    send_due_mail()
    rows = _messages()
    assert [(m.status, m.attempts) for m in rows] == [("queued", 1)] * 2
    for row in rows:
        assert row.last_error.startswith("ConnectionRefusedError errno 111: ")
        assert before + timedelta(seconds=60) <= row.next_attempt_at
        assert row.next_attempt_at <= utcnow() + timedelta(seconds=60)
    _make_due()
    before = utcnow()
    send_due_mail()
    for row in _messages():
        assert (row.status, row.attempts) == ("queued", 2)
        assert before + timedelta(seconds=120) <= row.next_attempt_at
    assert mail_server.count() == 0


@pytest.mark.parametrize("at, reply, error", [
    ("RCPT", "550 5.1.1 Mailbox unavailable", "SMTPRecipientsRefused 550: 5.1.1 Mailbox"),
    ("DATA", "451 4.3.0 Try again later", "SMTPDataError 451: 4.3.0 Try again later"),
    ("DATA", "554 5.7.1 Message refused", "SMTPDataError 554: 5.7.1 Message refused"),
])
def test_refusing_server_keeps_message_queued(app, mail_server, note_template, at, reply,
                                               error):
    """A server that answers 5xx or 4xx: the message waits for its next try, with the
    error's class, code and words."""
    mail_server.refuse(reply, at=at)
    _queue(note_template)
    send_due_mail()
    [row] = _messages()
    assert (row.status, row.attempts) == ("queued", 1)
    assert row.last_error.startswith(error)
    assert row.next_attempt_at > utcnow()


def test_delivered_once_the_server_takes_it_again(app, mail_server, note_template):
    """Refused, then accepted on the next try: it arrives once, after two tries."""
    mail_server.refuse("451 4.3.0 Try again later", at="DATA")
    _queue(note_template)
    send_due_mail()
    mail_server.accept()
    assert send_due_mail() == 0  # not due yet
    _make_due()
    send_due_mail()
    [row] = _messages()
    assert (row.status, row.attempts) == ("sent", 2)
    assert list(mail_server.message_ids().values()) == [1]


def test_given_up_after_the_last_try_with_the_reason(app, mail_server, note_template):
    """After MAIL_MAX_ATTEMPTS failed tries the message is given up, the reason kept, and
    no worker tries it again."""
    app.config["MAIL_MAX_ATTEMPTS"] = 3
    mail_server.refuse("550 5.1.1 Mailbox unavailable")
    _queue(note_template)
    for _ in range(3):
        send_due_mail()
        _make_due()
    [row] = _messages()
    assert (row.status, row.attempts) == ("given_up", 3)
    assert row.last_error.startswith("SMTPRecipientsRefused 550")
    mail_server.accept()
    assert send_due_mail() == 0
    assert mail_server.count() == 0


def test_backoff_doubles_up_to_its_cap(app):
    """Waits after each failed try: 60, 120, 240 ... seconds, never more than the cap."""
    config = {"MAIL_RETRY_SECONDS": 60, "MAIL_RETRY_MAX_SECONDS": 4 * 3600}
    waits = [backoff_seconds(n, config) for n in range(1, 12)]
    assert waits == [60, 120, 240, 480, 960, 1920, 3840, 7680, 14400, 14400, 14400]


@pytest.mark.parametrize("field, value", [
    ("to_address", "reader@example.com\r\nBcc: everyone@evil.example"),
    ("to_address", "reader@example.com\nX-Injected: 1"),
    ("to_address", "Reader <reader@example.com>"),
    ("subject", "Thanks\r\nBcc: everyone@evil.example"),
    ("subject", "Thanks\nX-Injected: 1"),
    ("message_id", "<a@b.example>\r\nBcc: everyone@evil.example"),
])
def test_header_injection_never_reaches_a_header(app, mail_server, note_template, field,
                                                 value):
    """A row that somehow holds a line break in To, Subject or Message-ID (queue_email
    refuses them) is given up untried; the messages beside it still go."""
    _queue(note_template, count=3)
    db.session.execute(update(OutboxMessage).where(OutboxMessage.key == "note:2")
                       .values({field: value}))
    db.session.commit()
    send_due_mail()
    by_key = {m.key: m for m in _messages()}
    assert by_key["note:2"].status == "given_up"
    assert by_key["note:2"].last_error.startswith("refused before sending")
    assert by_key["note:1"].status == by_key["note:3"].status == "sent"
    received = mail_server.messages()
    assert sorted(m["Subject"] for m in received) == ["Note 1", "Note 3"]
    for message in received:
        assert message["Bcc"] is None and message["X-Injected"] is None
    assert b"evil.example" not in b"".join(p.read_bytes() for p in mail_server.folder.iterdir())


def test_expired_lease_is_sent_again_a_held_one_is_not(app, mail_server, note_template):
    """A message whose worker died (lease over) is due again; one still held is left."""
    _queue(note_template, count=2)
    past, future = utcnow() - timedelta(seconds=1), utcnow() + timedelta(minutes=5)
    for key, lease in (("note:1", past), ("note:2", future)):
        db.session.execute(update(OutboxMessage).where(OutboxMessage.key == key)
                           .values(status="sending", lease_until=lease, attempts=1))
    db.session.commit()
    assert send_due_mail() == 1
    by_key = {m.key: m for m in _messages()}
    assert (by_key["note:1"].status, by_key["note:1"].attempts) == ("sent", 2)
    assert (by_key["note:2"].status, by_key["note:2"].attempts) == ("sending", 1)


def test_worker_dying_on_the_last_try_gives_up(app, mail_server, note_template):
    """A message whose worker died during its last allowed try is given up, not resent."""
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    _queue(note_template)
    db.session.execute(update(OutboxMessage).values(
        status="sending", attempts=2, lease_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    send_due_mail()
    [row] = _messages()
    assert row.status == "given_up" and "stopped during the last try" in row.last_error
    assert mail_server.count() == 0


def test_stop_finishes_the_message_in_flight_and_releases_the_rest(app, mail_server,
                                                                     note_template):
    """Told to stop while sending: the message in flight is sent and recorded; the rest of
    the batch go back to the queue untried, due at once."""
    _queue(note_template, count=5)
    stop = threading.Event()
    original = mail_server.handler.handle_DATA

    async def stop_during_first(server, session, envelope):
        stop.set()  # as SIGTERM would, while this message is being sent
        return await original(server, session, envelope)

    mail_server.handler.handle_DATA = stop_during_first
    assert send_due_mail(stop) == 1
    rows = _messages()
    assert [(m.status, m.attempts) for m in rows] == [("sent", 1)] + [("queued", 0)] * 4
    assert all(m.lease_until is None and m.next_attempt_at <= utcnow() for m in rows[1:])
    assert mail_server.count() == 1


def test_batch_stops_starting_sends_when_half_the_lease_is_gone(app, mail_server,
                                                                  note_template):
    """A slow server: once half the lease has passed no further message of the batch is
    started (another worker may take them when the lease ends); they go back to the queue."""
    app.config["MAIL_LEASE_SECONDS"] = 1
    mail_server.slow_down(0.6)
    _queue(note_template, count=3)
    rows, lease = claim_due(utcnow(), app.config)
    assert send_batch(rows, lease, app.config, threading.Event()) == 1
    assert [m.status for m in _messages()] == ["sent", "queued", "queued"]


def test_one_log_line_per_message_without_address_or_text(app, mail_server, note_template,
                                                          caplog):
    """Each message logs one line with its id, kind and outcome; never the address, the
    subject or the body."""
    caplog.set_level(logging.INFO, logger="supportapp.services.mail_worker")
    _queue(note_template, count=2, to="private.person@example.com")
    mail_server.refuse("451 4.3.0 Try again later for private.person@example.com", at="DATA")
    send_due_mail()
    mail_server.accept()
    _make_due()
    send_due_mail()
    lines = [r.getMessage() for r in caplog.records if r.name.endswith("mail_worker")]
    ids = [m.id for m in _messages()]
    assert lines == [
        f"outbox {ids[0]} test failed (SMTPDataError 451, try 1 of 12), next try in 60 s",
        f"outbox {ids[1]} test failed (SMTPDataError 451, try 1 of 12), next try in 60 s",
        f"outbox {ids[0]} test sent", f"outbox {ids[1]} test sent"]
    assert "private.person" not in caplog.text and "Note" not in caplog.text


def test_error_text_never_carries_the_mail_credentials(app):
    """A server that echoes the user name or password: both are blanked in the error kept."""
    config = {"MAIL_USERNAME": "apikey-user", "MAIL_PASSWORD": "s3cr3t-pass"}
    error = smtplib.SMTPAuthenticationError(535, b"5.7.8 apikey-user/s3cr3t-pass not accepted")
    assert describe_error(error, config) == \
        "SMTPAuthenticationError 535: 5.7.8 ***/*** not accepted"


class _SilentSmtp:
    """A port that takes connections and never answers: an SMTP server that hangs."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.accepted.append(self.sock.accept()[0])
            except OSError:
                return

    def connections_before_ours(self):
        """How many connections came before one we open now (they are accepted in order)."""
        with socket.create_connection(("127.0.0.1", self.port)) as ours:
            mine = ours.getsockname()
            deadline = time.monotonic() + 10
            while mine not in (peers := [c.getpeername() for c in list(self.accepted)]):
                assert time.monotonic() < deadline, "our own connection was never accepted"
                time.sleep(0.01)
            return peers.index(mine)

    def close(self):
        self.sock.close()
        for connection in self.accepted:
            connection.close()


@pytest.mark.parametrize("smtp", ["down", "hanging"])
def test_a_request_that_queues_email_never_waits_for_smtp(app, client, note_template, smtp):
    """A request that queues an email answers at once with the mail server down, or hanging
    on every connection; it never even connects to it: the worker sends later."""
    silent = _SilentSmtp()
    if smtp == "down":
        silent.close()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=silent.port)

    def tell_reader():
        queue_email("told:1", "test", READER, note_template, n=1, link="https://x.example/")
        db.session.commit()
        return "told"

    app.add_url_rule("/_test/tell", view_func=tell_reader, methods=["POST"])
    response = client.post("/_test/tell")
    assert response.status_code == 200 and response.text == "told"
    assert [(m.key, m.status) for m in _messages()] == [("told:1", "queued")]
    if smtp == "hanging":
        assert silent.connections_before_ours() == 0
        silent.close()
