"""A supporter's change (a SupportChange) as one sentence for staff: "Amount changed from $5
to $8 a month", "Paused for 2 months (resumes on January 5, 2027)", "Cancelled: too
expensive".

The manage page writes the details; this reads them defensively. What it reads:
- amount_changed: {"from": 500, "to": 800, "currency": "USD", "frequency": "monthly"};
- frequency_changed: {"from": "monthly", "to": "annual"}, optionally with "amount" and
  "currency" (the amount at the new frequency);
- paused: {"months": 2, "resumes_at": "2027-01-05"};
- cancelled: {"reason": "too_expensive"};
- any other kind: its words alone.
A detail that is missing or of the wrong type, or a kind added later, leaves a shorter
sentence, never an error or a code.
"""
from datetime import date

from babel.dates import format_date

from supportapp.labels import label
from supportapp.services.giving import FREQUENCIES, PER_PERIOD
from supportapp.services.money import format_money

MAX_REASON_LENGTH = 200  # a free-text reason, should one ever be stored, stays one line


def describe_change(kind, details):
    """The sentence staff read for a change of `kind` with `details` (a dict, or anything)."""
    kind = kind if isinstance(kind, str) else ""
    details = details if isinstance(details, dict) else {}
    describe = _DESCRIBERS.get(kind)
    return (describe(details) if describe else None) or label(kind, "support_change") \
        or "Changed"


def _money(details, key):
    value, currency = details.get(key), details.get("currency")
    if type(value) is not int or value < 0 or not isinstance(currency, str) \
            or len(currency) != 3 or not currency.isascii() or not currency.isalpha():
        return None
    return format_money(value, currency.upper())


def _per_period(details):
    frequency = details.get("frequency")
    return PER_PERIOD.get(frequency, "") if isinstance(frequency, str) else ""


def _frequency(details, key):
    value = details.get(key)
    return label(value, "frequency").lower() if value in FREQUENCIES else None


def _day(details, key):
    try:
        return format_date(date.fromisoformat(details.get(key)), format="long", locale="en")
    except (TypeError, ValueError):
        return None


def _from_to(start, before, after):
    if before and after:
        return f"{start} from {before} to {after}"
    return f"{start} to {after}" if after else None


def _amount_changed(details):
    words = _from_to("Amount changed", _money(details, "from"), _money(details, "to"))
    return f"{words} {_per_period(details)}".strip() if words else None


def _frequency_changed(details):
    words = _from_to("Frequency changed", _frequency(details, "from"),
                     _frequency(details, "to"))
    amount = _money(details, "amount")
    if words and amount:
        to = details.get("to")
        words = f"{words}, now {amount} {PER_PERIOD.get(to, '')}".strip()
    return words


def _paused(details):
    months, resumes = details.get("months"), _day(details, "resumes_at")
    if type(months) is int and months > 0:
        words = f"Paused for {months} month{'' if months == 1 else 's'}"
        return f"{words} (resumes on {resumes})" if resumes else words
    return f"Paused until {resumes}" if resumes else None


def _cancelled(details):
    reason = details.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        return None
    words = label(reason.strip()[:MAX_REASON_LENGTH], "cancel_reason")
    return f"Cancelled: {words[0].lower()}{words[1:]}"


_DESCRIBERS = {"amount_changed": _amount_changed, "frequency_changed": _frequency_changed,
               "paused": _paused, "cancelled": _cancelled}
