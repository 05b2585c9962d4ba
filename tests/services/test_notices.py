"""Renewal notices and card-expiring emails: due from the database's dates on the app's
clock, each written once, sent by the worker, caught up after the worker was down."""
import itertools
import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import OutboxMessage, RecurringSupport
from supportapp.services import notices
from supportapp.services.clock import current_time, move_clock
from supportapp.services.mail_worker import send_due_mail
from supportapp.services.notices import send_card_expiry_notices, send_renewal_notices
from supportapp.services.worker import JOBS, run_worker
from tests.conftest import make_app

READER = "reader@example.com"
_ids = itertools.count(1)


def _gift(**fields):
    values = {"stripe_subscription_id": f"sub_notice{next(_ids):04d}", "amount_minor": 5000,
              "currency": "USD", "interval": "year", "status": "active", "email": READER,
              "current_period_end": current_time() + timedelta(days=5)}
    support = RecurringSupport(**{**values, **fields})
    db.session.add(support)
    db.session.commit()
    return support


def _messages(kind=None):
    db.session.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return db.session.scalars(query).all()


def _set_clock(app, moment):
    """Move the app's clock so that it reads `moment` now (give or take milliseconds)."""
    move_clock(moment - current_time(app), app)


# --- renewal notices ---------------------------------------------------------------


def test_an_annual_renewal_is_announced_once_and_arrives(app, mail_server):
    """Five days before renewal: one notice with the amount, the date and the manage link,
    under its key; the next rounds write nothing more."""
    renews = datetime(2031, 3, 5, 9, 30, tzinfo=UTC)
    _set_clock(app, renews - timedelta(days=5))
    support = _gift(current_period_end=renews, amount_minor=6000, currency="EUR")
    assert send_renewal_notices() == 1
    assert send_renewal_notices() == 0
    (message,) = _messages()
    assert message.key == f"renewal_notice:{support.stripe_subscription_id}:2031-03-05"
    assert (message.kind, message.to_address) == ("renewal_notice", READER)
    db.session.refresh(support)
    assert support.renewal_notice_for == renews

    send_due_mail()
    (mail,) = mail_server.messages()
    assert mail["Subject"] == "Your annual gift to The Harbour Ledger renews on March 5, 2031"
    text = mail.get_body(("plain",)).get_content()
    assert "€60.00" in text and "March 5, 2031" in text
    assert "http://127.0.0.1:5000/support/manage" in text
    assert "expires at the end" not in text
    html = mail.get_body(("html",)).get_content()
    assert 'href="http://127.0.0.1:5000/support/manage"' in html and "€60.00" in html


@pytest.mark.parametrize("fields", [
    {"current_period_end_days": 8},  # not due yet: a week's notice
    {"current_period_end_days": -1},  # renewed already: too late to announce
    {"interval": "month"},
    {"interval": None},
    {"cancel_at_period_end": True},
    {"status": "canceled"},
    {"status": "incomplete"},
    {"paused": True},  # paused with no end: no payment at the renewal
    {"paused": True, "paused_until_days": 6},  # the pause lasts past the renewal
    {"email": None},
    {"current_period_end": None},
], ids=str)
def test_no_notice_for_a_gift_that_will_not_be_charged_soon(app, fields):
    fields = dict(fields)
    now = current_time()
    for name in ("current_period_end", "paused_until"):
        if f"{name}_days" in fields:
            fields[name] = now + timedelta(days=fields.pop(f"{name}_days"))
    _gift(**fields)
    assert send_renewal_notices() == 0 and _messages() == []


def test_a_pause_that_ends_before_the_renewal_does_not_stop_the_notice(app):
    now = current_time()
    _gift(paused=True, paused_until=now + timedelta(days=2))
    _gift(status="past_due")
    _gift(status="trialing")
    assert send_renewal_notices() == 3


