"""Completing a Checkout Session with a test card.

Shared by the hosted page and `POST /_emulator/checkout/<id>/pay`, so that
scripts take exactly the path a reader's browser takes. Callers hold the
store lock.
"""

import re
from dataclasses import asdict, dataclass, replace

from . import billing, cards, checkout, payments, sepa, setup_mode
from .events import emit
from .shapes import checkout as shapes
from .shapes.common import customer as new_customer

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class Attempt:
    card_number: str
    email: str | None = None
    exp_month: int = 12
    exp_year: int = 2034
    # For cards that ask for 3D Secure: None means "ask the payer" (the hosted
    # page shows its authentication step); "complete" or "fail" answers it.
    authenticate: str | None = None
    # Used when neither the payer nor the session gives an email (scripts).
    fallback_email: str | None = None
    # Paying by SEPA Direct Debit instead of a card: the IBAN and the account holder.
    iban: str | None = None
    account_holder_name: str | None = None


@dataclass
class Result:
    # complete | requires_action | failed | invalid | expired | already_complete
    status: str
    redirect_url: str | None = None
    error: dict | None = None

    def to_dict(self):
        return asdict(self)


def pay(state, session_id, attempt):
    session = checkout.get_session(state, session_id)
    if session["status"] != "open":
        return _closed(session)
    email = attempt.email or known_email(state, session) or attempt.fallback_email
    if not email or not _EMAIL.match(email):
        return Result(
            "invalid", error={"code": "email_invalid", "message": "Your email address is invalid."}
        )
    if attempt.iban is not None:
        return _pay_by_sepa(state, session, attempt, email)
    try:
        card = cards.lookup(attempt.card_number)
    except cards.CardInputError as error:
        return Result("invalid", error={"code": error.code, "message": error.message})
    needs_auth = card.outcome == cards.AUTHENTICATE
    if needs_auth and attempt.authenticate is None:
        state.store.private[session["id"]]["pending"] = asdict(replace(attempt, email=email))
        return Result("requires_action")
    authenticated = needs_auth and attempt.authenticate != "fail"
    method = payments.new_payment_method(
        state, card, email, attempt.exp_month, attempt.exp_year, authenticated
    )
    if needs_auth and not authenticated:
        decline = cards.AUTHENTICATION_FAILED
    else:
        decline = cards.decline_for(card)
    if session["mode"] == "payment":
        return _pay_once(state, session, method, decline)
    if session["mode"] == "setup":
        return _save_card(state, session, method, decline)
    return _subscribe(state, session, method, decline)


def authenticate(state, session_id, action):
    """Answer the 3D Secure step of the attempt the hosted page paused."""
    checkout.get_session(state, session_id)
    pending = state.store.private[session_id].pop("pending", None)
    if pending is None:
        return Result(
            "invalid",
            error={
                "code": "no_pending_authentication",
                "message": "No payment is waiting for authentication.",
            },
        )
    pending["authenticate"] = "fail" if action == "fail" else "complete"
    return pay(state, session_id, Attempt(**pending))


def known_email(state, session):
    """The email Checkout would prefill: `customer_email` or the Customer's."""
    customer = state.store.get(session["customer"], "customer")
    return session["customer_email"] or (customer and customer["email"])


def success_url(session):
    url = session["success_url"]
    return url.replace("{CHECKOUT_SESSION_ID}", session["id"]) if url else None


def _closed(session):
    if session["status"] == "complete":
        return Result(
            "already_complete",
            success_url(session),
            {
                "code": "checkout_session_complete",
                "message": "This Checkout Session is already complete.",
            },
        )
    return Result(
        "expired",
        error={"code": "checkout_session_expired", "message": "This Checkout Session has expired."},
    )


