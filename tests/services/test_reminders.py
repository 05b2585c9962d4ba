""""Remind me later" in the services: which months can be chosen, one reminder per address
and month, the worker's job sending it once in its month, the unsubscribe token, and the
reminder's part in the funnel."""
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from supportapp.extensions import db
from supportapp.models import Appeal, AppealVariant, Contribution, OutboxMessage, Reminder
from supportapp.services import reminders
from supportapp.services.appeals import save_appeal
from supportapp.services.clock import current_time, move_clock
from supportapp.services.mail_worker import send_due_mail
from supportapp.services.outbox import OutboxError, queue_email
from supportapp.services.periods import Period
from supportapp.services.receipts import queue_payment_emails
from supportapp.services.reminders import (
    AlreadyAsked,
    ReminderRefused,
    UnsubscribeRefused,
    add_months,
    month_value,
    send_due_reminders,
    sign_up,
    this_month,
    unsubscribe,
    unsubscribe_token,
)
from supportapp.services.reports import stories_table, story_report, variants_table
from supportapp.services.worker import JOBS, run_due_jobs


@pytest.fixture
def drive(app, make_story):
    appeal = Appeal(name="Drive", status="live", placement_paragraph=2, target_sections=[],
                    excluded_sections=[])
    for name in ("control", "urgent"):
        appeal.variants.append(AppealVariant(
            name=name, heading=f"Since you're here ({name})", body="<p>Help us report.</p>",
            cta_label="Give", preset_amounts={}, default_frequency="monthly", weight=1,
            is_control=name == "control"))
    save_appeal(appeal)
    story = make_story(slug="harbour-dredging", title="Dredging the harbour")
    return {"appeal": appeal, "control": appeal.variants[0], "urgent": appeal.variants[1],
            "story": story}


def _ask(email="reader@example.com", months=1, drive=None, variant="control"):
    """Sign `email` up for the month `months` ahead, from the drive's story and variant."""
    month = month_value(add_months(this_month(), months))
    if drive is None:
        return sign_up(email, month)
    return sign_up(email, month, drive["story"].slug, str(drive["appeal"].id),
                   str(drive[variant].id), "r" * 22)


def _reminders():
    db.session.rollback()
    return db.session.scalars(select(Reminder).order_by(Reminder.id)).all()


def _move_to(month, day=2, hour=8):
    """Move the app's clock to `day` of `month` (a date, the first of a month)."""
    target = datetime(month.year, month.month, day, hour, tzinfo=UTC)
    move_clock(target - current_time())


def _outbox(kind="reminder"):
    db.session.rollback()
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                              .order_by(OutboxMessage.id)).all()


# --- months -------------------------------------------------------------------------------

def test_months_offered_run_from_next_month_to_a_year_ahead(app):
    offered = reminders.months_offered()
    now = this_month()
    assert len(offered) == 12
    assert offered[0] == add_months(now, 1) and offered[-1] == add_months(now, 12)
    assert all(m.day == 1 for m in offered)
    assert add_months(datetime(2026, 12, 1).date(), 1) == datetime(2027, 1, 1).date()


@pytest.mark.parametrize("months, says", [
    (-1, "has passed"), (-14, "has passed"), (0, "already"), (13, "more than 12 months ahead"),
    (40, "more than 12 months ahead"),
])
def test_a_month_outside_the_offer_is_refused_and_nothing_kept(app, months, says):
    """Bad input: a month in the past, this month, or more than 12 months ahead."""
    with pytest.raises(ReminderRefused) as refused:
        _ask(months=months)
    assert refused.value.field == "month"
    assert says in refused.value.message
    first, last = (reminders.month_label(m) for m in reminders.months_offered()[::11])
    assert f"choose a month from {first} to {last}" in refused.value.message
    assert _reminders() == []


@pytest.mark.parametrize("text", ["", "2027", "2027-13", "2027-00", "27-01", "2027-1",
                                  "2027-01-01", "０２０２７-01", "2027-01\n", None, 202701])
def test_a_month_that_is_not_a_month_is_refused(app, text):
    with pytest.raises(ReminderRefused):
        sign_up("reader@example.com", text)
    assert _reminders() == []


