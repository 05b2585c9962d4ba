"""SEPA Direct Debit: a delayed-notification payment method, in EUR only.

Paying by SEPA on the hosted page creates a `sepa_debit` PaymentMethod and a Mandate; the
PaymentIntent goes `processing` with a `pending` charge (`payment_intent.processing`,
`charge.pending`) and the Checkout Session completes with `payment_status: unpaid`. Where
Stripe takes days, the emulator settles the debit `state.async_delay` seconds later (on the
wall clock, run by the Settler thread, or when the clock is moved past that moment, see
schedule.py): `charge.succeeded`, `payment_intent.succeeded` (and `invoice.paid`), then
`checkout.session.async_payment_succeeded`; or for a failing test IBAN `charge.failed`,
`payment_intent.payment_failed` (and `invoice.payment_failed`), then
`checkout.session.async_payment_failed`. The moment a debit settles is kept with its charge
in the store, so a pending debit survives a restart. Callers hold the store lock.

Test IBANs, from docs.stripe.com/payments/sepa-debit/accept-a-payment ("Test your
integration"): the ones below; any other valid IBAN succeeds.
"""

import json
import logging
import threading
from datetime import UTC, datetime

from . import fees
from .clock import now
from .events import emit
from .ids import new_id
from .shapes import payments as payment_shapes
from .shapes import sepa as shapes

log = logging.getLogger(__name__)

SUCCEEDS = "succeeds"
FAILS = "fails"
TEST_IBANS = {
    "AT611904300234573201": SUCCEEDS,
    "DE89370400440532013000": SUCCEEDS,
    "AT861904300235473202": FAILS,
    "DE62370400440532013001": FAILS,
}
CURRENCIES = ("eur",)
DEFAULT_ASYNC_DELAY = 3  # seconds between a debit's submission and its outcome
FAILURE_CODE = "insufficient_funds"
FAILURE_MESSAGE = "The customer's account has insufficient funds to cover this payment."
MANDATE_TEXT = (
    "By providing your payment information and confirming this payment, you authorise "
    "(A) {merchant} and Stripe, our payment service provider, to send instructions to your "
    "bank to debit your account and (B) your bank to debit your account in accordance with "
    "those instructions. As part of your rights, you are entitled to a refund from your bank "
    "under the terms and conditions of your agreement with your bank. A refund must be "
    "claimed within 8 weeks starting from the date on which your account was debited."
)

# IBAN lengths of the SEPA countries (ISO 13616 registry).
IBAN_LENGTHS = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27,
    "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "VA": 22,
}


class IbanInputError(Exception):
    """The IBAN cannot be an account (refused on the page, before any payment)."""

    def __init__(self, message, code="invalid_bank_account_iban"):
        super().__init__(message)
        self.message = message
        self.code = code


def normalize_iban(raw):
    """The IBAN without spaces, upper case, once its country, length and check digits are
    right; raises IbanInputError."""
    iban = "".join((raw or "").split()).upper()
    if not iban:
        raise IbanInputError("Your IBAN is incomplete.", "incomplete_iban")
    length = IBAN_LENGTHS.get(iban[:2])
    if length is None:
        raise IbanInputError("Your IBAN's country is not supported by SEPA Direct Debit.")
    if len(iban) < length:
        raise IbanInputError("Your IBAN is incomplete.", "incomplete_iban")
    if len(iban) > length or not iban.isalnum() or not _check_digits_ok(iban):
        raise IbanInputError("Your IBAN is invalid.")
    return iban


def _check_digits_ok(iban):
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


def new_payment_method(state, iban, name, email):
    """A `sepa_debit` PaymentMethod; the IBAN (which says how debits end) stays private."""
    return state.store.add(shapes.payment_method(iban, name, email), iban=iban)


def is_sepa(method):
    return method is not None and method["type"] == "sepa_debit"


def start_debit(state, intent, method, usage, session_id=None, invoice_id=None,
                payment_id=None):
    """Submit the debit: a Mandate, a pending charge, the PaymentIntent `processing`. The
    outcome comes `state.async_delay` seconds later (`settle`)."""
    mandate = state.store.add(
        shapes.mandate(method["id"], usage, intent["amount"], intent["currency"]))
    today = datetime.fromtimestamp(now(), UTC).date().isoformat()
    intent.update(status="processing", payment_method=method["id"], last_payment_error=None)
    emit(state, "payment_intent.processing", intent)
    charge = payment_shapes.charge(
        intent, method, details={"sepa_debit": shapes.charge_details(method, mandate["id"], today),
                                 "type": "sepa_debit"})
    charge.update(status="pending", paid=False, balance_transaction=None)
    charge["outcome"]["seller_message"] = "Payment pending."
    settles_at = now() + state.async_delay
    state.store.add(charge, settles_at=settles_at, session=session_id, invoice=invoice_id,
                    invoice_payment=payment_id)
    intent["latest_charge"] = charge["id"]
    emit(state, "charge.pending", charge)
    state.store.after_commit(lambda: state.settler.expect(settles_at))
    return charge


