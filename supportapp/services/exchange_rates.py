"""Gifts in one currency counted in another, at the rates set in SUPPORTAPP_GOAL_RATES.

The rates (config["GOAL_RATES"]) say what one unit of each currency is worth in a reference
currency (GOAL_RATE_REFERENCE); between two other currencies the app goes through it. Every
supported currency has two decimals, so a rate between units is also the rate between minor
units. Arithmetic is Decimal, and a converted amount is rounded down to a whole minor unit.
"""
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, localcontext

from babel.numbers import format_decimal

from supportapp.config import GOAL_RATE_REFERENCE, SUPPORTED_CURRENCIES

# Far more digits than an amount (at most 10^15 minor units) times a rate can have, so the
# product is exact and the quotient, rounded down, keeps every digit left of the point.
_PRECISION = 60
RATE_DISPLAY_FORMAT = "@###"  # up to four significant digits: 1.16, 0.8621, 0.00001234


def convert_minor(amount_minor, from_currency, to_currency, rates):
    """amount_minor in from_currency as minor units of to_currency, rounded down.

    None when either currency has no rate (its gifts cannot be counted in the other).
    """
    if from_currency == to_currency:
        return amount_minor
    if from_currency not in rates or to_currency not in rates:
        return None
    # Multiplied first (exact), divided once (rounded down at 60 digits, so never up past a
    # whole number): the floor of the exact value. A ratio rounded first could lose a cent.
    with localcontext(prec=_PRECISION, rounding=ROUND_FLOOR):
        value = Decimal(amount_minor) * rates[from_currency] / rates[to_currency]
        return int(value.to_integral_value())


def rate_between(from_currency, to_currency, rates):
    """What one unit of from_currency is worth in to_currency (a Decimal), or None; for
    showing to staff (convert_minor does the counting)."""
    if from_currency not in rates or to_currency not in rates:
        return None
    return rates[from_currency] / rates[to_currency]


def sum_in_currency(totals, currency, rates):
    """The sum of {currency: minor} totals in `currency`; each other currency's total is
    converted once and rounded down. Totals with no rate are left out."""
    converted = (convert_minor(minor, code, currency, rates) for code, minor in totals.items())
    return sum(minor for minor in converted if minor is not None)


@dataclass(frozen=True)
class GoalRatesNote:
    """What staff are told about a goal in `currency`: which gifts count, at which rates."""

    currency: str
    rates: tuple  # (("EUR", "1.16"), ...): one unit of each, in the goal's currency
    uncounted: tuple  # currencies whose gifts do not count toward this goal
    reference: str = GOAL_RATE_REFERENCE


def goal_rates_note(currency, rates):
    """The GoalRatesNote for a goal in `currency` under these rates."""
    counted, uncounted = [], []
    for code in SUPPORTED_CURRENCIES:
        if code == currency:
            continue
        rate = rate_between(code, currency, rates)
        if rate is None:
            uncounted.append(code)
        else:
            counted.append((code, format_decimal(rate, format=RATE_DISPLAY_FORMAT, locale="en")))
    return GoalRatesNote(currency, tuple(counted), tuple(uncounted))
