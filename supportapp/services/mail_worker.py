"""Sending the outbox over SMTP: claim what is due, send it with no transaction open, record
what happened.

A batch is three short transactions around the sending:
1. claim: due `queued` messages, and `sending` ones whose worker's lease ran out, become
   `sending` under a new lease (`lease_until`), their try counted, and that commits. On
   PostgreSQL the rows are picked `FOR UPDATE SKIP LOCKED`, so workers on several machines
   each take other messages; on SQLite the same single UPDATE runs (run one worker there).
2. read the batch's attachments (if any) and end that read, then send each message over
   one SMTP connection with no transaction open: a slow mail server holds no lock and no
   connection to the database;
3. record each outcome as soon as it is known: `sent`, or `queued` again after a backoff,
   or `given_up` after the last try; only while this worker's lease still holds.
A worker that dies between 2 and 3 leaves its messages `sending`; when the lease ends they
are due again, so each message goes at least once, and at most the one in flight when a
worker was killed goes twice.
"""
import logging
import smtplib
import threading
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_mailman import EmailMultiAlternatives
from sqlalchemy import and_, or_, select, update

from supportapp.extensions import db, mail
from supportapp.models import OutboxAttachment, OutboxMessage
from supportapp.models.types import utcnow
from supportapp.services.outbox import OutboxError, check_address, check_headers

log = logging.getLogger(__name__)

BATCH_SIZE = 10
MAX_ERROR_LENGTH = 300
# Tells vacation responders and the like not to answer (RFC 3834): these are not letters.
AUTO_SUBMITTED = "auto-generated"
_TABLE = OutboxMessage.__table__
_COLUMNS = ("id", "kind", "to_address", "subject", "text_body", "html_body", "message_id",
            "headers", "attempts")


@dataclass(frozen=True)
class Outcome:
    """What became of one message: `sent`, `failed` (the server or the network said no: it
    is tried again later) or `refused` (it cannot be sent as it is: never tried again).
    `error` is kept with the message for staff; `summary` (the error's class and code,
    nothing a server echoed) goes to the log."""

    result: str
    error: str | None = None
    summary: str | None = None


SENT = Outcome("sent")


def send_due_mail(stop=None):
    """Send every message due now, a batch at a time, until none is left or `stop` (a
    threading.Event) is set; returns how many messages were handled."""
    stop = stop or threading.Event()
    config = current_app.config
    due_before = utcnow()  # a message retried during this run waits for the next one
    handled = 0
    while not stop.is_set():
        rows, lease = claim_due(due_before, config)
        if not rows:
            break
        handled += send_batch(rows, lease, config, stop)
    return handled


def _due(before):
    c = _TABLE.c
    return or_(and_(c.status == "queued", c.next_attempt_at <= before),
               and_(c.status == "sending", c.lease_until <= before))


def claim_due(due_before, config, limit=BATCH_SIZE):
    """Take up to `limit` messages due before `due_before` under a new lease, and commit;
    returns (their rows, oldest first, the lease's end)."""
    c = _TABLE.c
    # A worker that died during a message's last try leaves it here: no try is left.
    db.session.execute(
        update(_TABLE).where(c.status == "sending", c.lease_until <= due_before,
                             c.attempts >= config["MAIL_MAX_ATTEMPTS"])
        .values(status="given_up", lease_until=None,
                last_error="the worker stopped during the last try"))
    picked = (select(c.id).where(_due(due_before)).order_by(c.next_attempt_at, c.id)
              .limit(limit).with_for_update(skip_locked=True))
    lease = utcnow() + timedelta(seconds=config["MAIL_LEASE_SECONDS"])
    rows = db.session.execute(
        update(_TABLE).where(c.id.in_(picked))
        .values(status="sending", lease_until=lease, attempts=c.attempts + 1)
        .returning(*(c[name] for name in _COLUMNS))).all()
    db.session.commit()
    return sorted(rows, key=lambda row: row.id), lease


def send_batch(rows, lease, config, stop):
    """Send claimed messages over one connection, recording each outcome; returns how many
    were handled. Stops early (the rest go back to the queue) on `stop`, or once half the
    lease is gone, so that no other worker takes a message while this one still sends it."""
    files = attachments_of([row.id for row in rows])
    connection = mail.get_connection(backend="smtp", **smtp_settings(config))
    stop_starting = lease - timedelta(seconds=config["MAIL_LEASE_SECONDS"] / 2)
    try:
        connection.open()
    except (smtplib.SMTPException, OSError) as exc:
        # No server to talk to (or it would not let us in): each message's try failed.
        outcome = failure(exc, config)
        for row in rows:
            record(row, lease, outcome, config)
        return len(rows)
    try:
        for index, row in enumerate(rows):
            # The first message always goes, so that every batch gets something done.
            if stop.is_set() or (index and utcnow() >= stop_starting):
                release(rows[index:], lease)
                return index
            record(row, lease, deliver(connection, row, config, files.get(row.id, ())),
                   config)
        return len(rows)
    finally:
        connection.close()


def attachments_of(message_ids):
    """{message id: [(filename, content_type, content), ...]} for the messages that carry
    files, as plain rows (nothing left to load later); the read transaction ends here, so
    none stays open while the mail server answers."""
    a = OutboxAttachment
    rows = db.session.execute(
        select(a.message_id, a.filename, a.content_type, a.content)
        .where(a.message_id.in_(message_ids)).order_by(a.id)).all()
    db.session.commit()
    files = {}
    for row in rows:
        files.setdefault(row.message_id, []).append(row)
    return files


