"""Choosing a reader's currency from their Accept-Language."""
from babel import Locale, UnknownLocaleError
from babel.numbers import get_territory_currencies

from supportapp.config import SUPPORTED_CURRENCIES

DEFAULT_CURRENCY = "USD"


def currency_for_languages(languages, default=DEFAULT_CURRENCY):
    """The first supported currency of the reader's preferred locales, else the default.

    `languages` are language tags in preference order, e.g. ["en-GB", "en"].
    """
    for tag in languages:
        try:
            locale = Locale.parse(tag.replace("-", "_"))
        except (UnknownLocaleError, ValueError, TypeError):
            continue
        if not locale.territory:
            continue
        for code in get_territory_currencies(locale.territory):
            if code in SUPPORTED_CURRENCIES:
                return code
    return default


def normalise_currency(code, default=DEFAULT_CURRENCY):
    """An explicitly chosen currency, if supported."""
    code = (code or "").strip().upper()
    return code if code in SUPPORTED_CURRENCIES else default
