"""The "At risk" data as plain records (the reports API) and CSV lines (the dashboard's
downloads): codes and minor units, as the other exports; money in CSV as decimal strings
beside its currency. services/recovery_figures.py decides what is at risk and the figures.
"""
from supportapp.services.money import decimal_string
from supportapp.services.recovery_figures import (
    COUNT_FIELDS,
    FIGURE_FIELDS,
    all_pages,
    expiring_cards,
    past_due,
)

RECOVERY_HEADER = ("month", "currency", *COUNT_FIELDS, "money_recovered")
AT_RISK_HEADER = (
    "risk", "support_id", "stripe_subscription_id", "email", "currency", "amount",
    "frequency", "status", "renews_at", "stripe_invoice_id", "invoice_amount",
    "first_failed_at", "attempts", "reason", "next_retry_at", "card_expiry", "card_expired",
    "emails",
)


def _when(value):
    return value.isoformat() if value else None


def emails_record(messages):
    """[{kind, status, created_at, sent_at}] of outbox messages: never their text."""
    return [{"kind": m.kind, "status": m.status, "created_at": _when(m.created_at),
             "sent_at": _when(m.sent_at)} for m in messages]


def _support_record(support):
    return {"support_id": support.id, "stripe_subscription_id": support.stripe_subscription_id,
            "email": support.email, "currency": support.currency,
            "amount_minor": support.amount_minor, "frequency": support.frequency,
            "status": support.status, "renews_at": _when(support.current_period_end)}


def past_due_record(row):
    """One past-due gift (recovery_figures.PastDue) as plain data."""
    failure = row.failure
    return {**_support_record(row.support),
            "stripe_invoice_id": failure.stripe_invoice_id if failure else None,
            "invoice_amount_minor": failure.amount_minor if failure else None,
            "first_failed_at": _when(failure.first_failed_at) if failure else None,
            "attempts": failure.attempt_count if failure else None,
            "reason": failure.reason if failure else None,
            "next_retry_at": _when(failure.next_retry_at) if failure else None,
            "emails": emails_record(row.emails)}


def expiring_card_record(row):
    """One gift whose card expires soon (recovery_figures.ExpiringCard) as plain data."""
    return {**_support_record(row.support), "card_expiry": row.card.key,
            "card_expired": row.expired, "emails": emails_record(row.emails)}


def figures_record(figures):
    return {name: getattr(figures, name) for name in FIGURE_FIELDS}


def recovery_record(report):
    """A RecoveryReport as plain data: each month with its figures per currency, and the
    range's totals per currency."""
    return {
        "months": {"start": report.months.first.isoformat()[:7],
                   "end": report.months.last.isoformat()[:7], "label": report.months.label},
        "figures": [{"month": row.key,
                     "currencies": {code: figures_record(figures)
                                    for code, figures in row.by_currency.items()}}
                    for row in report.rows],
        "totals": {code: figures_record(figures) for code, figures in report.totals.items()},
    }


def recovery_rows(report):
    """CSV lines: one per month and currency; a month with no failed renewal has one line
    with no currency and zeros."""
    for row in report.rows:
        if not row.by_currency:
            yield (row.key, None, *(0 for _ in COUNT_FIELDS), None)
        for currency, figures in row.by_currency.items():
            counts = [getattr(figures, name) for name in COUNT_FIELDS]
            yield (row.key, currency, *counts, decimal_string(figures.money_recovered))


def _csv_emails(emails):
    return "; ".join(f"{e['kind']}:{e['status']}" for e in emails)


def _csv_line(risk, record):
    def money(name):
        value = record.get(name)
        return None if value is None else decimal_string(value)

    return (risk, record["support_id"], record["stripe_subscription_id"], record["email"],
            record["currency"], money("amount_minor"), record["frequency"], record["status"],
            record["renews_at"], record.get("stripe_invoice_id"), money("invoice_amount_minor"),
            record.get("first_failed_at"), record.get("attempts"), record.get("reason"),
            record.get("next_retry_at"), record.get("card_expiry"),
            {True: "yes", False: "no"}.get(record.get("card_expired")),
            _csv_emails(record["emails"]))


def at_risk_rows(now):
    """CSV lines: every past-due gift (`past_due`), then every card expiring soon
    (`card_expiring`), read a page at a time."""
    for row in all_pages(lambda page, per_page: past_due(page, per_page)):
        yield _csv_line("past_due", past_due_record(row))
    for row in all_pages(lambda page, per_page: expiring_cards(now, page, per_page)):
        yield _csv_line("card_expiring", expiring_card_record(row))
