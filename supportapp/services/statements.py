"""Year-end statements: every gift one supporter paid in a calendar year, with the totals
per currency, emailed once with a PDF copy and downloadable from the manage page.

A supporter is an email address (compared without regard to case), as on the manage page;
their gifts are their Contribution rows, renewals of recurring gifts included. A gift
belongs to the year in which it was paid, in UTC like every report here. Gifts never paid
(pending, failed) are not on a statement.

What "total" means: per currency, what was paid that year less what was refunded of those
payments by the day the statement was made. Amounts in different currencies are never
added together. A disputed payment (the supporter's bank took the money back, or may) is
listed but not counted: a statement must never claim more than the newsroom kept.

`flask --app app statements send --year 2026` writes one email per supporter into the
outbox (the worker sends it), keyed by the year and a digest of the address: a second
run, or a run interrupted and started again, writes nothing twice. An erased supporter's
gifts no longer carry an address, so they get no statement.
"""
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from babel.dates import format_date
from flask import current_app
from sqlalchemy import func, select

from supportapp.extensions import db
from supportapp.labels import label
from supportapp.models import Contribution, OutboxMessage
from supportapp.services.clock import current_time
from supportapp.services.money import format_money_exact
from supportapp.services.outbox import Attachment, OutboxError, check_address, queue_email
from supportapp.services.periods import EARLIEST_DAY
from supportapp.services.receipts import manage_url
from supportapp.services.supporter_email import email_digest, normalise_email

KIND = "statement"
TEMPLATE = "statement"
PDF_TYPE = "application/pdf"
EARLIEST_YEAR = EARLIEST_DAY.year  # nothing the app records is older
# A disputed payment is listed, not counted (see the module's docstring).
NOT_COUNTED = frozenset({"disputed"})
TOTAL_MEANING = ("Total: what you paid in {year} less what was refunded to you, for each "
                 "currency (amounts in different currencies are not added together).")
DISPUTED_MEANING = "A disputed payment is listed but not counted in the totals."

# What `queue_statement` did for one supporter; the command counts them.
QUEUED, ALREADY, UNUSABLE_ADDRESS, NO_GIFTS = "queued", "already", "unusable", "no_gifts"


class StatementError(ValueError):
    """No statement can be sent; the message says why."""


class YearRefused(StatementError):
    """A year statements cannot be sent for: before any record, still going, or to come."""


class NobodyGave(StatementError):
    """Nobody paid a gift in the year."""


@dataclass(frozen=True)
class StatementLine:
    """One gift on a statement, with its words and amounts as people read them."""

    paid_at: datetime
    frequency: str | None
    amount_minor: int
    refunded_minor: int
    currency: str
    status: str
    reference: str

    @property
    def counted(self):
        return self.status not in NOT_COUNTED

    @property
    def date_text(self):
        return format_date(self.paid_at, format="long", locale="en")

    @property
    def kind_text(self):
        return label(self.frequency or "one_off", "frequency")

    @property
    def amount_text(self):
        return format_money_exact(self.amount_minor, self.currency)

    @property
    def refunded_text(self):
        return format_money_exact(self.refunded_minor, self.currency) \
            if self.refunded_minor else "No"

    @property
    def status_text(self):
        words = label(self.status, "contribution_status")
        return words if self.counted else f"{words} (not counted)"


@dataclass(frozen=True)
class CurrencyTotal:
    """One currency's sums on a statement, in minor units."""

    currency: str
    paid_minor: int
    refunded_minor: int

    @property
    def total_minor(self):
        return self.paid_minor - self.refunded_minor

    @property
    def paid_text(self):
        return format_money_exact(self.paid_minor, self.currency)

    @property
    def refunded_text(self):
        return format_money_exact(self.refunded_minor, self.currency)

    @property
    def total_text(self):
        return format_money_exact(self.total_minor, self.currency)


@dataclass(frozen=True)
class Statement:
    """What one address gave in one year, and who received it, as of `issued_at`."""

    year: int
    email: str
    lines: tuple  # StatementLine, oldest first
    totals: tuple  # CurrencyTotal, by currency code
    issued_at: datetime
    org_legal_name: str
    org_address: str
    receipt_note: str
    site_name: str

    @property
    def complete(self):
        """False while the year is still going: more gifts may come."""
        return self.issued_at >= year_bounds(self.year)[1]


    @property
    def issued_text(self):
        return format_date(self.issued_at, format="long", locale="en")

    @property
    def period_text(self):
        """The days the statement covers: the year, or up to its issue while it goes on."""
        start, end = year_bounds(self.year)
        last = min(end - timedelta(days=1), self.issued_at)
        return (f"{format_date(start, format='MMMM d', locale='en')} to "
                f"{format_date(last, format='long', locale='en')} (UTC)")

    @property
    def meaning(self):
        """What the totals mean, in sentences for the reader."""
        notes = [TOTAL_MEANING.format(year=self.year)]
        if any(not line.counted for line in self.lines):
            notes.append(DISPUTED_MEANING)
        return notes

    @property
    def filename(self):
        return f"statement-{self.year}.pdf"


def year_bounds(year):
    """[1 January, next 1 January) of `year`, as UTC datetimes."""
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def check_year_to_send(year, now=None):
    """`year` if statements can be sent for it now; else YearRefused saying why. The
    year must be over: a statement is sent once, so one sent early would leave out every
    gift still to come that year."""
    now = now or current_time()
    if year < EARLIEST_YEAR:
        raise YearRefused(f"{year} is before {EARLIEST_YEAR}: no gift is recorded that "
                          "early.")
    if year > now.year:
        raise YearRefused(f"{year} is in the future (it is {now.year} now): there is "
                          "nothing to send yet.")
    if year == now.year:
        raise YearRefused(
            f"{year} is not over yet. A statement is sent once per supporter and year, so "
            f"one sent now would leave out the gifts still to come; send them from "
            f"1 January {year + 1}.")
    return year


