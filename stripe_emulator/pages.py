"""Hosted pages: Checkout (`/c/pay/<session>`) and the portal (`/p/session/<id>`).

Plain HTML forms, so tests and scripts can drive them with ordinary POSTs.
"""

from datetime import UTC, datetime

from flask import Blueprint, current_app, redirect, render_template, request

from . import cards, checkout, portal, sepa
from .money import format_amount, frequency
from .pay import Attempt, authenticate, known_email, pay
from .wire import StripeError

bp = Blueprint("emulator_pages", __name__)

_SUBMIT_LABELS = {"donate": "Donate", "book": "Book", "subscribe": "Subscribe"}


def _state():
    return current_app.extensions["stripe_emulator"]


@bp.get("/c/pay/<session_id>")
def checkout_page(session_id):
    with _state().store.transaction():
        return _render_checkout(session_id)


@bp.post("/c/pay/<session_id>")
def submit_checkout(session_id):
    state = _state()
    with state.store.transaction():
        try:
            attempt = _attempt_from_form(request.form)
        except ValueError as error:
            return _render_checkout(session_id, error=str(error)), 400
        return _answer(session_id, pay(state, session_id, attempt))


@bp.post("/c/pay/<session_id>/authenticate")
def submit_authentication(session_id):
    state = _state()
    with state.store.transaction():
        return _answer(session_id, authenticate(state, session_id, request.form.get("action")))


@bp.get("/p/session/<session_id>")
def portal_page(session_id):
    state = _state()
    with state.store.transaction():
        session = portal.get_session(state, session_id)
        if _card_flow(session) and request.args.get("view") != "home":
            return render_template("portal_card.html", session=session)
        rows = [_subscription_row(state, sub) for sub in portal.subscriptions(state, session)]
        return render_template("portal.html", session=session, rows=rows)


@bp.post("/p/session/<session_id>/payment_method")
def portal_update_card(session_id):
    """The portal's card form: the new card becomes the customer's default."""
    state = _state()
    with state.store.transaction():
        session = portal.get_session(state, session_id)
        try:
            month, year = _card_fields(request.form)
            error = portal.update_card(
                state, session, request.form.get("card_number", ""), month, year
            )
        except (ValueError, cards.CardInputError) as problem:
            message = getattr(problem, "message", str(problem))
            return render_template("portal_card.html", session=session, error=message), 400
        if error:
            return render_template("portal_card.html", session=session, error=error), 402
        return _after_card_update(session)


@bp.post("/p/session/<session_id>/subscriptions/<sub_id>")
def portal_action(session_id, sub_id):
    state = _state()
    with state.store.transaction():
        session = portal.get_session(state, session_id)
        portal.act(state, session, sub_id, request.form.get("action", ""))
    return redirect(f"/p/session/{session_id}", 303)


def _card_flow(session):
    return (session["flow"] or {}).get("type") == "payment_method_update"


def _after_card_update(session):
    after = session["flow"]["after_completion"] if session["flow"] else {"type": "home"}
    if after["type"] == "redirect":
        return redirect(after["redirect"]["return_url"], 303)
    if after["type"] == "hosted_confirmation":
        message = after["hosted_confirmation"]["custom_message"]
        return render_template("portal_card.html", session=session, done=True, message=message)
    return redirect(f"/p/session/{session['id']}?view=home", 303)


def _answer(session_id, result):
    if result.status == "complete":
        if result.redirect_url:
            return redirect(result.redirect_url, 303)
        return _render_checkout(session_id)  # no success_url: Stripe's own thank-you
    if result.status == "requires_action":
        return render_template("authenticate.html", session_id=session_id)
    status = 402 if result.status == "failed" else 400
    return _render_checkout(session_id, error=(result.error or {}).get("message")), status


def _render_checkout(session_id, error=None):
    state = _state()
    session = checkout.get_session(state, session_id)
    items = state.store.private[session_id]["line_items"]
    total = session["amount_total"]
    return render_template(
        "checkout.html",
        session=session,
        items=items,
        amount=None if total is None else format_amount(total, session["currency"]),
        frequency=frequency(items[0]["price"]["recurring"]) if items else None,
        email=request.form.get("email") or known_email(state, session) or "",
        submit_label=_submit_label(session),
        error=error,
        methods=_methods(session),
        method=_chosen_method(session),
        mandate_text=sepa.MANDATE_TEXT.format(merchant=MERCHANT),
        form=request.form,
    )


MERCHANT = "the Stripe emulator's test business"
_METHOD_LABELS = {"card": "Card", "sepa_debit": "SEPA Direct Debit"}


def _methods(session):
    """[(type, label)] the page offers; SEPA only where the session allows it."""
    if session["mode"] == "setup":
        return [("card", "Card")]
    return [(name, _METHOD_LABELS[name]) for name in session["payment_method_types"]]


def _chosen_method(session):
    chosen = request.values.get("method", "card")
    return chosen if chosen in dict(_methods(session)) else _methods(session)[0][0]


def _submit_label(session):
    if session["mode"] == "setup":
        return "Save card"
    if session["mode"] == "subscription" and session["submit_type"] in (None, "auto"):
        return "Subscribe"
    return _SUBMIT_LABELS.get(session["submit_type"], "Pay")


def _attempt_from_form(form):
    """Card checks Stripe's page does in the browser, before any payment."""
    if not form.get("email", "").strip():
        raise ValueError("Your email is incomplete.")
    if form.get("method") == "sepa_debit":
        return Attempt("", form["email"].strip(), iban=form.get("iban", ""),
                       account_holder_name=form.get("name", ""))
    month, year = _card_fields(form)
    return Attempt(form.get("card_number", ""), form["email"].strip(), month, year)


def _card_fields(form):
    """(expiry month, year) once the expiry and the CVC look like a card's."""
    month, year = _parse_expiry(form.get("expiry", ""))
    cvc = form.get("cvc", "").strip()
    if not cvc.isdigit() or not 3 <= len(cvc) <= 4:
        raise ValueError("Your card's security code is incomplete.")
    return month, year


def _parse_expiry(text):
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) not in (4, 6):
        raise ValueError("Your card's expiration date is incomplete.")
    month, year = int(digits[:2]), int(digits[2:])
    year += 2000 if year < 100 else 0
    if not 1 <= month <= 12:
        raise ValueError("Your card's expiration month is invalid.")
    today = datetime.now(UTC)
    if (year, month) < (today.year, today.month):
        raise ValueError("Your card's expiration date is in the past.")
    return month, year


def _subscription_row(state, sub):
    item = sub["items"]["data"][0]
    price = item["price"]
    product = state.store.get(price["product"], "product")
    return {
        "id": sub["id"],
        "name": product["name"] if product else "Subscription",
        "amount": format_amount(price["unit_amount"] * item["quantity"], price["currency"]),
        "frequency": frequency(price["recurring"]),
        "status": sub["status"],
        "cancel_at_period_end": sub["cancel_at_period_end"],
        "period_end": _date(item["current_period_end"]),
        "active": sub["status"] != "canceled",
    }


def _date(timestamp):
    return datetime.fromtimestamp(timestamp, UTC).strftime("%-d %B %Y")


def page_error(error: StripeError):
    """Errors on hosted pages are pages, not JSON."""
    return render_template("error.html", error=error), error.status
