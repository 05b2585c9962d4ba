"""Gifts to put on statements, and reading a statement PDF back as text (pypdf)."""
import io
from datetime import UTC, datetime
from itertools import count

from pypdf import PdfReader

from supportapp.extensions import db
from supportapp.models import Contribution
from supportapp.services.clock import current_time

_ids = count(1)


def last_year():
    """The latest year statements can be sent for: the one before the app's present."""
    return current_time().year - 1


def gift(email, amount, currency, paid_at, refunded=0, status=None, frequency="one_off",
         billing_reason=None):
    """A paid Contribution (refunded in part or whole when `refunded`), not committed."""
    n = next(_ids)
    row = Contribution(
        amount_minor=amount, currency=currency, frequency=frequency, email=email,
        amount_refunded_minor=refunded, paid_at=paid_at, billing_reason=billing_reason,
        stripe_payment_intent_id=f"pi_statement_{n}",
        stripe_invoice_id=f"in_statement_{n}" if frequency != "one_off" else None)
    row.refresh_status()
    if status:
        row.status = status
    db.session.add(row)
    return row


def two_currency_year(email, year):
    """The Done-when supporter: euro gifts (a monthly gift and its renewal, one refunded
    in part), pound gifts (one refunded in full), and what must stay off their statement:
    a gift the year before, one never paid, and someone else's. Commits.

    EUR: paid 10.00 + 10.00 + 25.50 = 45.50, refunded 5.50, total 40.00.
    GBP: paid 20.00 + 7.25 = 27.25, refunded 7.25, total 20.00."""
    at = lambda month, day=15: datetime(year, month, day, 12, tzinfo=UTC)  # noqa: E731
    gift(email, 1000, "EUR", at(1), frequency="monthly", billing_reason="subscription_create")
    gift(email, 1000, "EUR", at(2), frequency="monthly", billing_reason="subscription_cycle")
    gift(email.upper(), 2550, "EUR", at(3), refunded=550)
    gift(email, 2000, "GBP", at(6))
    gift(email, 725, "GBP", at(9), refunded=725)
    gift(email, 9900, "EUR", datetime(year - 1, 12, 31, 23, 59, 59, tzinfo=UTC))
    gift(email, 4400, "EUR", None, status="failed")
    gift("someone.else@example.com", 6600, "EUR", at(4))
    db.session.commit()


def pdf_text(content):
    """Every page's text of a PDF, as pypdf reads it."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def totals_in(text):
    """{currency: (paid, refunded, total)} from the Totals table of a statement's text."""
    rows = text.split("Currency Paid Refunded Total\n", 1)[1].split("\nTotal: ", 1)[0]
    return {cells[0]: tuple(cells[1:]) for cells in (line.split() for line in rows.splitlines())}