def test_a_worker_that_was_down_catches_up_while_the_renewal_is_ahead(app):
    """Due from seven days before: nothing 8 days ahead; a worker back with one day to go
    still sends it; one back after the renewal sends nothing (it is past)."""
    renews = current_time() + timedelta(days=30)
    late, missed = _gift(current_period_end=renews), _gift(current_period_end=renews
                                                          - timedelta(days=10))
    move_clock(timedelta(days=22) - timedelta(minutes=1), app)  # 8 days and a minute to go
    assert send_renewal_notices() == 0
    move_clock(timedelta(days=7), app)  # down for a week: 1 day left for `late`
    assert send_renewal_notices() == 1
    assert [m.key.split(":")[1] for m in _messages()] == [late.stripe_subscription_id]
    assert missed.renewal_notice_for is None  # its renewal passed while the worker was down


def test_each_renewal_gets_its_own_notice(app):
    """A year later the next renewal is announced again, under the next date's key."""
    renews = current_time() + timedelta(days=3)
    support = _gift(current_period_end=renews)
    assert send_renewal_notices() == 1
    support.current_period_end = renews + timedelta(days=365)
    db.session.commit()
    move_clock(timedelta(days=363), app)
    assert send_renewal_notices() == 1 and send_renewal_notices() == 0
    keys = [m.key for m in _messages()]
    assert len(set(keys)) == 2 and all(k.startswith("renewal_notice:") for k in keys)


@pytest.mark.parametrize("days, sent", [(14, 2), (3, 0), (0, 0)])
def test_how_far_ahead_is_a_setting(app, days, sent):
    app.config["RENEWAL_NOTICE_DAYS"] = days
    now = current_time()
    _gift(current_period_end=now + timedelta(days=4))
    _gift(current_period_end=now + timedelta(days=13))
    assert send_renewal_notices() == sent


def test_an_unusable_address_is_logged_by_id_and_not_tried_again(app, caplog):
    support = _gift(email="two@example.com, addresses@example.com")
    with caplog.at_level(logging.WARNING, logger="supportapp.services.notices"):
        assert send_renewal_notices() == 0
    assert _messages() == [] and send_renewal_notices() == 0
    assert f"recurring support {support.id}" in caplog.text and "example.com" not in caplog.text


def test_the_notice_warns_of_a_card_that_expires_first(app, mail_server):
    renews = datetime(2031, 3, 5, tzinfo=UTC)
    _set_clock(app, renews - timedelta(days=6))
    _gift(current_period_end=renews, card_exp_month=2, card_exp_year=2031)
    _gift(current_period_end=renews, card_exp_month=3, card_exp_year=2031,
          email="other@example.com")
    assert send_renewal_notices() == 2
    send_due_mail()
    texts = {m["To"]: m.get_body(("plain",)).get_content() for m in mail_server.messages()}
    assert "expires at the end of February 2031" in texts[READER]
    assert "expires at the end" not in texts["other@example.com"]


def test_a_stop_ends_the_job_between_batches(app):
    for _ in range(notices.BATCH_SIZE + 5):
        _gift()
    stop = threading.Event()
    stop.set()
    assert send_renewal_notices(stop) == 0
    assert send_renewal_notices(threading.Event()) == notices.BATCH_SIZE + 5


# --- cards that will have expired by the next renewal ---------------------------------


