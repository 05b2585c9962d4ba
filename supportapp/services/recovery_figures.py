"""Recurring gifts at risk, and what was won back: the "At risk" page, its CSV and the API.

**At risk now** (`past_due`, `expiring_cards`):
- A gift is *past due* when a renewal failed and is still unpaid (an open PaymentFailure:
  neither recovered nor lost), or when Stripe says `past_due` or `unpaid` though no failure
  is recorded here. Each row has the failure's reason, the emails sent about it (outbox
  messages keyed `recovery:<invoice>` or `recovery:<invoice>:...`) and Stripe's next retry.
- A *card expiring* is the card of a live gift (supporting, not ending at the period's end)
  that stops working within CARD_RISK_DAYS (30) of now, or already has; a card works to the
  end of its expiry month. Each row has the card-expiring emails sent (`card_expiring:<sub>:`).

**Monthly figures** (`monthly_figures`): every failed renewal (PaymentFailure row) counts in
the UTC calendar month it *first* failed, in its own currency, whatever month it was paid or
lost in, so that a month's figures say what became of that month's failures:
- `failed`: renewals that first failed that month;
- `recovered`: of those, paid within RECOVERY_WINDOW (30 days) of the first failure;
- `recovered_late`: paid, but later than that;
- `lost`: the subscription ended with the renewal unpaid (cancelled by the failure);
- `open`: neither yet (Stripe is still retrying, the supporter still being asked);
- `money_recovered`: the renewals' amounts (minor units) of the `recovered` ones.
So `failed == recovered + recovered_late + lost + open` in every month and currency.

Dates are compared in Python after a plain range query, never with SQL date functions, so
the figures are the same on SQLite and PostgreSQL.
"""
import re
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, false, func, or_, select

from supportapp.extensions import db
from supportapp.models import OutboxMessage, PaymentFailure, RecurringSupport
from supportapp.models.recurring_support import SUPPORTING_STATUSES
from supportapp.services.card_expiry import EARLIEST_YEAR, LATEST_YEAR, of_support
from supportapp.services.periods import EARLIEST_DAY, ReportError

RECOVERY_WINDOW = timedelta(days=30)
CARD_RISK_DAYS = 30
DEFAULT_MONTHS = 12
MAX_MONTHS = 36
# Stripe's statuses for a subscription whose latest invoice is unpaid.
PAST_DUE_STATUSES = ("past_due", "unpaid")
RECOVERY_KEY = "recovery"
CARD_KEY = "card_expiring"
_MONTH_RE = re.compile(r"^([0-9]{4})-([0-9]{2})$")

RS, PF = RecurringSupport, PaymentFailure


# --- months --------------------------------------------------------------------------


def _month_index(year, month):
    return year * 12 + month - 1


def _month_of_index(index):
    year, month = divmod(index, 12)
    return date(year, month + 1, 1)


@dataclass(frozen=True)
class Months:
    """A range of whole UTC calendar months, `first` to `last` (first days), both included."""

    first: date
    last: date

    @property
    def bounds(self):
        """[start, end) as aware datetimes."""
        end = _month_of_index(_month_index(self.last.year, self.last.month) + 1)
        return (datetime(self.first.year, self.first.month, 1, tzinfo=UTC),
                datetime(end.year, end.month, 1, tzinfo=UTC))

    def each(self):
        """Every month of the range, oldest first, as its first day."""
        start = _month_index(self.first.year, self.first.month)
        end = _month_index(self.last.year, self.last.month)
        return [_month_of_index(index) for index in range(start, end + 1)]

    @property
    def label(self):
        first, last = month_key(self.first), month_key(self.last)
        return first if first == last else f"{first} to {last}"


def month_key(day):
    """date(2026, 3, 1) -> "2026-03"."""
    return f"{day.year:04d}-{day.month:02d}"


