"""Stripe's test card numbers and what each one does.

https://docs.stripe.com/testing lists the numbers; the emulator honours the
ones a donation flow meets. A number that passes the Luhn check but is not a
test card is declined the way test mode declines a live card.
"""

import hashlib
from dataclasses import dataclass

from .wire import StripeError

# Outcomes
SUCCEEDS = "succeeds"
DECLINED = "declined"
AUTHENTICATE = "authenticate"  # 3D Secure on the first, on-session payment
RENEWALS_FAIL = "renewals_fail"  # attaches and pays once; later charges fail

DECLINED_MESSAGE = "Your card was declined."
AUTH_FAILED_MESSAGE = (
    "We are unable to authenticate your payment method. Please choose a different "
    "payment method and try again."
)


@dataclass(frozen=True)
class Card:
    number: str
    brand: str = "visa"
    funding: str = "credit"
    outcome: str = SUCCEEDS
    code: str | None = None
    decline_code: str | None = None
    message: str | None = None

    @property
    def last4(self):
        return self.number[-4:]

    @property
    def fingerprint(self):
        return hashlib.sha256(self.number.encode()).hexdigest()[:16]


def _declined(number, decline_code, message=DECLINED_MESSAGE, code="card_declined"):
    return Card(number, outcome=DECLINED, code=code, decline_code=decline_code, message=message)


_CARDS = [
    Card("4242424242424242"),
    Card("4000056655665556", funding="debit"),
    Card("5555555555554444", brand="mastercard"),
    Card("378282246310005", brand="amex"),
    _declined("4000000000000002", "generic_decline"),
    _declined("4000000000009995", "insufficient_funds", "Your card has insufficient funds."),
    _declined("4000000000009987", "lost_card"),
    _declined("4000000000009979", "stolen_card"),
    _declined("4100000000000019", "fraudulent"),
    _declined("4000000000000069", "expired_card", "Your card has expired.", "expired_card"),
    _declined(
        "4000000000000127",
        "incorrect_cvc",
        "Your card's security code is incorrect.",
        "incorrect_cvc",
    ),
    _declined(
        "4000000000000119",
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
        "processing_error",
    ),
    Card("4000002500003155", outcome=AUTHENTICATE),
    Card("4000002760003184", outcome=AUTHENTICATE),
    Card("4000000000003220", outcome=AUTHENTICATE),
    Card("4000000000000341", outcome=RENEWALS_FAIL),
]
TEST_CARDS = {card.number: card for card in _CARDS}
# Stripe's test PaymentMethods, by the names its docs give them, for scripts that would
# rather say what a card does than type its number.
TEST_PAYMENT_METHODS = {
    "pm_card_visa": "4242424242424242",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_amex": "378282246310005",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeCustomerFail": "4000000000000341",  # attaches, then every charge fails
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_visa_chargeDeclined": "4000000000000002",
    "pm_card_visa_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_visa_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_visa_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_chargeDeclinedFraudulent": "4100000000000019",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_authenticationRequired": "4000002760003184",
    "pm_card_threeDSecure2Required": "4000000000003220",
}


@dataclass(frozen=True)
class Decline:
    """Why a payment failed, in Stripe's error terms."""

    code: str
    message: str
    decline_code: str | None = None

    def error(self, extra=None):
        """Stripe's 402 `card_error` for this decline (`extra`: more fields of the error)."""
        return StripeError(
            self.message,
            status=402,
            type="card_error",
            code=self.code,
            decline_code=self.decline_code,
            extra=extra,
        )


AUTHENTICATION_FAILED = Decline("payment_intent_authentication_failure", AUTH_FAILED_MESSAGE)


def decline_for(card, off_session=False):
    """The Decline a charge on `card` meets, or None when it succeeds."""
    if card.outcome == DECLINED:
        return Decline(card.code, card.message, card.decline_code)
    if card.outcome == RENEWALS_FAIL and off_session:
        return Decline("card_declined", DECLINED_MESSAGE, "generic_decline")
    return None


class CardInputError(Exception):
    """The number cannot be a card at all (caught before any payment attempt)."""

    def __init__(self, message, code="incorrect_number"):
        super().__init__(message)
        self.message = message
        self.code = code


def lookup(raw_number):
    """The Card for a typed number (spaces and dashes are ignored) or a test PaymentMethod's
    name (`pm_card_chargeCustomerFail`)."""
    raw_number = TEST_PAYMENT_METHODS.get(raw_number, raw_number)
    number = "".join(ch for ch in (raw_number or "") if ch not in " -")
    if not number:
        raise CardInputError("Your card number is incomplete.", "incomplete_number")
    if not number.isdigit() or not 13 <= len(number) <= 19 or not _luhn_ok(number):
        raise CardInputError("Your card number is invalid.")
    card = TEST_CARDS.get(number)
    if card is None:
        return _declined(
            number,
            "test_mode_live_card",
            "Your card was declined. Your request was in test mode, but used a non "
            "test (live) card. For a list of valid test cards, visit: "
            "https://stripe.com/docs/testing.",
        )
    return card


def _luhn_ok(number):
    total = 0
    for position, digit in enumerate(reversed(number)):
        value = int(digit)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0
