"""Stripe payloads shaped like Stripe's own examples (fixtures3.json, vendored beside the
emulator's tests), signed webhook requests, and an in-memory stand-in for
supportapp.services.payments."""
import copy
import hashlib
import hmac
import itertools
import json
import time
from functools import cache
from pathlib import Path

# Vendored with its licence from stripe/openapi, beside the emulator's own tests (see the
# README in that folder).
FIXTURES3 = (
    Path(__file__).resolve().parent.parent
    / "stripe_emulator" / "tests" / "fixtures" / "stripe" / "fixtures3.json"
)
WEBHOOK_SECRET = "whsec_local_emulator"  # the app's default when no STRIPE_SECRET_KEY is set
_ids = itertools.count(1)


@cache
def _resources():
    return json.loads(FIXTURES3.read_text())["resources"]


def resource(name, **overrides):
    """A deep copy of Stripe's example object `name` with top-level fields replaced."""
    obj = copy.deepcopy(_resources()[name])
    obj.update(overrides)
    return obj


def new_id(prefix):
    return f"{prefix}_test{next(_ids):06d}"


def event(event_type, obj, created=None, event_id=None):
    return resource("event", id=event_id or new_id("evt"), type=event_type,
                    created=created or int(time.time()), data={"object": obj})


def checkout_session(mode="payment", status="complete", payment_status="paid", amount=500,
                     currency="usd", metadata=None, **fields):
    subscription = new_id("sub") if mode == "subscription" else None
    return resource(
        "checkout.session", id=new_id("cs_test"), mode=mode, status=status,
        payment_status=payment_status, amount_total=amount, currency=currency,
        metadata=metadata or {}, customer=new_id("cus"),
        payment_intent=new_id("pi") if mode == "payment" else None,
        subscription=subscription, submit_type="donate" if mode == "payment" else None,
        **fields,
    )


def invoice(subscription_id, amount=500, currency="usd", reason="subscription_create",
            metadata=None, payment_intent=None, status="paid", period_end=None):
    obj = resource("invoice", id=new_id("in"), amount_paid=amount if status == "paid" else 0,
                   amount_due=amount, currency=currency, billing_reason=reason, status=status,
                   customer_email="reader@example.com")
    obj["parent"] = {"type": "subscription_details", "quote_details": None,
                     "subscription_details": {"subscription": subscription_id,
                                              "metadata": metadata or {}}}
    obj["status_transitions"]["paid_at"] = int(time.time()) if status == "paid" else None
    obj["lines"]["data"][0]["period"]["end"] = period_end or int(time.time()) + 30 * 86400
    if payment_intent:
        obj["payments"] = {"object": "list", "data": [
            resource("invoice_payment", invoice=obj["id"],
                     payment={"type": "payment_intent", "payment_intent": payment_intent})]}
    return obj


def subscription(subscription_id, status="active", amount=500, interval="month", **fields):
    fields = {"cancel_at_period_end": False, "canceled_at": None, "metadata": {}, **fields}
    obj = resource("subscription", id=subscription_id, status=status, currency="usd", **fields)
    item = obj["items"]["data"][0]
    item["price"].update(unit_amount=amount, currency="usd")
    item["price"]["recurring"]["interval"] = interval
    item["current_period_end"] = int(time.time()) + 30 * 86400
    return obj


def charge(payment_intent, amount=500, refunded=0, currency="usd"):
    return resource("charge", id=new_id("ch"), payment_intent=payment_intent, amount=amount,
                    amount_refunded=refunded, refunded=refunded >= amount, currency=currency)


def dispute(charge_id, payment_intent, amount=500):
    return resource("dispute", id=new_id("dp"), charge=charge_id, payment_intent=payment_intent,
                    amount=amount, currency="usd")