def _pay_by_sepa(state, session, attempt, email):
    """A SEPA debit: the session completes unpaid; the debit settles later (sepa.py)."""
    if "sepa_debit" not in session["payment_method_types"] or session["mode"] == "setup":
        return _invalid("payment_method_unavailable",
                        "This Checkout Session does not accept SEPA Direct Debit.")
    name = (attempt.account_holder_name or "").strip()
    if not name:
        return _invalid("incomplete_name", "Your name is incomplete.")
    try:
        iban = sepa.normalize_iban(attempt.iban)
    except sepa.IbanInputError as error:
        return _invalid(error.code, error.message)
    method = sepa.new_payment_method(state, iban, name, email)
    if session["mode"] == "payment":
        intent = _session_intent(state, session)
        customer_id = _customer_for(state, session, method)
        intent["customer"] = customer_id
        sepa.start_debit(state, intent, method, "single_use", session_id=session["id"])
        return _complete(state, session, email, customer_id, payment_status="unpaid")
    sub = _start_subscription(state, session, method)
    charge = _latest_charge(state, sub)
    state.store.private[charge["id"]]["session"] = session["id"]
    return _complete(state, session, email, sub["customer"], payment_status="unpaid")


def _latest_charge(state, sub):
    invoice = state.store.get(sub["latest_invoice"], "invoice")
    payment = state.store.get(state.store.private[invoice["id"]]["payments"][0])
    intent = state.store.get(payment["payment"]["payment_intent"], "payment_intent")
    return state.store.get(intent["latest_charge"], "charge")


def _invalid(code, message):
    return Result("invalid", error={"code": code, "message": message})


def _session_intent(state, session):
    """The session's PaymentIntent, made at the first attempt."""
    intent = state.store.get(session["payment_intent"], "payment_intent")
    if intent is None:
        private = state.store.private[session["id"]]["payment_intent_data"]
        intent = payments.create_intent(
            state,
            session["amount_total"],
            session["currency"],
            metadata=private.get("metadata"),
            description=private.get("description"),
        )
        intent.update(receipt_email=private.get("receipt_email"),
                      payment_method_types=list(session["payment_method_types"]))
        session["payment_intent"] = intent["id"]
    return intent


def _customer_for(state, session, method):
    customer_id = session["customer"]
    if customer_id is None and session["customer_creation"] == "always":
        customer_id = _create_customer(state, _email(method))["id"]
    return customer_id


def _pay_once(state, session, method, decline):
    intent = _session_intent(state, session)
    if decline:
        payments.fail(state, intent, method, decline)
        return _declined(decline)
    customer_id = _customer_for(state, session, method)
    intent["customer"] = customer_id
    payments.succeed(state, intent, method)
    return _complete(state, session, _email(method), customer_id)


def _subscribe(state, session, method, decline):
    if decline:
        return _declined(decline)  # no Subscription exists until a payment succeeds
    sub = _start_subscription(state, session, method)
    return _complete(state, session, _email(method), sub["customer"])


def _start_subscription(state, session, method):
    private = state.store.private[session["id"]]
    customer = state.store.get(session["customer"], "customer")
    if customer is None:
        customer = _create_customer(state, _email(method))
    # The card (or bank account) is saved on the customer, for the renewals.
    payments.attach(state, method, customer["id"])
    prices = [(item["price"], item["quantity"]) for item in private["line_items"]]
    sub, invoice = billing.start_subscription(
        state, customer, method, prices, private["subscription_data"]
    )
    session.update(subscription=sub["id"], invoice=invoice["id"])
    return sub


def _save_card(state, session, method, decline):
    if not setup_mode.complete(state, session, method, decline):
        return _declined(decline)
    return _complete(state, session, _email(method), session["customer"])


def _email(method):
    return method["billing_details"]["email"]


def _create_customer(state, email):
    customer = state.store.add(new_customer(email=email))
    emit(state, "customer.created", customer)
    return customer


def _complete(state, session, email, customer_id, payment_status="paid"):
    session.update(
        status="complete",
        # A setup-mode session stays "no_payment_required".
        payment_status=payment_status if session["mode"] != "setup" else session["payment_status"],
        url=None,
        customer=customer_id,
        customer_details=shapes.customer_details(email),
        collected_information=shapes.collected_information(),
    )
    emit(state, "checkout.session.completed", session)
    return Result("complete", success_url(session))


def _declined(decline):
    return Result(
        "failed",
        error={
            "code": decline.code,
            "decline_code": decline.decline_code,
            "message": decline.message,
        },
    )
