"""Stripe's standard card pricing, and the balance transactions money movements make.

Each succeeded charge, refund and dispute moves money in the account's balance; Stripe
records each movement as a balance transaction (`txn_...`) with its `fee` and `net`. The
emulator settles every charge in the charge's own currency, as an account with a bank
account in each currency would (no `exchange_rate`).

Standard pricing for domestic cards on an account in the currency's home country, as
published on Stripe's pricing pages (stripe.com/us/pricing, /gb/pricing, /ie/pricing,
/ca/pricing, /au/pricing; read November 2026). Percentage in basis points, fixed part and
dispute fee in minor units:

    currency  card fee       dispute fee
    USD       2.9% + 30c     $15.00
    EUR       1.5% + €0.25   €20.00
    GBP       1.5% + 20p     £20.00
    CAD       2.9% + C$0.30  C$15.00
    AUD       1.7% + A$0.30  A$25.00

A SEPA Direct Debit (EUR only) costs a fixed €0.35 per successful debit, Stripe's standard
price in the euro area (stripe.com/ie/pricing, /de/pricing: "SEPA Direct Debit €0.35";
read November 2026); failed debits and SEPA disputes, priced separately, are not emulated.

The percentage part is rounded to the nearest minor unit, halves up. Stripe keeps the
processing fee when a charge is refunded (the refund's transaction has fee 0), and
withdraws the disputed amount plus the dispute fee when a dispute opens.
"""

from dataclasses import dataclass

from .clock import now
from .ids import new_id

DAY = 24 * 3600
PAYOUT_DELAY_DAYS = 2  # Stripe's standard payout schedule in the US: funds available after 2 days


@dataclass(frozen=True)
class Pricing:
    basis_points: int  # the percentage part: 290 is 2.9%
    fixed: int  # per successful charge, minor units
    dispute_fee: int  # per dispute, minor units


PRICING = {
    "usd": Pricing(290, 30, 1500),
    "eur": Pricing(150, 25, 2000),
    "gbp": Pricing(150, 20, 2000),
    "cad": Pricing(290, 30, 1500),
    "aud": Pricing(170, 30, 2500),
}


# Fixed fee per successful SEPA Direct Debit, minor units, by currency.
SEPA_DEBIT_FEE = {"eur": 35}


def processing_fee(amount, currency):
    """Stripe's fee on a card charge of `amount` minor units: 1000 usd -> 29 + 30 = 59."""
    pricing = PRICING[currency]
    return (amount * pricing.basis_points + 5000) // 10000 + pricing.fixed


def dispute_fee(currency):
    return PRICING[currency].dispute_fee


def _fee_detail(amount, currency, description):
    return {"amount": amount, "application": None, "currency": currency,
            "description": description, "type": "stripe_fee"}


def _transaction(txn_id, amount, fee, currency, kind, source, description, fee_details=()):
    created = now()
    return {
        "id": txn_id or new_id("txn"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": (created // DAY + PAYOUT_DELAY_DAYS) * DAY,
        "balance_type": "payments",
        "created": created,
        "currency": currency,
        "description": description,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": list(fee_details),
        "net": amount - fee,
        "reporting_category": kind,
        "source": source,
        "status": "pending",
        "type": kind,
    }


def charge_transaction(charge):
    """The balance transaction of a succeeded charge (its id is `charge.balance_transaction`)."""
    amount, currency = charge["amount"], charge["currency"]
    if charge["payment_method_details"]["type"] == "sepa_debit":
        fee = SEPA_DEBIT_FEE[currency]
    else:
        fee = processing_fee(amount, currency)
    return _transaction(charge["balance_transaction"], amount, fee, currency, "charge",
                        charge["id"], charge["description"],
                        [_fee_detail(fee, currency, "Stripe processing fees")])


def refund_transaction(refund):
    """A refund gives the money back; Stripe keeps the charge's fee (fee 0 here)."""
    return _transaction(refund["balance_transaction"], -refund["amount"], 0,
                        refund["currency"], "refund", refund["id"], "REFUND FOR CHARGE")


def dispute_transaction(dispute):
    """A dispute withdraws the disputed amount and charges the dispute fee."""
    currency = dispute["currency"]
    fee = dispute_fee(currency)
    txn = _transaction(None, -dispute["amount"], fee, currency, "adjustment", dispute["id"],
                       f"Chargeback withdrawal for {dispute['charge']}",
                       [_fee_detail(fee, currency, "Dispute fee")])
    txn["reporting_category"] = "dispute"
    return txn


def as_read(state, txn):
    """A transaction reads as available once the clock has passed its `available_on`."""
    if txn["status"] == "pending" and now() >= txn["available_on"]:
        return {**txn, "status": "available"}
    return txn