def test_the_clock_decides_which_months_are_offered(app):
    """"Next month" is the app's clock's: moved a month on, last month's choice has passed."""
    _ask(months=1)
    move_clock(timedelta(days=32))
    with pytest.raises(ReminderRefused):
        _ask(email="later@example.com", months=0)


# --- addresses ----------------------------------------------------------------------------

@pytest.mark.parametrize("email", [
    "not an address", "reader@", "@example.com", "a@b@example.com", "",
    "reader@example.com\r\nBcc: victim@example.com", "reader@example.com\nBcc: x@example.com",
    "Reader <reader@example.com>", "reader@example.com, other@example.com",
    "x" * 250 + "@example.com",
])
def test_a_malformed_address_or_a_header_injection_is_refused(app, email):
    """Bad input: nothing that is not one plain address is kept (or could reach a header)."""
    with pytest.raises(ReminderRefused) as refused:
        _ask(email=email)
    assert refused.value.field == "email"
    assert _reminders() == []


def test_a_second_sign_up_for_the_same_address_and_month_keeps_one(app, drive):
    """Bad input: the same address and month again (in another case, from another variant)
    says so and keeps the first; another month is another reminder."""
    first = _ask(drive=drive)
    with pytest.raises(AlreadyAsked) as again:
        _ask(email=" Reader@Example.COM ", drive=drive, variant="urgent")
    assert reminders.month_label(first.month) in again.value.message
    assert "already has a reminder" in again.value.message
    _ask(months=2, drive=drive)
    rows = _reminders()
    assert [(r.email, r.month, r.variant_id) for r in rows] == [
        ("reader@example.com", first.month, drive["control"].id),
        ("reader@example.com", add_months(first.month, 1), drive["control"].id)]


def test_a_sign_up_keeps_where_the_reader_came_from_and_drops_what_is_not_real(app, drive):
    _ask(drive=drive)
    sign_up("other@example.com", month_value(add_months(this_month(), 1)), "no-such-story",
            "999999", str(drive["control"].id), "not a reader id!")
    mine, other = _reminders()
    assert (mine.story_id, mine.appeal_id, mine.variant_id, mine.reader_id) == (
        drive["story"].id, drive["appeal"].id, drive["control"].id, "r" * 22)
    assert mine.sent_at is None and mine.unsubscribed_at is None
    assert (other.story_id, other.appeal_id, other.variant_id, other.reader_id) == (
        None, drive["appeal"].id, drive["control"].id, None)


# --- sending ------------------------------------------------------------------------------

