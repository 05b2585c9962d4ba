"""Stripe's fees on a payment, read from balance transactions and recorded on its row.

A charge's balance transaction says what Stripe kept (`fee`) in the currency the money
settled in. The fee is recorded only when that is the payment's own currency: a fee in
another currency cannot be subtracted from the gift without an exchange rate, so it stays
unknown (None) rather than wrong. A dispute's withdrawal and dispute fee come embedded in
the dispute (`balance_transactions`); a refund's transaction has fee 0 (Stripe keeps the
processing fee), so refunds are netted by their amount alone.
"""
from dataclasses import dataclass

from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import Contribution
from supportapp.services import payments
from supportapp.services import stripe_payload as p


@dataclass(frozen=True)
class Withdrawal:
    """What a dispute took from the balance: the disputed amount and the dispute fee."""

    amount_minor: int
    fee_minor: int


def charge_fee(balance_txn, currency):
    """Stripe's processing fee on a charge, in the payment's `currency`; None when the
    transaction is missing, malformed, or settled in another currency."""
    if not isinstance(balance_txn, dict) or p.currency(balance_txn.get("currency")) != currency:
        return None
    fee = balance_txn.get("fee")
    return fee if isinstance(fee, int) and not isinstance(fee, bool) and fee >= 0 else None


def dispute_withdrawal(dispute, currency):
    """The money a dispute withdrew (its `balance_transactions` in `currency`), or None
    when the dispute carries none (an inquiry withdraws nothing)."""
    listed = dispute.get("balance_transactions")
    txns = [t for t in listed if isinstance(t, dict)] if isinstance(listed, list) else []
    mine = [t for t in txns if p.currency(t.get("currency")) == currency]
    if not mine:
        return None
    amount = sum(-_whole(t.get("amount")) for t in mine)
    fee = sum(_whole(t.get("fee")) for t in mine)
    return Withdrawal(max(amount, 0), max(fee, 0))


def _whole(value):
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise p.PayloadError("balance transaction amount or fee is not a whole number")


def record_charge_fee(row, balance_txn):
    """Record the charge's fee on its contribution, unless already known."""
    fee = charge_fee(balance_txn, row.currency)
    if fee is not None and row.fee_minor is None:
        row.fee_minor = fee


def record_dispute(row, dispute):
    """Record what the dispute withdrew; a dispute replayed changes nothing."""
    withdrawal = dispute_withdrawal(dispute, row.currency)
    if withdrawal is not None:
        row.disputed_minor = max(row.disputed_minor or 0, withdrawal.amount_minor)
        row.dispute_fee_minor = max(row.dispute_fee_minor or 0, withdrawal.fee_minor)


BACKFILL_BATCH = 100


@dataclass
class BackfillCount:
    recorded: int = 0  # fees found and recorded
    unknown: int = 0  # Stripe had no balance transaction in the payment's currency, or no id


def _missing_fees(after_id):
    rows = db.session.execute(
        select(Contribution.id, Contribution.stripe_charge_id,
               Contribution.stripe_payment_intent_id)
        .where(Contribution.fee_minor.is_(None), Contribution.paid_at.is_not(None),
               Contribution.id > after_id)
        .order_by(Contribution.id).limit(BACKFILL_BATCH)).all()
    db.session.rollback()  # only a read: no transaction stays open while Stripe answers
    return rows


def _backfill_one(contribution_id, charge_id, intent_id):
    try:
        txn = payments.charge_balance_transaction(charge_id, intent_id)
    except payments.PaymentsRejected:
        txn = None
    row = db.session.get(Contribution, contribution_id)
    if row is None:
        return False
    record_charge_fee(row, txn)
    db.session.commit()
    return row.fee_minor is not None


def backfill_fees():
    """Ask Stripe for the fee of every paid payment recorded without one (made before fees
    were recorded) and record it; each row is committed on its own, with no transaction
    open while Stripe answers. Raises payments.PaymentsUnavailable when Stripe is down
    (what was recorded so far stays; running it again goes on)."""
    count, after_id = BackfillCount(), 0
    while rows := _missing_fees(after_id):
        for contribution_id, charge_id, intent_id in rows:
            after_id = contribution_id
            found = (charge_id or intent_id) and _backfill_one(contribution_id, charge_id,
                                                               intent_id)
            if found:
                count.recorded += 1
            else:
                count.unknown += 1
    return count