def settles_at(state, charge):
    """When a pending SEPA debit settles, or None (not SEPA, or settled)."""
    if charge is None or charge["status"] != "pending":
        return None
    return (state.store.private.get(charge["id"]) or {}).get("settles_at")


def settle(state, charge_id):
    """The bank's answer on a pending debit: success or failure, by the test IBAN."""
    charge = state.store.get(charge_id, "charge")
    private = state.store.private[charge_id]
    private.pop("settles_at", None)
    intent = state.store.get(charge["payment_intent"], "payment_intent")
    method = state.store.get(charge["payment_method"], "payment_method")
    succeeded = TEST_IBANS.get(state.store.private[method["id"]]["iban"], SUCCEEDS) == SUCCEEDS
    if succeeded:
        _succeed(state, charge, intent)
    else:
        _fail(state, charge, intent, method)
    _settle_invoice(state, private, intent, succeeded)
    _settle_session(state, private.get("session"), succeeded)
    return succeeded


def _succeed(state, charge, intent):
    charge.update(status="succeeded", paid=True, balance_transaction=new_id("txn"))
    charge["outcome"]["seller_message"] = "Payment complete."
    state.store.add(fees.charge_transaction(charge))
    emit(state, "charge.succeeded", charge)
    intent.update(status="succeeded", amount_received=intent["amount"])
    emit(state, "payment_intent.succeeded", intent)


def _fail(state, charge, intent, method):
    charge.update(status="failed", paid=False, failure_code=FAILURE_CODE,
                  failure_message=FAILURE_MESSAGE)
    charge["outcome"].update(network_status="declined_by_network", reason=FAILURE_CODE,
                             seller_message=FAILURE_MESSAGE, type="issuer_declined")
    emit(state, "charge.failed", charge)
    intent.update(status="requires_payment_method", payment_method=None,
                  last_payment_error=_payment_error(method))
    emit(state, "payment_intent.payment_failed", intent)


def _payment_error(method):
    # Stripe embeds the PaymentMethod in full, as it is now.
    return {
        "type": "invalid_request_error",
        "code": FAILURE_CODE,
        "message": FAILURE_MESSAGE,
        "payment_method": json.loads(json.dumps(method)),
    }


def _settle_invoice(state, private, intent, succeeded):
    from . import billing  # billing starts debits through this module

    invoice = state.store.get(private.get("invoice"), "invoice")
    if invoice is None:
        return
    payment = state.store.get(private.get("invoice_payment"), "invoice_payment")
    if succeeded:
        billing.debit_succeeded(state, invoice, payment, intent)
    else:
        billing.debit_failed(state, invoice)


def _settle_session(state, session_id, succeeded):
    session = state.store.get(session_id, "checkout.session")
    if session is None:
        return
    if succeeded:
        session["payment_status"] = "paid"
        emit(state, "checkout.session.async_payment_succeeded", session)
    else:
        emit(state, "checkout.session.async_payment_failed", session)


def settle_due(state):
    """Settle every pending debit whose moment has come; returns the next moment, or None."""
    upcoming = []
    for charge in state.store.oldest_first("charge"):
        due = settles_at(state, charge)
        if due is None:
            continue
        if due <= now():
            settle(state, charge["id"])
        else:
            upcoming.append(due)
    return min(upcoming, default=None)


class Settler:
    """Settles pending debits as the wall clock reaches them (a daemon thread)."""

    TICK = 0.2  # seconds between looks while a debit is pending

    def __init__(self, app, state):
        self._app, self._state = app, state
        self._next = None
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stripe-emulator-sepa",
                                        daemon=True)

    def start(self):
        with self._app.app_context(), self._state.store.transaction():
            self._next = settle_due(self._state)  # pending debits of a previous run
        self._thread.start()

    def expect(self, moment):
        if self._next is None or moment < self._next:
            self._next = moment
        self._wake.set()

    def forget(self):
        self._next = None

    def stop(self):
        self._stopped.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self):
        while not self._stopped.is_set():
            self._wake.wait(self.TICK if self._next is not None else None)
            self._wake.clear()
            if self._stopped.is_set() or self._next is None:
                continue
            with self._app.app_context():
                if self._state.clock.now() < self._next:
                    continue
                try:
                    with self._state.store.transaction():
                        self._next = settle_due(self._state)
                except Exception:  # a bug must not kill the thread for good
                    log.exception("stripe emulator: settling SEPA debits failed")
                    self._next = None
