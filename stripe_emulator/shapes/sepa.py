"""SEPA Direct Debit: the PaymentMethod, its Mandate, and a charge's `sepa_debit` details."""

import hashlib

from ..clock import now
from ..ids import new_id, token
from .common import empty_address


def bank_fields(iban):
    """What Stripe shows of an IBAN: country, bank and branch codes, last four digits."""
    country, bban = iban[:2], iban[4:]
    bank, branch = _BANK_CODES.get(country, lambda b: (b[:4], None))(bban)
    return {
        "bank_code": bank,
        "branch_code": branch,
        "country": country,
        "fingerprint": hashlib.sha256(iban.encode()).hexdigest()[:16],
        "last4": iban[-4:],
    }


# Where the bank (and branch) code sits in a country's BBAN.
_BANK_CODES = {
    "AT": lambda bban: (bban[:5], ""),
    "DE": lambda bban: (bban[:8], ""),
    "FR": lambda bban: (bban[:5], bban[5:10]),
}


def payment_method(iban, name, email):
    """A `sepa_debit` PaymentMethod, not yet attached to a customer."""
    return {
        "id": new_id("pm"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": empty_address(),
            "email": email,
            "name": name,
            "phone": None,
            "tax_id": None,
        },
        "created": now(),
        "customer": None,
        "customer_account": None,
        "livemode": False,
        "metadata": {},
        "sepa_debit": {**bank_fields(iban), "generated_from": None},
        "type": "sepa_debit",
    }


def mandate(method_id, usage, amount=None, currency=None):
    """The mandate the payer accepted on the hosted page (online acceptance)."""
    mandate_id = new_id("mandate")
    reference = token(16).upper()
    obj = {
        "id": mandate_id,
        "object": "mandate",
        "customer_acceptance": {
            "accepted_at": now(),
            "online": {"ip_address": "127.0.0.1", "user_agent": "Stripe emulator"},
            "type": "online",
        },
        "livemode": False,
        "payment_method": method_id,
        "payment_method_details": {
            "sepa_debit": {
                "reference": reference,
                "url": f"https://payments.stripe.com/sepa_debit/mandate/{reference}",
            },
            "type": "sepa_debit",
        },
        "status": "active",
        "type": usage,
    }
    if usage == "single_use":
        obj["single_use"] = {"amount": amount, "currency": currency}
    else:
        obj["multi_use"] = {}
    return obj


def charge_details(method, mandate_id, expected_debit_date):
    """A charge's `payment_method_details.sepa_debit`."""
    fields = dict(method["sepa_debit"])
    fields.pop("generated_from", None)
    return {**fields, "expected_debit_date": expected_debit_date, "mandate": mandate_id}
