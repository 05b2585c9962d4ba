"""Currencies the emulator accepts, Stripe's minimum charges, display formatting."""

from decimal import Decimal

from babel.numbers import format_currency

from .wire import StripeError

# Stripe's documented minimum charge per currency, in minor units
# (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).
# The emulator supports the currencies the app sells in; others are refused.
MINIMUM_CHARGE = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50}

# Stripe allows at most eight digits in an amount.
MAXIMUM_CHARGE = 99_999_999

_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "cad": "$", "aud": "$"}

_FREQUENCY = {"day": "daily", "week": "weekly", "month": "monthly", "year": "annual"}


def format_amount(amount, currency):
    """`1000, "usd"` -> `$10.00` (all supported currencies have two decimals)."""
    return format_currency(Decimal(amount) / 100, currency.upper(), locale="en_US")


def format_minimum(currency):
    minimum = MINIMUM_CHARGE[currency]
    return f"{_SYMBOLS[currency]}{minimum // 100}.{minimum % 100:02d} {currency}"


def frequency(recurring):
    """How often a price is charged, in words: one-off, monthly, annual..."""
    if not recurring:
        return "one-off"
    count, interval = recurring["interval_count"], recurring["interval"]
    if count == 1:
        return _FREQUENCY[interval]
    return f"every {count} {interval}s"


def check_currency(value, param):
    """A currency code the emulator supports, lowercased; else Stripe's 400 naming `param`."""
    currency = value.lower()
    if currency not in MINIMUM_CHARGE:
        raise StripeError(
            f"Invalid currency: {value}. The Stripe emulator supports "
            f"{', '.join(MINIMUM_CHARGE)}.",
            param=param,
        )
    return currency