def _parse_month(text, name, latest):
    match = _MONTH_RE.match((text or "").strip())
    month = None
    if match and 1 <= int(match.group(2)) <= 12 and int(match.group(1)) >= 1:
        month = date(int(match.group(1)), int(match.group(2)), 1)
    if month is None:
        raise ReportError(f"{name} must be a month like 2026-03")
    earliest = EARLIEST_DAY.replace(day=1)
    if not earliest <= month <= latest:
        raise ReportError(f"{name} must be a month from {month_key(earliest)} "
                          f"to {month_key(latest)}")
    return month


def parse_months(start, end, now):
    """The Months that `start` and `end` ("YYYY-MM", both optional) ask for; by default the
    DEFAULT_MONTHS months up to `now`'s. Raises ReportError saying what is wrong."""
    this_month = date(now.year, now.month, 1)
    latest = _month_of_index(_month_index(now.year, now.month) + 12)
    last = _parse_month(end, "end", latest) if end else this_month
    if start:
        first = _parse_month(start, "start", latest)
    else:
        first = max(_month_of_index(_month_index(last.year, last.month) - DEFAULT_MONTHS + 1),
                    EARLIEST_DAY.replace(day=1))
    if last < first:
        raise ReportError("the end month comes before the start month")
    if _month_index(last.year, last.month) - _month_index(first.year, first.month) >= MAX_MONTHS:
        raise ReportError(f"at most {MAX_MONTHS} months at a time")
    return Months(first, last)


# --- monthly figures -----------------------------------------------------------------


@dataclass
class Figures:
    """One month's (or the range's) failed renewals in one currency; see the module."""

    failed: int = 0
    recovered: int = 0
    recovered_late: int = 0
    lost: int = 0
    open: int = 0
    money_recovered: int = 0  # minor units

    def add(self, other):
        for name in FIGURE_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


FIGURE_FIELDS = tuple(f.name for f in fields(Figures))
COUNT_FIELDS = tuple(name for name in FIGURE_FIELDS if name != "money_recovered")


@dataclass
class MonthFigures:
    month: date  # its first day
    by_currency: dict = field(default_factory=dict)  # currency -> Figures

    @property
    def key(self):
        return month_key(self.month)


@dataclass
class RecoveryReport:
    months: Months
    rows: list  # MonthFigures, oldest month first, one per month of the range
    totals: dict  # currency -> Figures over the whole range


def outcome(first_failed_at, recovered_at, lost_at):
    """What became of one failed renewal: recovered, recovered_late, lost or open."""
    if recovered_at is not None:
        return "recovered" if recovered_at - first_failed_at <= RECOVERY_WINDOW \
            else "recovered_late"
    return "lost" if lost_at is not None else "open"


def monthly_figures(months):
    """The RecoveryReport of the failed renewals that first failed within `months`."""
    start, end = months.bounds
    by_month = defaultdict(lambda: defaultdict(Figures))
    result = db.session.execute(
        select(PF.first_failed_at, PF.recovered_at, PF.lost_at, PF.currency, PF.amount_minor)
        .where(PF.first_failed_at >= start, PF.first_failed_at < end)
        .execution_options(yield_per=1000))
    for first_failed_at, recovered_at, lost_at, currency, amount in result:
        first_failed_at = first_failed_at.astimezone(UTC)
        figures = by_month[(first_failed_at.year, first_failed_at.month)][currency]
        figures.failed += 1
        kind = outcome(first_failed_at, recovered_at, lost_at)
        setattr(figures, kind, getattr(figures, kind) + 1)
        if kind == "recovered":
            figures.money_recovered += amount
    rows, totals = [], defaultdict(Figures)
    for month in months.each():
        by_currency = dict(sorted(by_month.get((month.year, month.month), {}).items()))
        for currency, figures in by_currency.items():
            totals[currency].add(figures)
        rows.append(MonthFigures(month, by_currency))
    return RecoveryReport(months, rows, dict(sorted(totals.items())))


# --- at risk now ---------------------------------------------------------------------


