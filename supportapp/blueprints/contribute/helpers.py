"""What the contribution views share: page context, URLs, the supporter cookie, the hooks."""
import secrets
import time
from importlib import import_module

from flask import current_app, request, url_for

from supportapp.blueprints.contribute.forms import ContributeForm
from supportapp.config import SUPPORTED_CURRENCIES
from supportapp.extensions import db
from supportapp.models import AppealVariant
from supportapp.services import checkout_binding
from supportapp.services.checkout_binding import (
    CHECKOUT_COOKIE,
    MAX_AGE_SECONDS,
    add_session,
    started_sessions,
)
from supportapp.services.giving import PER_PERIOD, amount_choices, chooser_data, monthly_offer
from supportapp.services.money import decimal_string, format_money
from supportapp.services.pricing import charged_amount, rate_fraction
from supportapp.services.supporter import SUPPORTER_COOKIE, cookie_max_age, make_supporter_token

QUICK_GIVE_WINDOW_SECONDS = 600


def variant_presets(form):
    """The preset amounts of the appeal variant the reader came from, else {} (defaults)."""
    variant_id = (form.variant.data or "").strip()
    if not (variant_id.isascii() and variant_id.isdigit() and len(variant_id) < 10):
        return {}
    variant = db.session.get(AppealVariant, int(variant_id))
    return (variant.preset_amounts or {}) if variant is not None else {}


def chooser_args(form):
    """What the chooser macro draws for this form: its buttons, and the reader's choice
    on a button of the chosen frequency or else in "Other amount"."""
    presets = variant_presets(form)
    amounts = amount_choices(presets, form.currency.data)
    chosen = form.amount.data or ""
    values = {value for freq, choices in amounts if freq == form.frequency.data
              for _minor, value, _label in choices}
    selected = (form.frequency.data, chosen) if chosen in values else None
    divisor = current_app.config["MONTHLY_OFFER_DIVISOR"]
    return {"amounts": amounts, "frequency": form.frequency.data,
            "currency": form.currency.data, "data_json": chooser_data(presets, divisor),
            "selected": selected, "custom": "" if selected else chosen,
            "invalid": bool(form.amount.errors)}


def form_context(form, cancelled=False):
    """Everything the form template shows, including the exact total before payment."""
    config = current_app.config
    total = fee = None
    amount_minor = form.chosen_amount_minor()
    if amount_minor is not None and form.currency.data in config["FEES"]:
        total = charged_amount(amount_minor, form.currency.data, True, config["FEES"])
        fee = format_money(total - amount_minor, form.currency.data)
        total = format_money(total if form.cover_fees.data else amount_minor, form.currency.data)
    fees = {code: [*rate_fraction(rate), fixed] for code, (rate, fixed) in config["FEES"].items()}
    return {
        "form": form, "picked": chooser_args(form), "total": total, "fee": fee,
        "per": PER_PERIOD.get(form.frequency.data, ""), "fees": fees, "cancelled": cancelled,
        "offer": monthly_offer_for(form), "offers_on": bool(config["MONTHLY_OFFER_DIVISOR"]),
    }


def monthly_offer_for(form):
    """The monthly gift to offer for the form's one-off choice: (minor, "$5") or None."""
    if form.frequency.data != "one_off" or form.currency.data not in SUPPORTED_CURRENCIES:
        return None
    minor = monthly_offer(form.chosen_amount_minor(),
                          current_app.config["MONTHLY_OFFER_DIVISOR"])
    return (minor, format_money(minor, form.currency.data)) if minor else None


def thanks_offer(outcome):
    """After a one-off gift, the monthly gift to offer as one click: the fields of a form
    for /contribute/start, or None."""
    if not (outcome.paid and outcome.frequency == "one_off" and outcome.currency):
        return None
    minor = monthly_offer(outcome.amount_chosen or outcome.amount_minor,
                          current_app.config["MONTHLY_OFFER_DIVISOR"])
    if minor is None:
        return None
    fields = {"frequency": "monthly", "amount_monthly": decimal_string(minor),
              "currency": outcome.currency, "shown_currency": outcome.currency,
              "offer": "accept", "nonce": secrets.token_urlsafe(18), "story": outcome.story,
              "appeal": outcome.appeal, "variant": outcome.variant}
    return {"label": format_money(minor, outcome.currency),
            "fields": {name: value for name, value in fields.items() if value}}


def take_monthly_offer(form):
    """Switch the form to the monthly gift it offered; False when there was no offer."""
    offer = monthly_offer_for(form)
    if offer is None:
        return False
    form.frequency.data, form.amount_custom.data = "monthly", ""
    form.amount_monthly.data = form.amount.data = decimal_string(offer[0])
    return True


def checkout_urls(form):
    """Where Stripe sends the reader back: the thank-you page, or the form, with the choice
    kept, if they cancel (the email is kept in the checkout cookie, never in a URL)."""
    success = url_for("contribute.thanks", _external=True) + "?session_id={CHECKOUT_SESSION_ID}"
    cancel = url_for("contribute.form", _external=True, cancelled=1, **form.choice())
    return success, cancel


def remember_checkout(response, session_id, email=None):
    """Vouch, in this browser only, that it started `session_id`, and keep the email it gave
    (see checkout_binding)."""
    config = current_app.config
    value = add_session(config["SECRET_KEY"], request.cookies.get(CHECKOUT_COOKIE), session_id,
                        email)
    response.set_cookie(CHECKOUT_COOKIE, value, max_age=MAX_AGE_SECONDS, path="/contribute",
                        httponly=True, samesite="Lax",
                        secure=config["SUPPORTAPP_ENV"] != "development")
    return response


def remembered_email():
    """The email this browser gave the form before it went to Stripe's page, or None."""
    return checkout_binding.remembered_email(current_app.config["SECRET_KEY"],
                                             request.cookies.get(CHECKOUT_COOKIE))


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


def contribute_form_from(choice_form):
    """The contribution form showing a one-click choice and what was wrong with it."""
    form = ContributeForm(formdata=None, data=choice_form.choice())
    for name in ("frequency", "amount", "currency"):
        form[name].errors = list(getattr(choice_form, name).errors)
    form.form_errors.extend(choice_form.form_errors)
    return form


def quick_give_nonce(reader_id):
    """An idempotency nonce for a one-click gift sent without the script's own: a double
    click within the same ten minutes makes one Checkout Session."""
    who = reader_id or request.remote_addr or "unknown"
    return f"quick-{who}-{int(time.time()) // QUICK_GIVE_WINDOW_SECONDS}"


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