def test_the_reminder_goes_once_in_its_month_with_the_unsubscribe_headers(app, drive):
    signed = _ask(months=2, drive=drive)
    assert send_due_reminders() == 0  # not yet
    _move_to(add_months(signed.month, -1), day=28)
    assert send_due_reminders() == 0  # the month before: still not
    _move_to(signed.month, day=1, hour=0)
    assert send_due_reminders() == 1
    assert send_due_reminders() == 0  # the same month, again: nothing more
    [message] = _outbox()
    [reminder] = _reminders()
    assert message.key == f"reminder:{reminder.id}" and message.to_address == "reader@example.com"
    assert (reminder.sent_at.year, reminder.sent_at.month) == (signed.month.year,
                                                               signed.month.month)
    token = unsubscribe_token(reminder)
    assert message.headers == {
        "List-Unsubscribe": f"<http://127.0.0.1:5000/reminders/unsubscribe/{token}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    assert "Dredging the harbour" in message.text_body


def test_a_worker_that_was_down_catches_up_within_the_month_but_not_after(app):
    soon = _ask(email="soon@example.com", months=1)
    _ask(email="later@example.com", months=2)
    _move_to(soon.month, day=20)  # down since the first: sent on the 20th
    assert send_due_reminders() == 1
    _move_to(add_months(soon.month, 2), day=3)  # down for all of the second month
    assert send_due_reminders() == 0
    assert [r.sent_at is not None for r in _reminders()] == [True, False]


def test_the_job_stops_when_told(app):
    _ask(months=1)
    _move_to(add_months(this_month(), 1))
    stop = threading.Event()
    stop.set()
    assert send_due_reminders(stop) == 0
    assert _outbox() == []


def test_the_worker_sends_the_reminder_by_smtp_with_a_working_link(app, drive, mail_server):
    """The worker's jobs (in the order the worker runs them) write and send it: one message
    with RFC 8058's headers, a link to /support carrying story, variant and the reminder's
    reference and nothing personal, and the unsubscribe link in its footer."""
    assert JOBS.index(send_due_reminders) < JOBS.index(send_due_mail)
    signed = _ask(drive=drive)
    _move_to(signed.month)
    run_due_jobs(threading.Event())
    run_due_jobs(threading.Event())
    [message] = mail_server.messages()
    assert message["To"] == "reader@example.com"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = str(message["List-Unsubscribe"]).strip().strip("<>")
    assert urlsplit(unsubscribe_url).path.startswith("/reminders/unsubscribe/")
    text = message.get_body(("plain",)).get_content()
    link = next(word for word in text.split() if "/support?" in word)
    query = parse_qs(urlsplit(link).query)
    assert query["story"] == ["harbour-dredging"]
    assert query["variant"] == [str(drive["control"].id)]
    assert query["appeal"] == [str(drive["appeal"].id)]
    [reminder] = _reminders()
    assert reminders.reminder_from_reference(query["reminder"][0]) == reminder.id
    assert "reader" not in link and "example.com" not in link
    assert unsubscribe_url in text
    html = message.get_body(("html",)).get_content()
    assert unsubscribe_url.replace("&", "&amp;") in html


def test_an_unsubscribed_reminder_is_not_sent(app):
    first = _ask(months=1)
    _ask(months=2)
    _move_to(first.month)
    send_due_reminders()
    [sent, pending] = _reminders()
    assert unsubscribe(unsubscribe_token(sent)) is True
    _move_to(add_months(first.month, 1))
    assert send_due_reminders() == 0
    assert _reminders()[1].unsubscribed_at is not None
    assert len(_outbox()) == 1


def test_no_reminder_to_an_address_that_gave_since_asking(app):
    """A gift paid after the sign-up (here a month later, any story) makes the reminder
    unneeded: marked skipped, nothing written; a gift before asking changes nothing."""
    gave = _ask(email="gave@example.com", months=2)
    waits = _ask(email="waits@example.com", months=2)
    db.session.add_all([
        Contribution(amount_minor=500, currency="USD", frequency="one_off", status="paid",
                     email="Gave@Example.com", paid_at=current_time() + timedelta(days=30)),
        Contribution(amount_minor=500, currency="USD", frequency="one_off", status="paid",
                     email="waits@example.com", paid_at=current_time() - timedelta(days=1))])
    db.session.commit()
    _move_to(gave.month)
    assert send_due_reminders() == 1
    skipped, sent = _reminders()
    assert (skipped.email, skipped.sent_at) == ("gave@example.com", None)
    assert skipped.skipped_at is not None and sent.sent_at is not None
    assert [m.to_address for m in _outbox()] == ["waits@example.com"]
    assert waits.reminder_id == sent.id


# --- unsubscribing ------------------------------------------------------------------------

def _sent(email, months=1):
    signed = _ask(email=email, months=months)
    _move_to(signed.month)
    send_due_reminders()
    move_clock(-(current_time() - datetime.now(UTC)))  # back to the wall clock
    return db.session.get(Reminder, signed.reminder_id)


def test_unsubscribing_stops_that_address_only(app):
    mine = _sent("reader@example.com")
    _ask(email="reader@example.com", months=3)
    _ask(email="neighbour@example.com", months=3)
    assert unsubscribe(unsubscribe_token(mine)) is True
    by_address = {(r.email, r.month): r.unsubscribed_at is not None for r in _reminders()}
    assert by_address == {
        ("reader@example.com", mine.month): True,
        ("reader@example.com", add_months(this_month(), 3)): True,
        ("neighbour@example.com", add_months(this_month(), 3)): False}


def test_a_replayed_token_changes_nothing(app):
    """Bad input: the same link again, even after the reader asked for a new reminder, stops
    nothing more."""
    mine = _sent("reader@example.com")
    token = unsubscribe_token(mine)
    assert unsubscribe(token) is True
    first_time = _reminders()[0].unsubscribed_at
    _ask(email="reader@example.com", months=4)  # asked again, later, with fresh consent
    assert unsubscribe(token) is False
    assert unsubscribe(token) is False
    rows = _reminders()
    assert rows[0].unsubscribed_at == first_time
    assert rows[1].unsubscribed_at is None


def _forgeries(mine, other):
    tag = reminders._email_tag(mine.email)
    wrong_key = URLSafeSerializer("not our key", salt="supportapp.reminder-unsubscribe")
    token = unsubscribe_token(mine)
    return [
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature changed
        wrong_key.dumps([other.id, reminders._email_tag(other.email)]),  # not our key
        reminders._serializer("supportapp.reminder-unsubscribe").dumps([other.id, tag]),
        reminders.reference(other.id),  # a link's reference is not an unsubscribe token
        reminders._serializer("supportapp.reminder-unsubscribe").dumps(other.id),
        reminders._serializer("supportapp.reminder-unsubscribe").dumps([other.id + 100, tag]),
        "", "x" * 500, "not-a-token",
    ]


def test_forged_tokens_change_nothing_for_anyone(app):
    """Bad input: a token we did not sign, one of ours for another purpose, or one naming
    another reader's reminder with this reader's tag, stops nothing."""
    mine = _sent("reader@example.com")
    other = _sent("neighbour@example.com", months=2)
    _ask(email="neighbour@example.com", months=5)
    for forged in _forgeries(mine, other):
        with pytest.raises(UnsubscribeRefused):
            unsubscribe(forged)
        with pytest.raises(UnsubscribeRefused):
            reminders.check_unsubscribe(forged)
    assert all(r.unsubscribed_at is None for r in _reminders())


def test_a_token_is_not_good_for_a_reminder_that_later_got_its_id(app):
    """Should a reminder go (its id given again), its old token names someone else's id
    but not their address: refused."""
    mine = _sent("reader@example.com")
    token = unsubscribe_token(mine)
    db.session.execute(db.update(Reminder).where(Reminder.id == mine.id)
                       .values(email="somebody-else@example.com"))
    db.session.commit()
    with pytest.raises(UnsubscribeRefused):
        unsubscribe(token)
    assert _reminders()[0].unsubscribed_at is None


def test_unsubscribing_never_stops_receipts(app):
    """Receipts are not marketing: after unsubscribing, a gift still gets its receipt."""
    mine = _sent("reader@example.com")
    unsubscribe(unsubscribe_token(mine))
    gift = Contribution(amount_minor=500, currency="USD", frequency="one_off",
                        stripe_checkout_session_id="cs_test_after", email="reader@example.com",
                        paid_at=datetime.now(UTC), status="paid")
    db.session.add(gift)
    db.session.flush()
    assert queue_payment_emails(gift) is True
    db.session.commit()
    assert [m.to_address for m in _outbox("receipt")] == ["reader@example.com"]


def test_outbox_headers_cannot_break_a_message(app, note_template):
    for headers in ({"List-Unsubscribe": "<https://x>\r\nBcc: victim@example.com"},
                    {"X-Bad: name": "v"}, {"Bcc": "victim@example.com"},
                    {"From": "someone@example.com"}, {"List-Unsubscribe": 5}):
        with pytest.raises(OutboxError):
            queue_email("k", "test", "reader@example.com", note_template, n=1, link="x",
                        headers=headers)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


# --- the funnel ---------------------------------------------------------------------------

def _gift(reminder, paid_at, frequency="one_off", **fields):
    row = Contribution(amount_minor=1000, currency="USD", frequency=frequency, status="paid",
                       paid_at=paid_at, reminder_id=reminder.id, story_id=reminder.story_id,
                       appeal_id=reminder.appeal_id, variant_id=reminder.variant_id,
                       stripe_checkout_session_id=f"cs_test_{paid_at.timestamp()}", **fields)
    db.session.add(row)
    db.session.commit()


def test_the_funnel_counts_sign_ups_sendings_and_gifts_within_14_days(app, drive):
    """Per story and per variant: reminders asked for, sent, and new gifts made from a
    reminder's link within 14 days of it (a later one, or a renewal, is not counted)."""
    control = _ask(email="a@example.com", drive=drive)
    _ask(email="b@example.com", drive=drive)
    _ask(email="c@example.com", drive=drive, variant="urgent")
    _move_to(control.month)
    send_due_reminders()
    sent_at = current_time()
    by_email = {r.email: r for r in _reminders()}
    _gift(by_email["a@example.com"], sent_at + timedelta(days=13, hours=23))
    _gift(by_email["b@example.com"], sent_at + timedelta(days=14, hours=1))  # too late
    _gift(by_email["c@example.com"], sent_at + timedelta(hours=2))
    _gift(by_email["c@example.com"], sent_at + timedelta(days=3), frequency="monthly",
          billing_reason="subscription_cycle")  # a renewal: not a new gift
    today = current_time().date()
    period = Period(today - timedelta(days=90), today + timedelta(days=30))
    rows = {r.variant_id: r for r in variants_table(drive["appeal"].id, period)}
    assert (rows[drive["control"].id].reminder_signups, rows[drive["control"].id].reminders_sent,
            rows[drive["control"].id].reminder_gifts) == (2, 2, 1)
    assert (rows[drive["urgent"].id].reminder_signups, rows[drive["urgent"].id].reminders_sent,
            rows[drive["urgent"].id].reminder_gifts) == (1, 1, 1)
    [story_row] = stories_table(period)
    assert (story_row.reminder_signups, story_row.reminders_sent,
            story_row.reminder_gifts) == (3, 3, 2)
    row, _points = story_report(drive["story"].id, period)
    assert row.reminder_gifts == 2
    # A period before the sending counts the sign-ups only.
    before = Period(today - timedelta(days=90), (sent_at - timedelta(days=1)).date())
    [early] = stories_table(before)
    assert (early.reminder_signups, early.reminders_sent, early.reminder_gifts) == (3, 0, 0)


def test_two_workers_on_postgresql_split_the_due_reminders(app, database_url):
    """Several workers at once (PostgreSQL, FOR UPDATE SKIP LOCKED): every due reminder is
    written once, and the workers' counts add up to the reminders, none taken twice."""
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers at once are for PostgreSQL; SQLite takes one")
    from supportapp.models.dialect import dialect_insert
    from tests.conftest import make_app

    month = add_months(this_month(), 1)
    db.session.execute(dialect_insert(Reminder).values([
        {"email": f"reader{n}@example.com", "month": month, "created_at": current_time()}
        for n in range(240)]))
    db.session.commit()
    offset = datetime(month.year, month.month, 2, 8, tzinfo=UTC) - current_time()
    counts, errors = [], []
    start = threading.Barrier(3)

    # Each worker's app is made here, one after another: CPython 3.11's ast.parse (which
    # werkzeug's routing calls) is not safe from several threads at once.
    apps = [make_app(database_url) for _ in range(3)]

    def worker(other):
        with other.app_context():
            move_clock(offset)
            start.wait()
            try:
                counts.append(send_due_reminders())
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()
                db.engine.dispose()

    threads = [threading.Thread(target=worker, args=(other,)) for other in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(counts) == 240
    assert len(_outbox()) == 240
    assert all(r.sent_at is not None for r in _reminders())


def test_erasing_a_supporter_erases_their_reminders(app, fake_stripe):
    """Erasure: the address leaves every reminder (a keyed digest stays, so the counts do),
    and one not sent yet is never sent."""
    from supportapp.services.erasure import erase_supporter
    from supportapp.services.supporter_email import email_digest

    sent = _sent("reader@example.com")
    _ask(email="reader@example.com", months=3)
    _ask(email="neighbour@example.com", months=3)
    erase_supporter("Reader@example.com")
    rows = {r.id: r for r in _reminders()}
    digest = email_digest("reader@example.com")
    mine = [r for r in rows.values() if r.email == digest]
    assert len(mine) == 2 and rows[sent.id].email == digest
    assert all(r.unsubscribed_at is not None for r in mine if r.sent_at is None)
    assert [r.email for r in rows.values() if r.email != digest] == ["neighbour@example.com"]
    _move_to(add_months(this_month(), 3))
    assert send_due_reminders() == 1  # the neighbour's only
