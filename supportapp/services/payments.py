"""The only module that talks to Stripe: Checkout, the customer portal, changes to a
subscription, customers, events and webhooks.

The client is built from `current_app.config` when first needed, never at import. With
no STRIPE_SECRET_KEY the config points it at the local emulator (STRIPE_API_BASE).
Everything returned is a plain dict, so callers never depend on StripeObject's quirks.

The Stripe SDK itself (with requests, urllib3, charset-normalizer) is imported by the
functions that use it: about 5 MB that a web worker serving story pages and beacons, which
never call Stripe, would otherwise hold.
"""
import json
import logging
import time
from urllib.parse import urlsplit

from flask import current_app

log = logging.getLogger(__name__)

WEBHOOK_TOLERANCE_SECONDS = 300  # Stripe's own default
REQUEST_TIMEOUT_SECONDS = 15
STRIPE_REDIRECT_ORIGINS = ("https://checkout.stripe.com", "https://billing.stripe.com")
_INTERVALS = {"monthly": "month", "annual": "year"}


class PaymentsUnavailable(Exception):
    """Stripe could not be reached or failed on its side; trying again later may work."""


class PaymentsRejected(Exception):
    """Stripe refused the request (unknown id, bad parameter); trying again will not help."""


class PaymentDeclined(PaymentsRejected):
    """The card was refused (a Stripe card error); `message` is Stripe's words for the
    payer, `code` its decline code (e.g. "insufficient_funds")."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        self.code = code


class SignatureError(Exception):
    """A webhook whose signature is missing, wrong or too old."""


def _client():
    import stripe  # deferred: see the module docstring

    config = current_app.config
    key, base = config["STRIPE_SECRET_KEY"], config.get("STRIPE_API_BASE") or ""
    clients = current_app.extensions.setdefault("supportapp_stripe", {})
    if (key, base) not in clients:
        logging.getLogger("stripe").setLevel(logging.WARNING)  # one line per request is noise
        clients[(key, base)] = stripe.StripeClient(
            key,
            base_addresses={"api": base} if base else None,
            http_client=stripe.RequestsClient(timeout=REQUEST_TIMEOUT_SECONDS),
            max_network_retries=1,
        )
    return clients[(key, base)]


def _call(what, request):
    """Run one Stripe request; turn its errors into ours, logging ids and codes only."""
    import stripe  # deferred: see the module docstring

    unavailable = (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError,
                   stripe.AuthenticationError, stripe.PermissionError)
    try:
        return request()
    except unavailable as exc:
        log.warning("stripe %s unavailable: %s (status %s, request %s)", what,
                    type(exc).__name__, exc.http_status, exc.request_id)
        raise PaymentsUnavailable(what) from exc
    except stripe.StripeError as exc:
        log.warning("stripe %s rejected: %s code=%s (status %s, request %s)", what,
                    type(exc).__name__, exc.code, exc.http_status, exc.request_id)
        raise PaymentsRejected(what) from exc


def _plain(obj):
    """A StripeObject as plain JSON data. to_dict() turns `*_decimal` strings into Decimal;
    they go back to the strings the API sent, so the result can be stored as JSON."""
    return json.loads(json.dumps(obj.to_dict(), default=str))


def allowed_redirect(url):
    """Only Stripe's hosted pages, or the configured API base (the emulator), are followed."""
    parts = urlsplit(url or "")
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin in STRIPE_REDIRECT_ORIGINS or origin == api_origin()


def api_origin():
    """The origin of STRIPE_API_BASE when one is configured, else None."""
    base = current_app.config.get("STRIPE_API_BASE")
    if not base:
        return None
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}"


# Stripe offers SEPA Direct Debit for euro prices only (one-off and recurring alike).
SEPA_DEBIT_CURRENCIES = ("eur",)