@dataclass
class PastDue:
    support: RecurringSupport
    failure: PaymentFailure | None  # None: Stripe says past due, no failure recorded here
    emails: list  # OutboxMessage, oldest first


@dataclass
class ExpiringCard:
    support: RecurringSupport
    card: object  # CardExpiry
    expired: bool
    emails: list


def _open_failure():
    return and_(PF.recurring_support_id == RS.id, PF.recovered_at.is_(None),
                PF.lost_at.is_(None))


def _past_due_query():
    return (select(RS, PF).outerjoin(PF, _open_failure())
            .where(RS.status.in_((*SUPPORTING_STATUSES, "unpaid")),
                   or_(PF.id.is_not(None), RS.status.in_(PAST_DUE_STATUSES))))


def _page(query, order, page, per_page):
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(query.order_by(*order).limit(per_page)
                              .offset(max(page - 1, 0) * per_page)).all()
    return rows, total


# Keys looked up per query: SQLite refuses an expression more than 1,000 deep, and each
# key is two conditions in one OR.
_KEYS_PER_QUERY = 100


def _keyed(prefix, keys):
    """Outbox messages whose key is `prefix:<k>` or starts `prefix:<k>:`, by k, oldest
    first. LIKE's wildcards in a key (`_` in every Stripe id) are escaped."""
    found = defaultdict(list)
    keys = list(keys)
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        conditions = []
        for key in keys[start:start + _KEYS_PER_QUERY]:
            exact = f"{prefix}:{key}"
            conditions += [OutboxMessage.key == exact,
                           OutboxMessage.key.startswith(exact + ":", autoescape=True)]
        for message in db.session.scalars(select(OutboxMessage).where(or_(*conditions))):
            found[message.key.split(":")[1]].append(message)
    for messages in found.values():
        messages.sort(key=lambda m: (m.created_at, m.id))
    return found


def past_due(page=1, per_page=50):
    """([PastDue], total): gifts with a renewal unpaid, the longest unpaid first."""
    rows, total = _page(_past_due_query(),
                        (func.coalesce(PF.first_failed_at, RS.status_at, RS.created_at),
                         RS.id, PF.id),
                        page, per_page)
    emails = _keyed(RECOVERY_KEY, [f.stripe_invoice_id for _, f in rows if f is not None])
    return [PastDue(support, failure,
                    emails.get(failure.stripe_invoice_id, []) if failure else [])
            for support, failure in rows], total


def _card_index():
    return RS.card_exp_year * 12 + RS.card_exp_month - 1


def _expiring_query(now, days):
    horizon = now + timedelta(days=days)
    return select(RS).where(
        RS.status.in_(SUPPORTING_STATUSES), RS.cancel_at_period_end.is_(false()),
        RS.card_exp_year.between(EARLIEST_YEAR, LATEST_YEAR),
        RS.card_exp_month.between(1, 12),
        # The card stops working (the 1st of the month after its expiry) by `horizon`.
        _card_index() < _month_index(horizon.year, horizon.month))


def expiring_cards(now, page=1, per_page=50, days=CARD_RISK_DAYS):
    """([ExpiringCard], total): live gifts whose card stops working within `days` of `now`
    (or has already), the soonest first."""
    query = _expiring_query(now, days)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    supports = db.session.scalars(query.order_by(_card_index(), RS.id).limit(per_page)
                                  .offset(max(page - 1, 0) * per_page)).all()
    emails = _keyed(CARD_KEY, [s.stripe_subscription_id for s in supports])
    rows = []
    for support in supports:
        card = of_support(support)
        rows.append(ExpiringCard(support, card, card.expires_before(now),
                                 emails.get(support.stripe_subscription_id, [])))
    return rows, total


def all_pages(lister, per_page=500):
    """Every row of a paged lister (`lister(page, per_page)` -> (rows, total)), a page at a
    time, for exports."""
    page = 1
    while True:
        rows, total = lister(page, per_page)
        yield from rows
        if not rows or page * per_page >= total:
            return
        page += 1