def smtp_settings(config):
    """Flask-Mailman's SMTP backend options, read from the app's MAIL_* settings now."""
    return {"host": config["MAIL_SERVER"], "port": config["MAIL_PORT"],
            "username": config["MAIL_USERNAME"] or "", "password": config["MAIL_PASSWORD"] or "",
            "use_tls": config["MAIL_USE_TLS"], "use_ssl": config["MAIL_USE_SSL"],
            "timeout": config["MAIL_TIMEOUT"]}


def build_message(row, config, connection=None, attachments=()):
    """The email for an outbox row: its text with the HTML as an alternative and its
    attachments (rows with filename, content_type and content), From (and Reply-To) from
    the settings, our Message-ID, and the row's own headers. Raises OutboxError for an
    address or a header that a line break would split: nothing like it reaches a header."""
    to = check_address(row.to_address)
    if any(ch in value for value in (row.subject, row.message_id) for ch in "\r\n"):
        raise OutboxError("a line break in a header")
    reply_to = [config["MAIL_REPLY_TO"]] if config["MAIL_REPLY_TO"] else None
    own = check_headers(getattr(row, "headers", None))
    message = EmailMultiAlternatives(
        subject=row.subject, body=row.text_body, from_email=config["MAIL_FROM"], to=[to],
        reply_to=reply_to, connection=connection,
        headers={**own, "Message-ID": row.message_id, "Auto-Submitted": AUTO_SUBMITTED})
    message.attach_alternative(row.html_body, "text/html")
    for attachment in attachments:
        if any(ch in attachment.filename + attachment.content_type for ch in "\r\n"):
            raise OutboxError("a line break in an attachment's name or type")
        message.attach(attachment.filename, attachment.content, attachment.content_type)
    return message


def deliver(connection, row, config, attachments=()):
    """Hand one message (with its attachments) to the mail server over `connection`; the
    Outcome. After a failure the connection is closed, and the next message opens a new
    one."""
    try:
        message = build_message(row, config, connection, attachments)
        connection.open()  # kept open for the next message (no-op while it is open)
        connection.send_messages([message])
    except (smtplib.SMTPException, OSError) as exc:
        connection.close()
        return failure(exc, config)
    except ValueError as exc:
        # OutboxError, or Flask-Mailman's own refusal of a header (BadHeaderError) or an
        # address: both come before the server is told anything of the message.
        return Outcome("refused", f"refused before sending: {exc}", "refused")
    return SENT


def failure(exc, config):
    """The Outcome of a sending error: tried again later."""
    code = error_code(exc)
    return Outcome("failed", describe_error(exc, config),
                   type(exc).__name__ + (f" {code}" if code else ""))


def error_code(exc):
    """The SMTP reply code (or the system's error number) of a sending error, if any."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        return str(next(iter(exc.recipients.values()))[0])
    if isinstance(exc, smtplib.SMTPResponseException):
        return str(exc.smtp_code)
    if isinstance(exc, OSError) and exc.errno:
        return f"errno {exc.errno}"
    return None


def describe_error(exc, config):
    """`SMTPDataError 451: try again later`: the error's class, its code and the server's
    words, short, with the mail server's user name and password blanked out if echoed."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        words = next(iter(exc.recipients.values()))[1]
    elif isinstance(exc, smtplib.SMTPResponseException):
        words = exc.smtp_error
    elif isinstance(exc, OSError) and exc.strerror:
        words = exc.strerror
    else:
        words = str(exc)
    if isinstance(words, bytes):
        words = words.decode("utf-8", "replace")
    for secret in (config.get("MAIL_PASSWORD"), config.get("MAIL_USERNAME")):
        if secret:
            words = words.replace(secret, "***")
    code = error_code(exc)
    text = f"{type(exc).__name__}{f' {code}' if code else ''}: {' '.join(words.split())}"
    return text[:MAX_ERROR_LENGTH]


def backoff_seconds(attempts, config):
    """How long to wait after try number `attempts` failed: doubling from
    MAIL_RETRY_SECONDS, never more than MAIL_RETRY_MAX_SECONDS."""
    return min(config["MAIL_RETRY_SECONDS"] * 2 ** (attempts - 1),
               config["MAIL_RETRY_MAX_SECONDS"])


def record(row, lease, outcome, config):
    """Write what became of a message, if this worker's lease on it still holds; logs one
    line (id, kind, outcome: never the address or the text)."""
    now = utcnow()
    tries = f"try {row.attempts} of {config['MAIL_MAX_ATTEMPTS']}"
    if outcome.result == "sent":
        values, line = {"status": "sent", "sent_at": now}, "sent"
    elif outcome.result == "failed" and row.attempts < config["MAIL_MAX_ATTEMPTS"]:
        delay = backoff_seconds(row.attempts, config)
        values = {"status": "queued", "last_error": outcome.error,
                  "next_attempt_at": now + timedelta(seconds=delay)}
        line = f"failed ({outcome.summary}, {tries}), next try in {delay} s"
    else:
        values = {"status": "given_up", "last_error": outcome.error}
        line = f"given up ({outcome.summary}, {tries})"
    c = _TABLE.c
    result = db.session.execute(
        update(_TABLE).where(c.id == row.id, c.status == "sending", c.lease_until == lease)
        .values(lease_until=None, **values))
    db.session.commit()
    if result.rowcount != 1:
        line += "; not recorded: another worker holds it now"
    level = logging.INFO if values["status"] in ("sent", "queued") else logging.WARNING
    log.log(level, "outbox %s %s %s", row.id, row.kind, line)


def release(rows, lease):
    """Give claimed messages that were not tried back to the queue, due as they were."""
    c = _TABLE.c
    db.session.execute(
        update(_TABLE).where(c.id.in_([row.id for row in rows]), c.status == "sending",
                             c.lease_until == lease)
        .values(status="queued", lease_until=None, attempts=c.attempts - 1))
    db.session.commit()