def checkout_params(order, total_minor, metadata, success_url, cancel_url):
    """Checkout Session parameters for one order: a donation or a recurring gift. Euro
    gifts may be paid by card or SEPA Direct Debit, others by card."""
    price_data = {
        "currency": order.currency.lower(),
        "unit_amount": total_minor,
        "product_data": {"name": order.product_name},
    }
    params = {
        "line_items": [{"price_data": price_data, "quantity": 1}],
        "metadata": metadata,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if order.email:  # else Stripe's page asks for it
        params["customer_email"] = order.email
    if order.attribution:  # the gift's credit, also in the metadata (services/gift_attribution)
        params["client_reference_id"] = order.attribution
    if order.currency.lower() in SEPA_DEBIT_CURRENCIES:
        # A bank debit settles days later: the webhook's async_payment_* events say how.
        params["payment_method_types"] = ["card", "sepa_debit"]
    if order.frequency == "one_off":
        params.update(mode="payment", submit_type="donate", customer_creation="always",
                      payment_intent_data={"metadata": metadata})
    else:
        price_data["recurring"] = {"interval": _INTERVALS[order.frequency]}
        params.update(mode="subscription", subscription_data={"metadata": metadata})
    return params


def create_checkout_session(params, idempotency_key):
    """Create a Checkout Session; returns (session id, hosted page URL)."""
    session = _call("checkout.sessions.create", lambda: _client().v1.checkout.sessions.create(
        params=params, options={"idempotency_key": idempotency_key}))
    if not allowed_redirect(session.url):
        log.error("checkout session %s has an unexpected URL origin", session.id)
        raise PaymentsRejected("checkout URL")
    return session.id, session.url


def _expand(expand):
    return {"params": {"expand": list(expand)}} if expand else {}


def retrieve_checkout_session(session_id, expand=()):
    """The Checkout Session as a plain dict, with the fields named in `expand` (Stripe's
    dotted paths) as objects instead of ids."""
    session = _call("checkout.sessions.retrieve",
                    lambda: _client().v1.checkout.sessions.retrieve(session_id,
                                                                    **_expand(expand)))
    return _plain(session)


def create_portal_session(customer_id, return_url):
    """A customer portal session for managing a recurring gift; returns its URL."""
    portal = _call("billing_portal.sessions.create",
                   lambda: _client().v1.billing_portal.sessions.create(
                       params={"customer": customer_id, "return_url": return_url}))
    if not allowed_redirect(portal.url):
        raise PaymentsRejected("portal URL")
    return portal.url


def retrieve_subscription(subscription_id, expand=()):
    """The subscription as it is now, as a plain dict (`expand` as for Checkout Sessions)."""
    subscription = _call("subscriptions.retrieve",
                         lambda: _client().v1.subscriptions.retrieve(subscription_id,
                                                                     **_expand(expand)))
    return _plain(subscription)


def change_subscription_price(subscription_id, amount_minor, currency, frequency):
    """Charge `amount_minor` per month or year (`frequency`) from the next invoice on, with
    no proration; returns the subscription as Stripe answered it, as a plain dict.

    A subscription item's inline price names an existing product, so the subscription is
    read first for its item and product. Changing the interval restarts the billing period
    today (Stripe invoices the new price at once); the metadata's frequency follows, so
    later invoices are recorded with the right one.
    """
    current = retrieve_subscription(subscription_id)
    item = current["items"]["data"][0]
    product = item["price"]["product"]
    product = product["id"] if isinstance(product, dict) else product
    params = {
        "items": [{"id": item["id"], "price_data": {
            "currency": currency.lower(), "product": product, "unit_amount": amount_minor,
            "recurring": {"interval": _INTERVALS[frequency]}}}],
        "proration_behavior": "none",
        "metadata": {"frequency": frequency},
    }
    return _update_subscription(subscription_id, params)


def pause_subscription(subscription_id, resumes_at):
    """Take no payment until `resumes_at` (an aware datetime): invoices made meanwhile are
    voided, so nothing is owed for the pause. Returns the subscription as a plain dict."""
    params = {"pause_collection": {"behavior": "void",
                                   "resumes_at": int(resumes_at.timestamp())}}
    return _update_subscription(subscription_id, params)


def resume_subscription(subscription_id):
    """Take payments again from the next invoice on; returns the subscription."""
    return _update_subscription(subscription_id, {"pause_collection": ""})  # "" unsets it


def _update_subscription(subscription_id, params):
    subscription = _call("subscriptions.update", lambda: _client().v1.subscriptions.update(
        subscription_id, params=params))
    return _plain(subscription)


def cancel_subscription(subscription_id, feedback=None):
    """End the subscription now; `feedback` is one of Stripe's cancellation reasons
    (too_expensive, unused, ...) or None. Returns the subscription as a plain dict."""
    params = {"cancellation_details": {"feedback": feedback}} if feedback else {}
    subscription = _call("subscriptions.cancel", lambda: _client().v1.subscriptions.cancel(
        subscription_id, params=params))
    return _plain(subscription)


def create_card_update_session(customer_id, return_url, done_url):
    """A customer portal session that goes straight to replacing the card, and sends the
    supporter to `done_url` once it is replaced (`return_url` if they leave); its URL."""
    params = {"customer": customer_id, "return_url": return_url, "flow_data": {
        "type": "payment_method_update",
        "after_completion": {"type": "redirect", "redirect": {"return_url": done_url}}}}
    portal = _call("billing_portal.sessions.create",
                   lambda: _client().v1.billing_portal.sessions.create(params=params))
    if not allowed_redirect(portal.url):
        raise PaymentsRejected("portal URL")
    return portal.url


def retrieve_invoice(invoice_id):
    """The invoice as it is now, as a plain dict."""
    return _plain(_call("invoices.retrieve",
                        lambda: _client().v1.invoices.retrieve(invoice_id)))


def pay_invoice(invoice_id):
    """Charge an open invoice now with its subscription's card (what Stripe's own retry
    does); returns the invoice as a plain dict. Raises PaymentDeclined when the card is
    refused, PaymentsRejected when the invoice cannot be paid (already paid, void)."""
    try:
        return _plain(_call("invoices.pay", lambda: _client().v1.invoices.pay(invoice_id)))
    except PaymentsRejected as exc:
        import stripe  # deferred: see the module docstring

        cause = exc.__cause__
        if isinstance(cause, stripe.CardError):
            raise PaymentDeclined(cause.user_message or "Your card was declined.",
                                  getattr(cause.error, "decline_code", None) or cause.code
                                  ) from cause
        raise


def customer_card(customer_id):
    """The id of the card a customer's invoices are paid with by default, or None."""
    customer = _call("customers.retrieve", lambda: _client().v1.customers.retrieve(customer_id))
    method = (_plain(customer).get("invoice_settings") or {}).get("default_payment_method")
    return method.get("id") if isinstance(method, dict) else method


def set_subscription_card(subscription_id, payment_method_id):
    """Pay a subscription's invoices with `payment_method_id` (a card of its customer): a
    subscription's own card wins over the customer's default. Returns the subscription."""
    return _update_subscription(subscription_id, {"default_payment_method": payment_method_id})


def payment_error_code(intent_id):
    """Stripe's code for why a payment intent's last attempt failed (its decline code, e.g.
    "insufficient_funds", else its error code), or None."""
    intent = _plain(_call("payment_intents.retrieve",
                          lambda: _client().v1.payment_intents.retrieve(intent_id)))
    error = intent.get("last_payment_error") or {}
    code = error.get("decline_code") or error.get("code")
    return code if isinstance(code, str) else None


def delete_customer(customer_id):
    """Delete a Stripe customer (Stripe ends their subscriptions with it); False when Stripe
    had no such customer any more, which is as good."""
    try:
        _call("customers.delete", lambda: _client().v1.customers.delete(customer_id))
    except PaymentsRejected as exc:
        import stripe  # deferred: see the module docstring

        cause = exc.__cause__
        if isinstance(cause, stripe.InvalidRequestError) and cause.code == "resource_missing":
            return False
        raise
    return True


def charge_payment_intent(charge_id):
    """The payment intent id of a charge, or None."""
    charge = _call("charges.retrieve", lambda: _client().v1.charges.retrieve(charge_id))
    intent = getattr(charge, "payment_intent", None)
    return intent if isinstance(intent, str) else getattr(intent, "id", None)


def charge_balance_transaction(charge_id=None, payment_intent_id=None):
    """The balance transaction (amount, fee, net, fee_details...) of a charge, named by its
    id or as a payment intent's latest charge, as a plain dict; None while Stripe has none
    (a charge not yet settled into the balance)."""
    if charge_id:
        charge = _call("charges.retrieve", lambda: _client().v1.charges.retrieve(
            charge_id, params={"expand": ["balance_transaction"]}))
    else:
        intent = _call("payment_intents.retrieve", lambda: _client().v1.payment_intents.retrieve(
            payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]}))
        charge = getattr(intent, "latest_charge", None)
    import stripe  # deferred: see the module docstring

    txn = getattr(charge, "balance_transaction", None) if charge is not None else None
    return _plain(txn) if isinstance(txn, stripe.StripeObject) else None


