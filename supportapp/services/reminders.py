""""Remind me later": a reader asks for one email in a month they choose, and gets it then.

Signing up keeps the address, the month (the first day of it) and the story, appeal and
variant the reader came from. From the first day of that month (the app's clock,
services/clock.py) the worker's job `send_due_reminders` writes the email into the outbox in
the same transaction that marks the reminder sent, so it goes once, whichever worker takes
it (FOR UPDATE SKIP LOCKED on PostgreSQL) and however late a worker that was down starts.

The email's link to /support carries the story, the variant and a signed reference to the
reminder (nothing personal); a gift made from it keeps the reference in its checkout
metadata, and reports count it as won by that reminder when it is paid within
GIFT_WINDOW of the sending.

Every reminder carries a one-click unsubscribe (RFC 8058): a signed token naming that
reminder. Its first use stops every reminder of that address not yet sent; using it again,
or a token that is forged, changes nothing. Receipts never look at it: they are not
marketing (services/receipts.py).
"""
import logging
import re
import threading
from dataclasses import dataclass
from datetime import date, timedelta

from babel.dates import format_date
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import exists, func, select, update

from supportapp.extensions import db
from supportapp.models import Contribution, Reminder, Story
from supportapp.models.dialect import dialect_insert
from supportapp.services.clock import current_time
from supportapp.services.contributions import attribution
from supportapp.services.outbox import OutboxError, check_address, public_url, queue_email
from supportapp.services.supporter_email import email_digest, normalise_email

log = logging.getLogger(__name__)

MONTHS_AHEAD = 12  # the furthest month a reader may choose, counted from this one
GIFT_WINDOW = timedelta(days=14)  # a gift this soon after its reminder was won by it
BATCH_SIZE = 50
EMAIL_KIND = "reminder"
MAX_EMAIL_LENGTH = 254
_MONTH_RE = re.compile(r"([0-9]{4})-([0-9]{2})")
_REFERENCE_SALT = "supportapp.reminder-reference"
_UNSUBSCRIBE_SALT = "supportapp.reminder-unsubscribe"
_MAX_TOKEN_LENGTH = 200
_EMAIL_TAG_LENGTH = 16
ONE_CLICK = "List-Unsubscribe=One-Click"  # RFC 8058's body and List-Unsubscribe-Post value


class ReminderRefused(ValueError):
    """A sign-up that cannot be kept: `field` ("email" or "month") and a message to show."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field
        self.message = message


class AlreadyAsked(ReminderRefused):
    """The address already has a reminder for that month: it gets that one, no second."""

    def __init__(self, month):
        super().__init__("month", f"This address already has a reminder for "
                                  f"{month_label(month)}: we will send it just the one.")
        self.month = month


class UnsubscribeRefused(ValueError):
    """An unsubscribe token that is not ours, or names no reminder any more."""


def first_of_month(day):
    """The first day of `day`'s month."""
    return day.replace(day=1)


def add_months(month, count):
    """The first day of the month `count` months after the month of `month`."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def this_month(now=None):
    """The first day of the current month on the app's clock."""
    return first_of_month((now or current_time()).date())


def months_offered(now=None):
    """The months a reader may choose, in order: next month to MONTHS_AHEAD months ahead."""
    current = this_month(now)
    return [add_months(current, n) for n in range(1, MONTHS_AHEAD + 1)]


def next_month(now=None):
    """The first month offered (the appeal's "Remind me in <next month>")."""
    return add_months(this_month(now), 1)


def month_name(month):
    """"January": the month alone, as the appeal says it."""
    return format_date(month, "MMMM", locale="en")


def month_label(month):
    """"January 2027"."""
    return format_date(month, "MMMM y", locale="en")


def month_value(month):
    """"2027-01": the month as a form or link value."""
    return f"{month.year:04d}-{month.month:02d}"


def parse_month(text):
    """The first day of the month written "2027-01", else None."""
    found = _MONTH_RE.fullmatch(text or "") if isinstance(text, str) else None
    if not found:
        return None
    year, month = int(found[1]), int(found[2])
    return date(year, month, 1) if 1 <= month <= 12 and year >= 1 else None


