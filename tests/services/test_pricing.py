"""Reading amounts, the limits, and grossing up for the card fees, in integer arithmetic."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportapp.services.pricing import AmountError, check_limits, gross_up, parse_amount


@pytest.mark.parametrize(("text", "minor"), [
    ("5", 500), ("12.50", 1250), ("12.5", 1250), (" 7 ", 700), ("1,000.25", 100025),
    ("$3", 300), ("0.99", 99),
])
def test_parse_amount(text, minor):
    """Amounts people type become minor units."""
    assert parse_amount(text) == minor


@pytest.mark.parametrize("text", ["", "abc", "1e3", "-5", "12.505", "5.5.5", "NaN", "١٢",
                                  "Infinity", "0x10", "1" * 30])
def test_parse_amount_rejects(text):
    """Anything but a plain number with at most two decimals is refused."""
    with pytest.raises(AmountError):
        parse_amount(text)


def test_limits():
    """Below 1.00 and above the maximum are refused; the bounds themselves pass."""
    check_limits(100, "EUR", 1_000_000)
    check_limits(1_000_000, "EUR", 1_000_000)
    for amount in (99, 1_000_001):
        with pytest.raises(AmountError):
            check_limits(amount, "EUR", 1_000_000)


def test_gross_up_example():
    """5.00 with 2.9% + 0.30 becomes 5.46."""
    assert gross_up(500, Decimal("0.029"), 30) == 546


@given(amount=st.integers(100, 10**8), percent=st.integers(0, 99),
       tenths=st.integers(0, 9), fixed=st.integers(0, 1000))
def test_gross_up_is_smallest_total_that_covers_fee(amount, percent, tenths, fixed):
    """The grossed-up total leaves at least the amount after fees, and one cent less would not."""
    rate = Decimal(percent * 10 + tenths) / 1000
    total = gross_up(amount, rate, fixed)
    assert total - (rate * total + fixed) >= amount
    assert (total - 1) - (rate * (total - 1) + fixed) < amount
