"""Money for people: integer minor units in, Babel-formatted text out. Never floats."""
from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency

MINOR_PER_MAJOR = 100  # every supported currency (USD, EUR, GBP, CAD, AUD) has two decimals


def to_decimal(amount_minor):
    """1250 -> Decimal('12.50')."""
    return Decimal(amount_minor) / MINOR_PER_MAJOR


def decimal_string(amount_minor):
    """The amount as a form value: 500 -> '5', 1250 -> '12.50'."""
    whole, cents = divmod(amount_minor, MINOR_PER_MAJOR)
    return str(whole) if cents == 0 else f"{whole}.{cents:02d}"


@lru_cache(maxsize=4096)  # appeals show the same few amounts on every story page
def format_money(amount_minor, currency, locale="en"):
    """500, 'GBP' -> '£5'; 1250, 'USD' -> '$12.50'. Whole amounts drop their zeros."""
    value = to_decimal(amount_minor)
    if amount_minor % MINOR_PER_MAJOR == 0:
        return format_currency(value, currency, format="¤#,##0", locale=locale,
                               currency_digits=False)
    return format_currency(value, currency, locale=locale)


def format_money_exact(amount_minor, currency, locale="en"):
    """500, 'USD' -> '$5.00': every minor digit shown, as a receipt states an amount."""
    return format_currency(to_decimal(amount_minor), currency, locale=locale)


# Babel's international English: its symbols name the currency (US$, CA$, A$, €, £), so an
# amount reads the same to every reader, whichever currency they give in themselves.
UNAMBIGUOUS_LOCALE = "en_001"


def format_money_unambiguous(amount_minor, currency):
    """2500000, 'USD' -> 'US$25,000'; 'CAD' -> 'CA$25,000'; 'EUR' -> '€25,000'."""
    return format_money(amount_minor, currency, UNAMBIGUOUS_LOCALE)
