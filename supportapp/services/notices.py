"""Notices before a recurring gift renews: the annual renewal notice, and the card that will
have expired by the next renewal. Two worker jobs (services/worker.py JOBS).

Both are due from dates the database holds, read against the app's clock
(services/clock.py), never from when a worker last ran:

- **Renewal notice** (`renewal_notice:<subscription>:<renewal date>`): an annual gift that
  renews within RENEWAL_NOTICE_DAYS (7) is told the amount, the date and where to change it.
  Some jurisdictions require this for automatic renewals.
- **Card expiring** (`card_expiring:<subscription>:<yyyy-mm of the card>`): a gift whose card
  no longer works on its next renewal, and that renewal within CARD_EXPIRY_NOTICE_DAYS (30),
  is asked to replace the card, with the link to the manage page.

Only gifts that will be charged get either: still supporting, not ending at the period's
end, and not paused past the renewal. A gift with a failed renewal still unpaid gets no
card-expiring email: the recovery emails already ask for a new card. A worker that was
down sends what became due meanwhile, as long as the renewal is still ahead; a renewal
already past is not announced.

Each notice is one outbox message under its key, written in the same transaction as a mark
on the gift (`renewal_notice_for`, `card_notice_for`) that takes it out of the next search.
Workers take gifts `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several split them; the key
makes a second message for the same renewal or card impossible in any case.
"""
import logging
import threading
from datetime import UTC, datetime, timedelta

from babel.dates import format_date
from flask import current_app
from sqlalchemy import and_, false, or_, select

from supportapp.extensions import db
from supportapp.models import PaymentFailure, RecurringSupport
from supportapp.models.recurring_support import SUPPORTING_STATUSES
from supportapp.services.card_expiry import EARLIEST_YEAR, LATEST_YEAR, of_support
from supportapp.services.clock import current_time
from supportapp.services.giving import FREQUENCY_LABELS, PER_PERIOD, with_period
from supportapp.services.money import format_money_exact
from supportapp.services.outbox import OutboxError, queue_email
from supportapp.services.receipts import manage_url

log = logging.getLogger(__name__)

BATCH_SIZE = 20
RS = RecurringSupport
# year * 12 + month - 1 of the card's expiry, in SQL: CardExpiry.index.
_CARD_INDEX = RS.card_exp_year * 12 + RS.card_exp_month - 1


def _will_be_charged(now, days):
    """Gifts whose next payment is due in (now, now + days] and will be taken then."""
    return and_(
        RS.status.in_(SUPPORTING_STATUSES),
        RS.cancel_at_period_end.is_(false()),
        RS.email.is_not(None),
        RS.current_period_end > now,
        RS.current_period_end <= now + timedelta(days=days),
        # A pause that lasts past the renewal takes no payment then (the invoice is voided).
        or_(RS.paused.is_(false()),
            and_(RS.paused_until.is_not(None), RS.paused_until <= RS.current_period_end)),
    )


def renewal_notices_due(now, days):
    """The condition for gifts owed a renewal notice at `now`: annual, charged within `days`,
    and not yet told of this renewal."""
    return and_(_will_be_charged(now, days), RS.interval == "year",
                or_(RS.renewal_notice_for.is_(None),
                    RS.renewal_notice_for != RS.current_period_end))


def _month_start(year, month):
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=UTC)


def _card_gone_by_renewal(now, days):
    # The card works to the end of its month: it fails a renewal in any later month. The
    # renewals looked at fall in at most a few calendar months, so the month of each is
    # matched by a range (plain comparisons, the same on SQLite and PostgreSQL).
    last = now + timedelta(days=days)
    months = []
    year, month = now.year, now.month
    while _month_start(year, month) <= last:
        start, end = _month_start(year, month), _month_start(year, month + 1)
        months.append(and_(RS.current_period_end >= start, RS.current_period_end < end,
                           _CARD_INDEX < year * 12 + month - 1))
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return or_(*months)


def _being_chased():
    # A renewal that failed and is still unpaid: its recovery emails already ask for a new
    # card, and a second email about the same card would only confuse.
    return (select(PaymentFailure.id)
            .where(PaymentFailure.recurring_support_id == RS.id,
                   PaymentFailure.recovered_at.is_(None), PaymentFailure.lost_at.is_(None))
            .exists())