def invoice_payment_intent(invoice_id):
    """The payment intent that paid (or tried to pay) an invoice, or None.

    Current API versions list an invoice's payments under `payments`, which Stripe leaves
    out of the invoice unless asked for.
    """
    invoice = _call("invoices.retrieve", lambda: _client().v1.invoices.retrieve(
        invoice_id, params={"expand": ["payments"]}))
    for payment in _plain(invoice).get("payments", {}).get("data", []):
        intent = (payment.get("payment") or {}).get("payment_intent")
        intent = intent.get("id") if isinstance(intent, dict) else intent
        if isinstance(intent, str):
            return intent
    return None


def events_since(created_gte):
    """Every event created at or after the Unix time `created_gte`, as plain dicts.

    Stripe lists newest first; this pages through all of them.
    """
    page = _call("events.list", lambda: _client().v1.events.list(
        params={"created": {"gte": created_gte}, "limit": 100}))
    iterator = page.auto_paging_iter()
    while True:
        event = _call("events.list", lambda: next(iterator, None))
        if event is None:
            return
        yield _plain(event)


def verify_webhook(payload, signature_header):
    """Check a webhook's signature on the raw body; returns the event as a plain dict.

    Raises SignatureError for a missing, wrong or stale signature, and ValueError for a
    correctly signed body that is not JSON.
    """
    import stripe  # deferred: see the module docstring

    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not signature_header or not secret:
        raise SignatureError("missing signature")
    _refuse_future(signature_header)
    try:
        text = payload.decode("utf-8")
        stripe.Webhook.construct_event(text, signature_header, secret,
                                       tolerance=WEBHOOK_TOLERANCE_SECONDS)
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
        raise SignatureError("bad signature") from exc
    except (ValueError, TypeError, AttributeError, KeyError):
        pass  # signed by Stripe, but not an event object; the caller stores what it can
    return json.loads(text, parse_constant=_no_constants)


def _refuse_future(signature_header):
    """The SDK refuses signatures older than the tolerance but not ones dated ahead of it,
    which a captured, pre-signed request could use to outlive the window."""
    stamps = [part[2:] for part in signature_header.split(",") if part.startswith("t=")]
    try:
        signed_at = int(stamps[0])
    except (IndexError, ValueError):
        return  # no usable timestamp: the SDK's own check refuses it
    if signed_at > time.time() + WEBHOOK_TOLERANCE_SECONDS:
        raise SignatureError("signature dated in the future")


def _no_constants(name):
    # NaN and Infinity are not JSON, and PostgreSQL would refuse to store them.
    raise ValueError(f"{name} is not JSON")
