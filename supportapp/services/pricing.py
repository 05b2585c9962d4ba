"""What a reader pays: reading an amount they typed, the limits, and covering the card fees.

Amounts are integers in minor units; every supported currency has two decimals.
"""
import re
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from supportapp.services.money import MINOR_PER_MAJOR, format_money

MIN_AMOUNT_MINOR = 100  # 1.00 in every supported currency
# Digits with at most one decimal point, an optional thousands comma style ("1,000.50").
_AMOUNT_RE = re.compile(r"^(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?(?:\.[0-9]*)?$")


class AmountError(ValueError):
    """An amount the reader typed that cannot be charged; the message says why, for people."""


def parse_amount(text):
    """'12.50' -> 1250; '5' -> 500. Raises AmountError for anything else (never a float)."""
    text = (text or "").strip().lstrip("$€£").strip()
    if not text:
        raise AmountError("Choose or enter an amount.")
    if len(text) > 20 or not _AMOUNT_RE.match(text) or not any(c in "0123456789" for c in text):
        raise AmountError("Enter the amount as a number, for example 5 or 12.50.")
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the pattern already rules this out
        raise AmountError("Enter the amount as a number, for example 5 or 12.50.") from exc
    if value.as_tuple().exponent < -2:
        raise AmountError("Use at most two decimals, for example 12.50.")
    return int(value * MINOR_PER_MAJOR)


def check_limits(amount_minor, currency, max_minor):
    """Raise AmountError unless MIN_AMOUNT_MINOR <= amount_minor <= max_minor."""
    if amount_minor < MIN_AMOUNT_MINOR:
        smallest = format_money(MIN_AMOUNT_MINOR, currency)
        raise AmountError(f"The smallest contribution is {smallest}.")
    if amount_minor > max_minor:
        raise AmountError(f"The largest contribution we can take online is "
                          f"{format_money(max_minor, currency)}.")


def gross_up(amount_minor, rate, fixed_minor):
    """The total to charge so that, after a fee of rate * total + fixed, amount_minor is left.

    total = ceil((amount + fixed) / (1 - rate)), in exact decimal arithmetic.
    """
    total = (Decimal(amount_minor + fixed_minor) / (1 - Decimal(rate)))
    return int(total.to_integral_value(rounding=ROUND_CEILING))


def charged_amount(amount_minor, currency, cover_fees, fees):
    """What the reader pays: the amount itself, or grossed up when they cover the fees."""
    if not cover_fees:
        return amount_minor
    rate, fixed_minor = fees[currency]
    return gross_up(amount_minor, rate, fixed_minor)


def rate_fraction(rate):
    """Decimal('0.029') -> (29, 1000): the fee rate as integers, for the page's script."""
    numerator, denominator = Decimal(rate).as_integer_ratio()
    return numerator, denominator