def card_notices_due(now, days):
    """The condition for gifts owed a card-expiring email at `now`: charged within `days` on
    a card that will have expired by then, not yet told of this card, and not already
    asked for a new card about a failed renewal."""
    return and_(_will_be_charged(now, days), ~_being_chased(),
                RS.card_exp_year.between(EARLIEST_YEAR, LATEST_YEAR),
                RS.card_exp_month.between(1, 12), _card_gone_by_renewal(now, days),
                or_(RS.card_notice_for.is_(None), RS.card_notice_for != _CARD_INDEX))


def _claim(condition, after_id, limit=BATCH_SIZE):
    """Up to `limit` gifts meeting `condition` with ids above `after_id`, locked for this
    worker (PostgreSQL skips those another worker holds; SQLite has one writer)."""
    return db.session.scalars(
        select(RS).where(condition, RS.id > after_id).order_by(RS.id).limit(limit)
        .with_for_update(skip_locked=True, of=RS)
        .execution_options(populate_existing=True)).all()


def _run(condition_for, write, stop):
    stop = stop or threading.Event()
    now = current_time()
    condition = condition_for(now)
    written, after_id = 0, 0
    # Each run goes through the gifts once, in id order, so that it always ends; a gift
    # another worker held is that worker's, or the next run's.
    while not stop.is_set():
        supports = _claim(condition, after_id)
        if not supports:
            break
        written += sum(write(support, now) for support in supports)
        after_id = supports[-1].id
        db.session.commit()
    db.session.rollback()  # nothing left open between rounds
    return written


def send_renewal_notices(stop=None):
    """Worker job: write the renewal notice of every annual gift due one now; returns how
    many were written. Off when SUPPORTAPP_RENEWAL_NOTICE_DAYS is 0."""
    days = current_app.config["RENEWAL_NOTICE_DAYS"]
    if not days:
        return 0
    return _run(lambda now: renewal_notices_due(now, days), write_renewal_notice, stop)


def send_card_expiry_notices(stop=None):
    """Worker job: write the card-expiring email of every gift due one now; returns how
    many were written. Off when SUPPORTAPP_CARD_EXPIRY_NOTICE_DAYS is 0."""
    days = current_app.config["CARD_EXPIRY_NOTICE_DAYS"]
    if not days:
        return 0
    return _run(lambda now: card_notices_due(now, days), write_card_notice, stop)


def _queue(support, key, kind, facts):
    # An address the outbox cannot write to is marked done all the same: the gift must not
    # come back every round. The log names the gift, never the address.
    try:
        return queue_email(key, kind, support.email, kind, **facts)
    except OutboxError:
        log.warning("recurring support %s: email address unusable, no %s", support.id, kind)
        return False


def _gift_facts(support):
    amount = format_money_exact(support.amount_minor, support.currency)
    frequency = support.frequency
    return {"amount": amount,
            "gift": with_period(amount, frequency) if frequency in PER_PERIOD else amount,
            "frequency": (FREQUENCY_LABELS.get(frequency) or "Recurring").lower(),
            "renewal_date": format_date(support.current_period_end, format="long",
                                        locale="en"),
            "manage_url": manage_url()}


def renewal_key(support):
    """`renewal_notice:sub_123:2027-03-05`: one notice per gift and renewal date (UTC)."""
    day = support.current_period_end.astimezone(UTC).date().isoformat()
    return f"renewal_notice:{support.stripe_subscription_id}:{day}"


def write_renewal_notice(support, now):
    """Queue the renewal notice of a claimed gift and mark it told; True when written."""
    card = of_support(support)
    facts = {**_gift_facts(support),
             "card_expires_first": bool(card and card.expires_before(
                 support.current_period_end)),
             "card_words": card.words if card else ""}
    written = _queue(support, renewal_key(support), "renewal_notice", facts)
    support.renewal_notice_for = support.current_period_end
    return written


def card_key(support, card):
    """`card_expiring:sub_123:2027-03`: one email per gift and card expiry."""
    return f"card_expiring:{support.stripe_subscription_id}:{card.key}"


def write_card_notice(support, now):
    """Queue the card-expiring email of a claimed gift and mark it told; True when written."""
    card = of_support(support)
    facts = {**_gift_facts(support), "card_words": card.words,
             "expired": card.expires_before(now)}
    written = _queue(support, card_key(support, card), "card_expiring", facts)
    support.card_notice_for = card.index
    return written