def check_month(text, now=None):
    """The month chosen, if it can be offered now; raises ReminderRefused saying which
    months can."""
    month = parse_month(text)
    offered = months_offered(now)
    first, last = offered[0], offered[-1]
    choose = f"choose a month from {month_label(first)} to {month_label(last)}"
    if month is None:
        raise ReminderRefused("month", f"Please {choose}.")
    if month < this_month(now):
        raise ReminderRefused("month", f"{month_label(month)} has passed: {choose}.")
    if month < first:
        raise ReminderRefused("month", f"It is {month_label(month)} already: {choose}.")
    if month > last:
        raise ReminderRefused("month", f"{month_label(month)} is more than {MONTHS_AHEAD} "
                                       f"months ahead: {choose}.")
    return month


def _address(email):
    """The address as kept: one plain address, lower-cased; raises ReminderRefused."""
    try:
        address = check_address(email)
    except OutboxError as exc:
        raise ReminderRefused("email", "Enter one email address, like name@example.com.") \
            from exc
    if len(address) > MAX_EMAIL_LENGTH or address.count("@") != 1 \
            or not all(address.partition("@")[::2]):
        raise ReminderRefused("email", "Enter one email address, like name@example.com.")
    return normalise_email(address)


@dataclass(frozen=True)
class SignedUp:
    """A reminder kept: its id and month."""

    reminder_id: int
    month: date


def sign_up(email, month_text, story=None, appeal=None, variant=None, reader_id=None):
    """Keep a reminder for `email` in the chosen month, with the story, appeal and variant
    the reader came from (what names nothing real is dropped), and commit.

    Raises ReminderRefused for an address or a month that cannot be kept, and AlreadyAsked
    when the address already has a reminder for that month (nothing changes then).
    """
    now = current_time()
    month = check_month(month_text, now)
    address = _address(email)
    credited = attribution({"story": story, "appeal": appeal, "variant": variant,
                            "reader": reader_id})
    came_from = {name: credited[name] for name in ("story_id", "appeal_id", "variant_id",
                                                   "reader_id")}
    statement = dialect_insert(Reminder).values(
        email=address, month=month, created_at=now, **came_from,
    ).on_conflict_do_nothing(index_elements=["email", "month"]).returning(Reminder.id)
    reminder_id = db.session.execute(statement).scalar()
    db.session.commit()
    if reminder_id is None:
        raise AlreadyAsked(month)
    return SignedUp(reminder_id, month)


def _serializer(salt):
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def reference(reminder_id):
    """The signed reference to a reminder that its /support link carries (no address)."""
    return _serializer(_REFERENCE_SALT).dumps(reminder_id)


def reminder_from_reference(text):
    """The reminder id a link's reference names, or None when it is not one of ours."""
    if not isinstance(text, str) or not text or len(text) > _MAX_TOKEN_LENGTH:
        return None
    try:
        value = _serializer(_REFERENCE_SALT).loads(text)
    except BadSignature:
        return None
    return value if type(value) is int and value > 0 else None


def _email_tag(email):
    # Binds a token to the address as well as the id: a token is never good for a reminder
    # that some day got the same id but belongs to someone else.
    return email_digest(email)[-_EMAIL_TAG_LENGTH:]


def unsubscribe_token(reminder):
    """The signed token of a reminder's unsubscribe link."""
    return _serializer(_UNSUBSCRIBE_SALT).dumps([reminder.id, _email_tag(reminder.email)])


def unsubscribe_url(reminder):
    """The absolute unsubscribe link of a reminder (the header's and the footer's)."""
    return public_url("reminders.unsubscribe", token=unsubscribe_token(reminder))


def unsubscribe_headers(reminder):
    """List-Unsubscribe and List-Unsubscribe-Post (RFC 8058): mail programs offer their own
    one-click "unsubscribe", which POSTs `List-Unsubscribe=One-Click` to the URL."""
    return {"List-Unsubscribe": f"<{unsubscribe_url(reminder)}>",
            "List-Unsubscribe-Post": ONE_CLICK}


