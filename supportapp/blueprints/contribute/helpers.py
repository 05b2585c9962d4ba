"""What the contribution views share: page context, URLs, the supporter cookie, the hooks."""
from importlib import import_module

from flask import current_app, request, url_for

from supportapp.extensions import db
from supportapp.models import AppealVariant
from supportapp.services.checkout_binding import (
    CHECKOUT_COOKIE,
    MAX_AGE_SECONDS,
    add_session,
    started_sessions,
)
from supportapp.services.money import decimal_string, format_money
from supportapp.services.pricing import charged_amount, rate_fraction
from supportapp.services.supporter import SUPPORTER_COOKIE, cookie_max_age, make_supporter_token

DEFAULT_PRESETS = {
    "one_off": [500, 1000, 2500, 5000],
    "monthly": [300, 500, 1000, 2000],
    "annual": [3000, 5000, 10000, 20000],
}
FREQUENCIES = (("one_off", "One-off"), ("monthly", "Monthly"), ("annual", "Annual"))
PER = {"one_off": "", "monthly": " a month", "annual": " a year"}


def presets(form):
    """The preset amounts for the chosen currency and frequency: the appeal variant's when
    the reader came from one, else the defaults."""
    frequency, currency = form.frequency.data, form.currency.data
    variant_id = (form.variant.data or "").strip()
    variant = None
    if variant_id.isascii() and variant_id.isdigit() and len(variant_id) < 10:
        variant = db.session.get(AppealVariant, int(variant_id))
    amounts = (variant.preset_amounts or {}).get(currency, {}).get(frequency) if variant else None
    valid = [a for a in amounts or [] if isinstance(a, int) and a >= 100]
    return valid or DEFAULT_PRESETS.get(frequency, DEFAULT_PRESETS["one_off"])


def form_context(form):
    """Everything the form template shows, including the exact total before payment."""
    config = current_app.config
    choices = [(decimal_string(m), format_money(m, form.currency.data)) for m in presets(form)]
    chosen = form.amount.data or ""
    total = fee = None
    amount_minor = form.chosen_amount_minor()
    if amount_minor is not None and form.currency.data in config["FEES"]:
        total = charged_amount(amount_minor, form.currency.data, True, config["FEES"])
        fee = format_money(total - amount_minor, form.currency.data)
        total = format_money(total if form.cover_fees.data else amount_minor, form.currency.data)
    fees = {code: [*rate_fraction(rate), fixed] for code, (rate, fixed) in config["FEES"].items()}
    return {
        "form": form, "frequencies": FREQUENCIES, "presets": choices,
        "custom_amount": "" if chosen in {v for v, _ in choices} else chosen,
        "total": total, "fee": fee, "per": PER.get(form.frequency.data, ""), "fees": fees,
    }


def checkout_urls(form):
    """Where Stripe sends the reader back: the thank-you page, or this form if they cancel."""
    success = url_for("contribute.thanks", _external=True) + "?session_id={CHECKOUT_SESSION_ID}"
    keep = {name: getattr(form, name).data for name in
            ("frequency", "amount", "currency", "story", "appeal", "variant")}
    cancel = url_for("contribute.form", _external=True, **{k: v for k, v in keep.items() if v})
    return success, cancel


def remember_checkout(response, session_id):
    """Vouch, in this browser only, that it started `session_id` (see checkout_binding)."""
    config = current_app.config
    value = add_session(config["SECRET_KEY"], request.cookies.get(CHECKOUT_COOKIE), session_id)
    response.set_cookie(CHECKOUT_COOKIE, value, max_age=MAX_AGE_SECONDS, path="/contribute",
                        httponly=True, samesite="Lax",
                        secure=config["SUPPORTAPP_ENV"] != "development")
    return response


def started_here(session_id):
    """True when this browser started the Checkout Session `session_id`."""
    return session_id in started_sessions(current_app.config["SECRET_KEY"],
                                          request.cookies.get(CHECKOUT_COOKIE))


def remember_supporter(response, outcome):
    """The signed supporter cookie: readers who just gave do not see the appeal."""
    config = current_app.config
    response.set_cookie(
        SUPPORTER_COOKIE,
        make_supporter_token(config["SECRET_KEY"], outcome.frequency or "one_off",
                             outcome.subscription_id),
        max_age=cookie_max_age(outcome.frequency or "one_off"),
        httponly=True, samesite="Lax", secure=config["SUPPORTAPP_ENV"] != "development",
    )


def captcha_passes(form):
    """The optional CAPTCHA hook (SUPPORTAPP_CAPTCHA_VERIFIER="module:function"): the
    function gets the submitted form data and the client address and returns True to let
    the submission through. Off by default."""
    verifier = current_app.config.get("CAPTCHA_VERIFIER")
    if not verifier:
        return True
    if isinstance(verifier, str):
        module, _, name = verifier.partition(":")
        verifier = getattr(import_module(module), name)
    if verifier(request.form, request.remote_addr):
        return True
    form.form_errors.append("Please complete the check below and try again.")
    return False