def signature(payload, secret=WEBHOOK_SECRET, timestamp=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload,
                      hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def post_event(client, evt, secret=WEBHOOK_SECRET, timestamp=None):
    """POST an event to the webhook as Stripe would, signed."""
    body = json.dumps(evt).encode()
    return client.post("/stripe/webhook", data=body, content_type="application/json",
                       headers={"Stripe-Signature": signature(body, secret, timestamp)})


# The calls the manage page makes (services/payments.py), answered by FakeStripe like Stripe.
MANAGE_CALLS = ("change_subscription_price", "pause_subscription", "resume_subscription",
                "cancel_subscription", "create_card_update_session", "delete_customer")
# The calls of failed-payment recovery (services/recovery.py).
RECOVERY_CALLS = ("retrieve_invoice", "pay_invoice", "customer_card", "set_subscription_card",
                  "payment_error_code")


class FakeStripe:
    """Replaces the functions of supportapp.services.payments that reach Stripe."""

    def __init__(self):
        self.created = []  # (params, idempotency key)
        self.sessions = {}
        self.portals = []
        self.invoice_intents = {}
        self.subscriptions = {}
        self.events = []
        self.unavailable = False
        self.changes = []  # (function name, subscription or customer id, params): manage page
        self.deleted_customers = set()
        self.objects = {}  # payment methods, customers, setup intents: what `expand` finds
        self.expanded = []  # the `expand` of each retrieve, in order

        self.invoices = {}  # invoice id -> invoice, for retrieve_invoice and pay_invoice
        self.declining = set()  # invoice ids whose payment the (new) card refuses
        self.intent_errors = {}  # payment intent id -> decline code
        self.cards = {}  # customer id -> the id of its default card
        self.balances = {}  # charge or payment intent id -> its charge's balance transaction

    def add_object(self, obj):
        """Keep a PaymentMethod, Customer or SetupIntent that `expand` may put in an answer."""
        self.objects[obj["id"]] = obj
        return obj

    def add_card(self, exp_month, exp_year, customer=None):
        """A card PaymentMethod with this expiry, kept for `expand`."""
        return self.add_object(resource("payment_method", id=new_id("pm"), customer=customer,
                                        card={**resource("payment_method")["card"],
                                              "exp_month": exp_month, "exp_year": exp_year}))

    def _expanded(self, obj, expand):
        """`obj` with the ids on each dotted path of `expand` replaced, as Stripe does,
        where this fake holds the object named."""
        self.expanded.append(tuple(expand))
        obj = copy.deepcopy(obj)
        for path in expand:
            self._expand_path(obj, path.split("."))
        return obj

    def _expand_path(self, holder, parts):
        if not isinstance(holder, dict) or not parts:
            return
        value = holder.get(parts[0])
        if isinstance(value, str) and value in self.objects:
            value = holder[parts[0]] = copy.deepcopy(self.objects[value])
        self._expand_path(value, parts[1:])

    @classmethod
    def install(cls, monkeypatch):
        from supportapp.services import payments

        fake = cls()
        for name in ("create_checkout_session", "retrieve_checkout_session",
                     "create_portal_session", "charge_payment_intent",
                     "invoice_payment_intent", "events_since", "retrieve_subscription",
                     "charge_balance_transaction",
                     *MANAGE_CALLS, *RECOVERY_CALLS):
            monkeypatch.setattr(payments, name, getattr(fake, name))
        return fake

    def _check(self):
        from supportapp.services.payments import PaymentsUnavailable
        from tests.write_guard import assert_no_write_transaction

        assert_no_write_transaction("fake")
        if self.unavailable:
            raise PaymentsUnavailable("fake outage")

    def create_checkout_session(self, params, idempotency_key):
        self._check()
        for earlier, key in self.created:
            if key == idempotency_key:
                return earlier["id"], earlier["url"]
        session_id = new_id("cs_test")
        params = {**copy.deepcopy(params), "id": session_id,
                  "url": f"https://checkout.stripe.com/c/pay/{session_id}"}
        self.created.append((params, idempotency_key))
        return session_id, params["url"]

    def add_session(self, session):
        self.sessions[session["id"]] = session
        return session

    def retrieve_checkout_session(self, session_id, expand=()):
        from supportapp.services.payments import PaymentsRejected

        self._check()
        if session_id not in self.sessions:
            raise PaymentsRejected("no such session")
        return self._expanded(self.sessions[session_id], expand)

    def create_portal_session(self, customer_id, return_url):
        self._check()
        self.portals.append((customer_id, return_url))
        return f"https://billing.stripe.com/p/session/{new_id('bps')}"

    def retrieve_subscription(self, subscription_id, expand=()):
        from supportapp.services.payments import PaymentsRejected

        self._check()
        if subscription_id not in self.subscriptions:
            raise PaymentsRejected("no such subscription")
        return self._expanded(self.subscriptions[subscription_id], expand)

    def charge_payment_intent(self, charge_id):
        self._check()
        return None

    def add_balance(self, key, amount, fee, currency="usd"):
        """The balance transaction Stripe answers for a charge or payment intent id."""
        txn = resource("balance_transaction", id=new_id("txn"), amount=amount, fee=fee,
                       net=amount - fee, currency=currency,
                       fee_details=[{"amount": fee, "application": None, "currency": currency,
                                     "description": "Stripe processing fees",
                                     "type": "stripe_fee"}])
        self.balances[key] = txn
        return txn

    def charge_balance_transaction(self, charge_id=None, payment_intent_id=None):
        self._check()
        return copy.deepcopy(self.balances.get(charge_id or payment_intent_id))

    def invoice_payment_intent(self, invoice_id):
        self._check()
        return self.invoice_intents.get(invoice_id)

    def events_since(self, created_gte):
        self._check()
        yield from (e for e in reversed(self.events) if e["created"] >= created_gte)

    def _subscription(self, name, subscription_id, params):
        from supportapp.services.payments import PaymentsRejected

        self._check()
        self.changes.append((name, subscription_id, params))
        if subscription_id not in self.subscriptions:
            raise PaymentsRejected("no such subscription")
        return self.subscriptions[subscription_id]

    def change_subscription_price(self, subscription_id, amount_minor, currency, frequency):
        sub = self._subscription("change_subscription_price", subscription_id,
                                 {"amount": amount_minor, "currency": currency,
                                  "frequency": frequency})
        price = sub["items"]["data"][0]["price"]
        price.update(unit_amount=amount_minor, currency=currency.lower())
        price["recurring"]["interval"] = {"monthly": "month", "annual": "year"}[frequency]
        sub["metadata"] = {**sub.get("metadata", {}), "frequency": frequency}
        return copy.deepcopy(sub)

    def pause_subscription(self, subscription_id, resumes_at):
        sub = self._subscription("pause_subscription", subscription_id,
                                 {"resumes_at": resumes_at})
        sub["pause_collection"] = {"behavior": "void", "resumes_at": int(resumes_at.timestamp())}
        return copy.deepcopy(sub)

    def resume_subscription(self, subscription_id):
        sub = self._subscription("resume_subscription", subscription_id, {})
        sub["pause_collection"] = None
        return copy.deepcopy(sub)

    def cancel_subscription(self, subscription_id, feedback=None):
        from supportapp.services.payments import PaymentsRejected

        sub = self._subscription("cancel_subscription", subscription_id, {"feedback": feedback})
        if sub["status"] == "canceled":
            raise PaymentsRejected("already canceled")
        sub.update(status="canceled", canceled_at=int(time.time()))
        return copy.deepcopy(sub)

    def create_card_update_session(self, customer_id, return_url, done_url):
        self._check()
        self.changes.append(("create_card_update_session", customer_id,
                             {"return_url": return_url, "done_url": done_url}))
        return f"https://billing.stripe.com/p/session/{new_id('bps')}"

    def delete_customer(self, customer_id):
        self._check()
        self.changes.append(("delete_customer", customer_id, {}))
        known = customer_id not in self.deleted_customers
        self.deleted_customers.add(customer_id)
        return known

    def add_invoice(self, invoice):
        self.invoices[invoice["id"]] = invoice
        return invoice

    def retrieve_invoice(self, invoice_id):
        from supportapp.services.payments import PaymentsRejected

        self._check()
        if invoice_id not in self.invoices:
            raise PaymentsRejected("no such invoice")
        return copy.deepcopy(self.invoices[invoice_id])

    def pay_invoice(self, invoice_id):
        from supportapp.services.payments import PaymentDeclined, PaymentsRejected

        self._check()
        self.changes.append(("pay_invoice", invoice_id, {}))
        invoice = self.invoices.get(invoice_id)
        if invoice is None or invoice["status"] != "open":
            raise PaymentsRejected("not payable")
        if invoice_id in self.declining:
            raise PaymentDeclined("Your card has insufficient funds.", "insufficient_funds")
        invoice.update(status="paid", amount_paid=invoice["amount_due"],
                       next_payment_attempt=None)
        invoice["status_transitions"]["paid_at"] = int(time.time())
        return copy.deepcopy(invoice)

    def customer_card(self, customer_id):
        self._check()
        return self.cards.get(customer_id)

    def set_subscription_card(self, subscription_id, payment_method_id):
        sub = self._subscription("set_subscription_card", subscription_id,
                                 {"default_payment_method": payment_method_id})
        sub["default_payment_method"] = payment_method_id
        return copy.deepcopy(sub)

    def payment_error_code(self, intent_id):
        self._check()
        return self.intent_errors.get(intent_id)
