"""Gifts in other currencies counted toward a goal: the rates setting, conversion, rounding."""
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportapp.config import DEFAULT_GOAL_RATES, ConfigError, load_config
from supportapp.services.exchange_rates import (
    convert_minor,
    goal_rates_note,
    sum_in_currency,
)

RATES = {"USD": Decimal(1), "EUR": Decimal("1.08"), "GBP": Decimal("1.27")}


def _rates_from(monkeypatch, tmp_path, value):
    monkeypatch.setenv("SUPPORTAPP_GOAL_RATES", value)
    return load_config(str(tmp_path))["GOAL_RATES"]


def test_setting_read_as_decimals(monkeypatch, tmp_path):
    """`EUR:1.08, gbp:1.27` gives Decimal rates in US dollars, USD itself at 1."""
    assert _rates_from(monkeypatch, tmp_path, " EUR:1.08, gbp : 1.27 ") == RATES


def test_default_and_empty_setting(monkeypatch, tmp_path):
    """Unset: the documented defaults, every supported currency; empty: no rates at all."""
    monkeypatch.delenv("SUPPORTAPP_GOAL_RATES", raising=False)
    defaults = load_config(str(tmp_path))["GOAL_RATES"]
    assert set(defaults) == {"USD", "EUR", "GBP", "CAD", "AUD"}
    assert defaults["EUR"] == Decimal(DEFAULT_GOAL_RATES.split(",")[0].split(":")[1])
    assert _rates_from(monkeypatch, tmp_path, "") == {}


@pytest.mark.parametrize("value, message", [
    ("EUR=1.08", "cannot read 'EUR=1.08'"),
    ("EUR:", "cannot read 'EUR:'"),
    ("EUR:abc", "cannot read"),
    ("EUR:0", "cannot read"),
    ("EUR:-1.08", "cannot read"),
    ("EUR:NaN", "cannot read"),
    ("EUR:Infinity", "cannot read"),
    ("EUR:1000.5", "cannot read"),
    ("EUR:1.0000001", "cannot read"),
    ("EUR:1,08", "cannot read '08'"),
    ("JPY:0.0067", "unknown currency 'JPY'"),
    ("EUR:1.08,EUR:1.1", "EUR is given twice"),
    ("USD:1.1", "USD can only be 1"),
])
def test_bad_setting_refused_with_its_name(monkeypatch, tmp_path, value, message):
    """An unreadable rate stops the app with a message naming the setting and the entry."""
    with pytest.raises(ConfigError, match="SUPPORTAPP_GOAL_RATES") as caught:
        _rates_from(monkeypatch, tmp_path, value)
    assert message in str(caught.value)


@pytest.mark.parametrize("amount, source, target, expected", [
    (1000, "EUR", "USD", 1080),  # 10.00 EUR = 10.80 USD
    (999, "EUR", "USD", 1078),  # 10.7892 USD, rounded down
    (1, "EUR", "USD", 1),  # 1.08 cents: 1
    (1000, "USD", "EUR", 925),  # 925.92… cents
    (1000, "GBP", "EUR", 1175),  # through USD: 1000 × 1.27 / 1.08 = 1175.92…
    (1000, "EUR", "EUR", 1000),
    (1000, "CAD", "USD", None),  # no rate for CAD
    (1000, "USD", "CAD", None),
])
def test_convert_rounds_down_to_whole_minor_units(amount, source, target, expected):
    """Worked by hand: the converted amount is never more than the exact value."""
    assert convert_minor(amount, source, target, RATES) == expected


def _rate():
    return st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(1000), places=6)


@given(st.integers(min_value=0, max_value=10**15), _rate(), _rate())
def test_convert_is_the_exact_value_rounded_down(amount, from_rate, to_rate):
    """For any amount and rates the setting allows: floor(amount × from / to), exactly."""
    rates = {"USD": Decimal(1), "EUR": from_rate, "GBP": to_rate}
    exact = Fraction(amount) * Fraction(from_rate) / Fraction(to_rate)
    assert convert_minor(amount, "EUR", "GBP", rates) == math.floor(exact)


def test_each_currency_total_converted_once():
    """Two 1-cent euro gifts at 1.5 count 3 cents (the total converted), not 1 + 1."""
    rates = {"USD": Decimal(1), "EUR": Decimal("1.5")}
    assert sum_in_currency({"EUR": 2, "USD": 100, "CAD": 5000}, "USD", rates) == 103


@given(st.dictionaries(st.sampled_from(["USD", "EUR", "GBP"]),
                       st.integers(min_value=0, max_value=10**12)))
def test_sum_never_above_exact_and_within_a_cent_per_currency(totals):
    """The goal never shows more than the gifts are worth, and loses under a cent each."""
    exact = sum(Fraction(m) * Fraction(RATES[c]) for c, m in totals.items())
    counted = sum_in_currency(totals, "USD", RATES)
    assert counted <= exact
    assert exact - counted < max(len(totals), 1)


def test_note_for_a_dollar_goal_lists_the_rates_as_set():
    """A USD goal is told the configured rates; currencies without one are named."""
    note = goal_rates_note("USD", RATES)
    assert note.rates == (("EUR", "1.08"), ("GBP", "1.27"))
    assert note.uncounted == ("CAD", "AUD")


def test_note_for_a_euro_goal_converts_through_dollars():
    """A EUR goal is told each currency's worth in euros, to four significant digits."""
    note = goal_rates_note("EUR", RATES)
    assert note.rates == (("USD", "0.9259"), ("GBP", "1.176"))
    assert goal_rates_note("CAD", RATES).rates == ()
    assert goal_rates_note("EUR", {}).uncounted == ("USD", "GBP", "CAD", "AUD")