def test_card_expiry_at_month_and_year_boundaries(app):
    """A card works to the end of its month: a renewal at the first instant of the next
    month fails on it, one a second earlier does not; across a new year too."""
    _set_clock(app, datetime(2030, 3, 25, 12, tzinfo=UTC))
    card = {"card_exp_month": 3, "card_exp_year": 2030, "interval": "month"}
    fails = _gift(current_period_end=datetime(2030, 4, 1, tzinfo=UTC), **card)
    _gift(current_period_end=datetime(2030, 3, 31, 23, 59, 59, tzinfo=UTC), **card)
    later = _gift(current_period_end=datetime(2030, 4, 20, tzinfo=UTC), **card)
    far = _gift(current_period_end=datetime(2030, 4, 30, tzinfo=UTC), **card)  # > 30 days
    _gift(current_period_end=datetime(2030, 4, 20, tzinfo=UTC), card_exp_month=4,
          card_exp_year=2030)
    _gift(current_period_end=datetime(2030, 4, 20, tzinfo=UTC), card_exp_month=1,
          card_exp_year=2031)
    assert send_card_expiry_notices() == 2
    assert {m.key for m in _messages()} == {
        f"card_expiring:{fails.stripe_subscription_id}:2030-03",
        f"card_expiring:{later.stripe_subscription_id}:2030-03"}

    _set_clock(app, datetime(2030, 12, 20, tzinfo=UTC))
    year_end = {"current_period_end": datetime(2031, 1, 5, tzinfo=UTC)}
    december = _gift(card_exp_month=12, card_exp_year=2030, **year_end)
    _gift(card_exp_month=1, card_exp_year=2031, **year_end)
    assert send_card_expiry_notices() == 1  # `far` renewed in April: its period end is past
    assert _messages()[-1].key == f"card_expiring:{december.stripe_subscription_id}:2030-12"
    assert far.card_notice_for is None


def test_the_card_email_arrives_once_per_card(app, mail_server):
    """The email names the card's month, the renewal and the manage link; the same card is
    not told of twice, and a new card that also expires first is told of."""
    _set_clock(app, datetime(2030, 5, 20, tzinfo=UTC))
    support = _gift(interval="month", amount_minor=700, current_period_end=datetime(
        2030, 6, 3, tzinfo=UTC), card_exp_month=5, card_exp_year=2030)
    assert send_card_expiry_notices() == 1 and send_card_expiry_notices() == 0
    send_due_mail()
    (mail,) = mail_server.messages()
    assert mail["Subject"] == "The card for your gift to The Harbour Ledger expires soon"
    text = mail.get_body(("plain",)).get_content()
    for words in ("expires at the end of May 2030", "$7.00 a month", "June 3, 2030",
                  "http://127.0.0.1:5000/support/manage", "Replace the card"):
        assert words in " ".join(text.split()), words

    support.card_exp_month = 4  # another card, expired already
    db.session.commit()
    assert send_card_expiry_notices() == 1
    support.card_exp_month, support.card_exp_year = 9, 2033  # a card that works
    db.session.commit()
    assert send_card_expiry_notices() == 0
    send_due_mail()
    assert mail_server.messages()[-1]["Subject"].endswith("has expired")
    assert [m.key.rsplit(":", 1)[1] for m in _messages()] == ["2030-05", "2030-04"]


@pytest.mark.parametrize("fields", [
    {"card_exp_month": None, "card_exp_year": None},
    {"card_exp_month": 13, "card_exp_year": 2030},
    {"card_exp_month": 5, "card_exp_year": 1999},
    {"status": "canceled"}, {"cancel_at_period_end": True}, {"email": None},
    {"paused": True, "paused_until": datetime(2030, 7, 1, tzinfo=UTC)},
], ids=str)
def test_no_card_email_when_nothing_will_be_charged_or_the_card_is_unknown(app, fields):
    _set_clock(app, datetime(2030, 5, 20, tzinfo=UTC))
    _gift(**{"current_period_end": datetime(2030, 6, 3, tzinfo=UTC), "card_exp_month": 5,
             "card_exp_year": 2030, **fields})
    assert send_card_expiry_notices() == 0 and _messages() == []


def test_no_card_email_while_a_failed_renewal_is_chased(app):
    """The recovery emails already ask for a new card; once the renewal is paid, a card
    that still expires before the next one is told of."""
    from supportapp.models import PaymentFailure

    _set_clock(app, datetime(2030, 5, 20, tzinfo=UTC))
    support = _gift(interval="month", current_period_end=datetime(2030, 6, 3, tzinfo=UTC),
                    card_exp_month=5, card_exp_year=2030, status="past_due")
    failed = PaymentFailure(recurring_support_id=support.id, stripe_invoice_id="in_chased",
                            amount_minor=5000, currency="USD",
                            first_failed_at=datetime(2030, 5, 3, tzinfo=UTC),
                            last_failed_at=datetime(2030, 5, 3, tzinfo=UTC))
    db.session.add(failed)
    db.session.commit()
    assert send_card_expiry_notices() == 0
    failed.recovered_at = datetime(2030, 5, 19, tzinfo=UTC)
    support.status = "active"
    db.session.commit()
    assert send_card_expiry_notices() == 1