def _paid_in(year):
    start, end = year_bounds(year)
    return (Contribution.paid_at.is_not(None), Contribution.paid_at >= start,
            Contribution.paid_at < end)


def _of(email):
    return func.lower(Contribution.email) == normalise_email(email)


def _line(row):
    return StatementLine(
        paid_at=row.paid_at, frequency=row.frequency, amount_minor=row.amount_minor,
        refunded_minor=row.amount_refunded_minor or 0, currency=row.currency,
        status=row.status, reference=(row.stripe_invoice_id or row.stripe_payment_intent_id
                                      or row.stripe_checkout_session_id or ""))


def _totals(lines):
    paid, refunded = Counter(), Counter()
    for line in lines:
        if line.counted:
            paid[line.currency] += line.amount_minor
            refunded[line.currency] += line.refunded_minor
    return tuple(CurrencyTotal(currency, paid[currency], refunded[currency])
                 for currency in sorted(paid))


def statement_for(email, year, now=None):
    """The Statement of what `email` paid in `year`, as of now; None when they paid
    nothing that year (or the year is one no gift can be from)."""
    now = now or current_time()
    if not EARLIEST_YEAR <= year <= now.year:
        return None
    rows = db.session.scalars(select(Contribution).where(_of(email), *_paid_in(year))
                              .order_by(Contribution.paid_at, Contribution.id)).all()
    if not rows:
        return None
    config = current_app.config
    lines = tuple(_line(row) for row in rows)
    return Statement(
        year=year, email=email.strip(), lines=lines, totals=_totals(lines),
        issued_at=now,
        org_legal_name=config["ORG_LEGAL_NAME"] or config["SITE_NAME"],
        org_address=config["ORG_ADDRESS"], receipt_note=config.get("RECEIPT_NOTE") or "",
        site_name=config["SITE_NAME"])


def statement_years(email):
    """The years in which `email` paid at least one gift, newest first."""
    # Years taken in Python from the UTC datetimes: SQL's EXTRACT would use the database
    # session's time zone on PostgreSQL, and move a New Year's Eve gift to the next year.
    paid = db.session.scalars(select(Contribution.paid_at).where(
        _of(email), Contribution.paid_at.is_not(None))).all()
    return sorted({moment.astimezone(UTC).year for moment in paid}, reverse=True)


def statement_choices(email):
    """[(year, words)] of the years `email` can download a statement for, newest first;
    this year's says it is not over."""
    this_year = current_time().year
    return [(year, f"{year} (so far)" if year >= this_year else str(year))
            for year in statement_years(email)]


def statement_pdf(email, year):
    """(file name, PDF bytes) of the statement of `email` for `year` as of now, or None
    when they paid nothing that year: the manage page's and the dashboard's download."""
    statement = statement_for(email, year)
    if statement is None:
        return None
    return statement.filename, _render_pdf(statement)


def _render_pdf(statement):
    # Deferred: fpdf2 (with numpy, Pillow and fontTools) is about 38 MB that every web
    # worker would hold, since the manage page and the dashboard import this module, for
    # the few requests and the CLI run that make a PDF.
    from supportapp.services.statement_pdf import render_statement_pdf

    return render_statement_pdf(statement)


@dataclass
class StatementRun:
    """Who gets a statement for `year`: one address per supporter (as they last typed
    it), and how many of the year's payments carry no address (erased, or never given)."""

    year: int
    addresses: list
    without_address: int
    outcomes: Counter = field(default_factory=Counter)


def plan_statements(year):
    """The StatementRun for `year`: YearRefused (see `check_year_to_send`), or NobodyGave
    when nobody paid a gift that year."""
    check_year_to_send(year)
    rows = db.session.execute(select(Contribution.email).where(*_paid_in(year)).order_by(
        Contribution.paid_at, Contribution.id)).scalars().all()
    db.session.rollback()  # a read: nothing stays open while the statements are written
    if not rows:
        raise NobodyGave(f"Nobody paid a gift in {year}: no statement to send.")
    latest = {}
    for address in rows:
        if address:
            latest[normalise_email(address)] = address.strip()
    return StatementRun(year, sorted(latest.values(), key=normalise_email),
                        sum(1 for address in rows if not address))


def statement_key(year, email):
    """The outbox key of `email`'s statement for `year`: a digest, never the address."""
    return f"{KIND}:{year}:{email_digest(email)}"


def queue_statement(year, email):
    """Write `email`'s statement for `year` into the outbox with its PDF, and commit, unless
    one was written before; returns QUEUED, ALREADY, UNUSABLE_ADDRESS or NO_GIFTS (their
    gifts were erased meanwhile)."""
    try:
        to = check_address(email)
    except OutboxError:
        return UNUSABLE_ADDRESS
    key = statement_key(year, to)
    # The PDF is most of the cost: a second run looks the key up first.
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)):
        db.session.rollback()
        return ALREADY
    statement = statement_for(to, year)
    if statement is None:
        db.session.rollback()
        return NO_GIFTS
    pdf = Attachment(statement.filename, PDF_TYPE, _render_pdf(statement))
    written = queue_email(key, KIND, to, TEMPLATE, attachments=[pdf],
                          **email_facts(statement))
    db.session.commit()
    return QUEUED if written else ALREADY


def email_facts(statement):
    """What the statement email's templates show."""
    return {"statement": statement, "manage_url": manage_url()}

