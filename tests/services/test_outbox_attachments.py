"""Files sent with an outbox message: written with it once, sent by the worker over real
SMTP with no transaction open, and never a line break in a MIME header."""
import pytest
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import OutboxAttachment, OutboxMessage
from supportapp.services import mail_worker
from supportapp.services.mail_worker import send_due_mail
from supportapp.services.outbox import Attachment, OutboxError, queue_email

READER = "reader@example.com"
FILES = [Attachment("one.pdf", "application/pdf", b"%PDF-1.4 first"),
         Attachment("two.bin", "application/octet-stream", b"\x00\x01\r\n\xff")]


def _queue(note_template, key="note:1", attachments=FILES):
    written = queue_email(key, "test", READER, note_template, n=1, link="https://x.example/",
                          attachments=attachments)
    db.session.commit()
    return written


def test_files_are_written_once_with_their_message(app, note_template):
    """The same key twice: one message, its files once."""
    assert _queue(note_template) is True
    assert _queue(note_template) is False
    rows = db.session.scalars(select(OutboxAttachment).order_by(OutboxAttachment.id)).all()
    message_id = db.session.scalar(select(OutboxMessage.id))
    assert [(r.message_id, r.filename, r.content_type, r.content) for r in rows] == [
        (message_id, f.filename, f.content_type, f.content) for f in FILES]


def test_files_arrive_attached_and_no_transaction_is_open_while_sending(
        app, mail_server, note_template, monkeypatch):
    """The worker attaches each file with its name and type; while it talks to the mail
    server, the database session holds no transaction."""
    _queue(note_template)
    _queue(note_template, key="note:plain", attachments=())
    real_deliver, open_during_send = mail_worker.deliver, []

    def watched(connection, row, config, attachments=()):
        open_during_send.append(db.session().in_transaction())
        return real_deliver(connection, row, config, attachments)

    monkeypatch.setattr(mail_worker, "deliver", watched)
    assert send_due_mail() == 2
    assert open_during_send == [False, False]
    with_files, plain = mail_server.messages()
    assert with_files.get_content_type() == "multipart/mixed"
    assert with_files.get_body(("plain",)).get_content().startswith("The Harbour Ledger")
    assert [(a.get_filename(), a.get_content_type(), a.get_content())
            for a in with_files.iter_attachments()] == [
        (f.filename, f.content_type, f.content) for f in FILES]
    assert plain.get_content_type() == "multipart/alternative"


@pytest.mark.parametrize("name, kind", [("a\r\nBcc: x@evil.example", "application/pdf"),
                                        ("", "application/pdf"),
                                        ("a.pdf", "application/pdf\nX-Evil: 1")])
def test_a_line_break_in_a_file_header_is_refused(name, kind):
    with pytest.raises(OutboxError):
        Attachment(name, kind, b"")


def test_a_stored_file_name_with_a_line_break_is_never_sent(app, mail_server, note_template):
    """A name that got into the table some other way: the message is refused, not sent."""
    _queue(note_template, attachments=[Attachment("ok.pdf", "application/pdf", b"x")])
    db.session.execute(OutboxAttachment.__table__.update().values(
        filename="ok.pdf\r\nBcc: x@evil.example"))
    db.session.commit()
    assert send_due_mail() == 1
    assert mail_server.count() == 0
    message = db.session.scalar(select(OutboxMessage))
    db.session.refresh(message)
    assert message.status == "given_up" and "refused before sending" in message.last_error