def _reminder_of_token(token):
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_LENGTH:
        raise UnsubscribeRefused("not a token of ours")
    try:
        value = _serializer(_UNSUBSCRIBE_SALT).loads(token)
    except BadSignature as exc:
        raise UnsubscribeRefused("not a token of ours") from exc
    if not (isinstance(value, list) and len(value) == 2 and type(value[0]) is int):
        raise UnsubscribeRefused("not a token of ours")
    reminder = db.session.scalars(
        select(Reminder).where(Reminder.id == value[0]).with_for_update()
        .execution_options(populate_existing=True)).first()
    if reminder is None or _email_tag(reminder.email) != value[1]:
        raise UnsubscribeRefused("names no reminder here")
    return reminder


def check_unsubscribe(token):
    """True when the token is good and its reminder still subscribed, False when it was
    used already; raises UnsubscribeRefused for a token that opens nothing. Changes
    nothing (for the page that asks to confirm)."""
    try:
        return _reminder_of_token(token).unsubscribed_at is None
    finally:
        db.session.rollback()


def unsubscribe(token):
    """Stop the reminders of the token's address: its own, and every one not sent yet;
    commits. True when this did it, False when the token was used before (nothing
    changes). Raises UnsubscribeRefused for a forged token or one naming no reminder."""
    try:
        reminder = _reminder_of_token(token)
    except UnsubscribeRefused:
        db.session.rollback()
        raise
    if reminder.unsubscribed_at is not None:
        db.session.rollback()
        return False
    now = current_time()
    reminder.unsubscribed_at = now
    db.session.execute(
        update(Reminder).where(Reminder.email == reminder.email, Reminder.sent_at.is_(None),
                               Reminder.unsubscribed_at.is_(None))
        .values(unsubscribed_at=now).execution_options(synchronize_session=False))
    db.session.commit()
    log.info("reminder %s: unsubscribed", reminder.id)
    return True


def support_link(reminder, slug):
    """The reminder's link to /support: story, appeal, variant and the signed reference."""
    values = {"story": slug, "appeal": reminder.appeal_id, "variant": reminder.variant_id,
              "reminder": reference(reminder.id)}
    return public_url("contribute.support",
                      **{name: value for name, value in values.items() if value})


def _queue(reminder, now):
    story = db.session.get(Story, reminder.story_id) if reminder.story_id else None
    queue_email(f"reminder:{reminder.id}", EMAIL_KIND, reminder.email, "reminder",
                headers=unsubscribe_headers(reminder), month=month_label(reminder.month),
                asked_on=format_date(reminder.created_at.date(), "long", locale="en"),
                story_title=story.title if story and not story.is_external else None,
                link=support_link(reminder, story.slug if story else None),
                unsubscribe=unsubscribe_url(reminder))
    reminder.sent_at = now


def gave_since(email, moment):
    """Whether the address has a gift paid at or after `moment`."""
    return db.session.scalar(select(exists().where(
        func.lower(Contribution.email) == normalise_email(email),
        Contribution.paid_at >= moment)))


def send_due_reminders(stop=None):
    """The worker's job: write into the outbox every reminder due this month and not sent or
    unsubscribed, each in the transaction that marks it sent, except to an address that gave
    since asking (marked skipped); returns how many were written."""
    stop = stop or threading.Event()
    now = current_time()
    month = this_month(now)
    written = 0
    while not stop.is_set():
        due = db.session.scalars(
            select(Reminder).where(Reminder.month == month, Reminder.sent_at.is_(None),
                                   Reminder.unsubscribed_at.is_(None),
                                   Reminder.skipped_at.is_(None))
            .order_by(Reminder.id).limit(BATCH_SIZE).with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)).all()
        if not due:
            db.session.rollback()
            break
        queued = 0
        for reminder in due:
            if gave_since(reminder.email, reminder.created_at):
                reminder.skipped_at = now
            else:
                _queue(reminder, now)
                queued += 1
        db.session.commit()
        written += queued
        log.info("reminders: %d written, %d not needed (gave since asking) for %s", queued,
                 len(due) - queued, month_value(month))
    return written
