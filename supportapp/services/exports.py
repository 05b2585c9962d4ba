"""CSV exports of the report tables: money as decimal strings beside a currency, never floats.

Every text cell that a spreadsheet would read as a formula (= + - @, tab, carriage return)
gets a leading quote, so a reader's email or a story title cannot run in staff's Excel.
"""
import csv
import io

from supportapp.services.money import decimal_string

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

STORY_HEADER = (
    "period_start", "period_end", "story_id", "slug", "title", "section", "rendered",
    "viewable", "clicks", "checkouts", "contributions", "recurring_won", "conversion_rate",
    "currency", "revenue", "revenue_per_1000_viewable",
)
VARIANT_HEADER = (
    "period_start", "period_end", "appeal_id", "variant_id", "name", "is_control", "rendered",
    "viewable", "clicks", "checkouts", "contributions", "conversion_rate", "ci_low", "ci_high",
    "chance_beats_control", "currency", "revenue", "annualised_per_1000_viewable",
    "monthly_offers_shown", "monthly_offers_accepted",
)
CONTRIBUTION_HEADER = (
    "id", "created_at", "paid_at", "status", "frequency", "currency", "amount", "refunded",
    "story", "appeal_id", "variant_id", "email", "stripe_payment_intent_id",
    "stripe_subscription_id", "stripe_customer_id", "stripe_invoice_id",
    "stripe_checkout_session_id",
)


def safe_cell(value):
    """The value as a CSV cell: None is empty, formula-like text is quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _rate(value):
    return "" if value is None else f"{value:.6f}"


def _money(amounts, currency):
    return decimal_string(amounts[currency]) if currency in amounts else ""


def _by_currency(*amount_dicts):
    """The currencies any of the dicts mention, or [None] for one row with no money."""
    currencies = sorted({code for amounts in amount_dicts for code in amounts})
    return currencies or [None]


def story_rows(rows, period):
    """One line per story and currency; a story's counts repeat on each currency's line."""
    for row in rows:
        revenue, rpm = row.revenue or {}, row.rpm or {}
        for currency in _by_currency(revenue, rpm):
            yield (period.start.isoformat(), period.end.isoformat(), row.story_id, row.slug,
                   row.title, row.section, row.rendered, row.viewable, row.clicks, row.checkouts,
                   row.contributions, row.recurring_won, _rate(row.conversion_rate), currency,
                   _money(revenue, currency), _money(rpm, currency))


def variant_rows(rows, period, appeal_id):
    """One line per variant and currency, with the conversion interval and chance to win."""
    for row in rows:
        revenue, annualised = row.revenue or {}, row.annualised_per_thousand or {}
        for currency in _by_currency(revenue, annualised):
            yield (period.start.isoformat(), period.end.isoformat(), appeal_id, row.variant_id,
                   row.name, "yes" if row.is_control else "no", row.rendered, row.viewable,
                   row.clicks, row.checkouts, row.contributions, _rate(row.conversion_rate),
                   _rate(row.ci_low), _rate(row.ci_high), _rate(row.chance_beats_control),
                   currency, _money(revenue, currency), _money(annualised, currency),
                   row.offers_shown, row.offers_accepted)


def _when(value):
    return value.isoformat() if value else ""


def contribution_row(row, story_slug):
    return (row.id, _when(row.created_at), _when(row.paid_at), row.status, row.frequency,
            row.currency, decimal_string(row.amount_minor),
            decimal_string(row.amount_refunded_minor or 0), story_slug, row.appeal_id,
            row.variant_id, row.email, row.stripe_payment_intent_id, row.stripe_subscription_id,
            row.stripe_customer_id, row.stripe_invoice_id, row.stripe_checkout_session_id)


def csv_lines(header, rows):
    """The CSV text, a line at a time (for a streamed response)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells):
        writer.writerow([safe_cell(c) for c in cells])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(header)
    for row in rows:
        yield line(row)