def test_card_emails_can_be_turned_off(app):
    app.config["CARD_EXPIRY_NOTICE_DAYS"] = 0
    _gift(card_exp_month=1, card_exp_year=2001)
    assert send_card_expiry_notices() == 0


# --- the worker ----------------------------------------------------------------------


def test_the_worker_writes_and_sends_notices_in_one_round(app, mail_server):
    assert JOBS.index(send_due_mail) > JOBS.index(send_renewal_notices)
    assert send_card_expiry_notices in JOBS
    _gift(card_exp_month=1, card_exp_year=2001)  # renews in 5 days on a long-gone card
    run_worker(threading.Event(), once=True)
    subjects = sorted(m["Subject"] for m in mail_server.messages())
    assert len(subjects) == 2 and subjects[0].startswith("The card for your gift")
    assert {m.status for m in _messages()} == {"sent"}


def test_two_workers_never_write_a_notice_twice(app, monkeypatch):
    """On PostgreSQL two workers at once split the gifts (FOR UPDATE SKIP LOCKED): both
    write some, and each gift gets one notice."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("several workers at once are for PostgreSQL; SQLite takes one")
    count = 120
    for _ in range(count):
        _gift()
    real_queue = notices.queue_email

    def slow_queue(*args, **kwargs):  # both workers are still at it when the other starts
        threading.Event().wait(0.003)
        return real_queue(*args, **kwargs)

    monkeypatch.setattr(notices, "queue_email", slow_queue)
    apps = [make_app(app.config["SQLALCHEMY_DATABASE_URI"]) for _ in range(2)]
    start, written, errors = threading.Barrier(2), [0, 0], []

    def work(n):
        try:
            with apps[n].app_context():
                start.wait()
                written[n] = send_renewal_notices()
                db.session.remove()
        except Exception as exc:  # reported below, with the thread's own error
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sum(written) == count and min(written) > 0, written
    keys = [m.key for m in _messages()]
    assert len(keys) == len(set(keys)) == count


# --- settings ------------------------------------------------------------------------


@pytest.mark.parametrize("name, value", [
    ("SUPPORTAPP_RENEWAL_NOTICE_DAYS", "a week"), ("SUPPORTAPP_RENEWAL_NOTICE_DAYS", "-1"),
    ("SUPPORTAPP_RENEWAL_NOTICE_DAYS", "61"), ("SUPPORTAPP_CARD_EXPIRY_NOTICE_DAYS", "1.5"),
    ("SUPPORTAPP_CARD_EXPIRY_NOTICE_DAYS", "91"),
])
def test_unreadable_notice_days_stop_the_app_naming_the_setting(monkeypatch, tmp_path, name,
                                                                value):
    from supportapp.config import ConfigError, check_config, load_config

    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        check_config(load_config(str(tmp_path)))


def test_notice_days_are_read_from_the_environment(monkeypatch, tmp_path):
    from supportapp.config import check_config, load_config

    monkeypatch.setenv("SUPPORTAPP_RENEWAL_NOTICE_DAYS", "14")
    monkeypatch.setenv("SUPPORTAPP_CARD_EXPIRY_NOTICE_DAYS", "0")
    config = load_config(str(tmp_path))
    check_config(config)
    assert (config["RENEWAL_NOTICE_DAYS"], config["CARD_EXPIRY_NOTICE_DAYS"]) == (14, 0)
    monkeypatch.delenv("SUPPORTAPP_RENEWAL_NOTICE_DAYS")
    monkeypatch.delenv("SUPPORTAPP_CARD_EXPIRY_NOTICE_DAYS")
    config = load_config(str(tmp_path))
    assert (config["RENEWAL_NOTICE_DAYS"], config["CARD_EXPIRY_NOTICE_DAYS"]) == (7, 30)
