"""SEPA Direct Debit: a Checkout Session completes unpaid, the debit settles a moment later.

Test IBANs from docs.stripe.com/payments/sepa-debit/accept-a-payment: AT61.../DE89...
succeed, AT86.../DE62... fail.
"""

import time

import pytest
import requests
import stripe

from stripe_emulator import run_in_thread

from .helpers import WEBHOOK_SECRET, monthly_params, one_off_params

SUCCEEDS = "AT611904300234573201"
FAILS = "AT861904300235473202"
HOUR = 3600


@pytest.fixture
def async_delay(emulator, control):
    """Set the emulator's async_delay (seconds) for one test."""
    kept = emulator.state.async_delay

    def set_delay(seconds):
        control("POST", "/config", data={"async_delay": str(seconds)})

    yield set_delay
    emulator.state.async_delay = kept


@pytest.fixture
def sepa_session(client):
    def create(mode="payment", currency="eur", types=("card", "sepa_debit")):
        build = one_off_params if mode == "payment" else monthly_params
        return client.v1.checkout.sessions.create(
            params=build(currency=currency, payment_method_types=list(types)))

    return create


def pay_by_iban(control, session_id, iban=SUCCEEDS, **fields):
    return control("POST", f"/checkout/{session_id}/pay",
                   data={"iban": iban, "name": "Jenny Rosen", "email": "jenny@example.com",
                         **fields})


@pytest.fixture
def pending(control, sepa_session, async_delay):
    """A session paid by `iban`, its debit pending for an hour; (session, events so far)."""
    def pay(iban, mode="payment"):
        async_delay(HOUR)
        session = sepa_session(mode)
        assert pay_by_iban(control, session.id, iban).json()["status"] == "complete"
        return session, len(event_types(control))

    return pay


def event_types(control, since=0):
    return [event["type"] for event in control("GET", "/events").json()["data"]][since:]


def test_paying_by_sepa_leaves_the_session_unpaid_and_the_intent_processing(
        client, control, sepa_session, async_delay):
    async_delay(HOUR)
    session = sepa_session()
    assert session.payment_method_types == ["card", "sepa_debit"]
    answer = pay_by_iban(control, session.id, "de89 3704 0044 0532 0130 00")
    assert answer.status_code == 200 and answer.json()["status"] == "complete"

    session = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent.latest_charge"]})
    assert (session.status, session.payment_status) == ("complete", "unpaid")
    intent = session.payment_intent
    assert intent.status == "processing" and intent.amount_received == 0
    charge = intent.latest_charge
    assert (charge.status, charge.paid, charge.balance_transaction) == ("pending", False, None)
    details = charge.payment_method_details
    assert details.type == "sepa_debit"
    assert (details.sepa_debit.last4, details.sepa_debit.country,
            details.sepa_debit.bank_code) == ("3000", "DE", "37040044")
    method = client.v1.payment_methods.retrieve(charge.payment_method)
    assert method.type == "sepa_debit" and method.sepa_debit.last4 == "3000"
    assert method.billing_details.name == "Jenny Rosen"
    mandate = client.v1.mandates.retrieve(details.sepa_debit.mandate)
    assert (mandate.status, mandate.type, mandate.payment_method) == (
        "active", "single_use", method.id)
    assert mandate.customer_acceptance.type == "online"
    assert event_types(control)[-3:] == [
        "payment_intent.processing", "charge.pending", "checkout.session.completed"]


def test_a_succeeding_iban_settles_when_the_clock_passes_the_delay(client, control, pending):
    session, before = pending(SUCCEEDS)
    moved = control("POST", "/clock/advance", data={"seconds": str(HOUR - 60)}).json()
    assert moved["steps"] == []  # not yet due
    moved = control("POST", "/clock/advance", data={"seconds": "120"}).json()
    assert [(step["kind"], step["paid"]) for step in moved["steps"]] == [("settlement", True)]
    assert event_types(control, before) == [
        "charge.succeeded", "payment_intent.succeeded",
        "checkout.session.async_payment_succeeded"]

    session = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent.latest_charge.balance_transaction"]})
    assert session.payment_status == "paid"
    assert session.payment_intent.status == "succeeded"
    charge = session.payment_intent.latest_charge
    assert (charge.status, charge.paid) == ("succeeded", True)
    txn = charge.balance_transaction
    # Stripe's SEPA Direct Debit price in the euro area: €0.35 per debit, whatever the amount.
    assert (txn.amount, txn.fee, txn.net, txn.currency) == (1000, 35, 965, "eur")


def test_a_failing_iban_fails_the_intent_and_the_session(client, control, pending):
    session, before = pending(FAILS)
    control("POST", "/clock/advance", data={"seconds": str(HOUR)})
    assert event_types(control, before) == [
        "charge.failed", "payment_intent.payment_failed",
        "checkout.session.async_payment_failed"]
    session = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent.latest_charge"]})
    assert (session.status, session.payment_status) == ("complete", "unpaid")
    intent = session.payment_intent
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.code == "insufficient_funds"
    charge = intent.latest_charge
    assert (charge.status, charge.failure_code, charge.balance_transaction) == (
        "failed", "insufficient_funds", None)
    assert client.v1.balance_transactions.list(params={"source": charge.id}).data == []


def test_the_outcome_arrives_on_its_own_a_moment_later(
        control, sepa_session, async_delay, webhooks):
    async_delay(1)
    session = sepa_session()
    started = time.monotonic()
    pay_by_iban(control, session.id, SUCCEEDS)
    webhooks.wait_for("checkout.session.async_payment_succeeded", timeout=5)
    assert time.monotonic() - started < 4
    types = webhooks.types()
    assert types.index("checkout.session.completed") < types.index("charge.succeeded")


def test_a_sepa_subscription_is_active_while_its_first_debit_processes(
        client, control, pending):
    session, before = pending(SUCCEEDS, "subscription")
    session = client.v1.checkout.sessions.retrieve(session.id)
    assert session.payment_status == "unpaid"
    sub = client.v1.subscriptions.retrieve(session.subscription)
    assert sub.status == "active"
    assert client.v1.invoices.retrieve(sub.latest_invoice).status == "open"
    method = client.v1.payment_methods.retrieve(sub.default_payment_method)
    assert method.type == "sepa_debit" and method.customer == sub.customer

    control("POST", "/clock/advance", data={"seconds": str(HOUR)})
    assert event_types(control, before) == [
        "charge.succeeded", "payment_intent.succeeded", "invoice.paid",
        "checkout.session.async_payment_succeeded"]
    assert client.v1.invoices.retrieve(sub.latest_invoice).status == "paid"
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"


def test_a_failed_first_debit_leaves_the_subscription_past_due(client, control, pending):
    session, before = pending(FAILS, "subscription")
    sub_id = client.v1.checkout.sessions.retrieve(session.id).subscription
    control("POST", "/clock/advance", data={"seconds": str(HOUR)})
    assert event_types(control, before) == [
        "charge.failed", "payment_intent.payment_failed", "invoice.payment_failed",
        "customer.subscription.updated", "checkout.session.async_payment_failed"]
    sub = client.v1.subscriptions.retrieve(sub_id)
    assert sub.status == "past_due"
    assert client.v1.invoices.retrieve(sub.latest_invoice).status == "open"


@pytest.mark.parametrize(("iban", "message"), [
    ("", "Your IBAN is incomplete."),
    ("AT61 1904 3002 3457", "Your IBAN is incomplete."),
    ("AT611904300234573202", "Your IBAN is invalid."),  # check digits wrong
    ("US611904300234573201", "Your IBAN's country is not supported by SEPA Direct Debit."),
])
def test_an_invalid_iban_is_refused_before_any_payment(
        client, control, sepa_session, iban, message):
    session = sepa_session()
    answer = pay_by_iban(control, session.id, iban)
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == message
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert client.v1.payment_methods.list(params={"type": "sepa_debit"}).data == []


def test_the_hosted_page_offers_sepa_and_refuses_a_bad_iban_with_a_message(
        emulator, sepa_session, client):
    session = sepa_session()
    page = requests.get(session.url, params={"method": "sepa_debit"}, timeout=10).text
    assert 'name="iban"' in page and "authorise" in page
    assert 'aria-current="page">SEPA Direct Debit' in page
    answer = requests.post(session.url, data={
        "method": "sepa_debit", "email": "jenny@example.com", "name": "Jenny Rosen",
        "iban": "DE00 3704 0044 0532 0130 00"}, timeout=10, allow_redirects=False)
    assert answer.status_code == 400
    assert "Your IBAN is invalid." in answer.text
    assert 'value="DE00 3704 0044 0532 0130 00"' in answer.text  # kept for correcting
    answer = requests.post(session.url, data={
        "method": "sepa_debit", "email": "jenny@example.com", "name": "Jenny Rosen",
        "iban": SUCCEEDS}, timeout=10, allow_redirects=False)
    assert answer.status_code == 303
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "unpaid"


def test_a_card_only_session_has_no_sepa_choice(emulator, client, control):
    session = client.v1.checkout.sessions.create(params=one_off_params(currency="eur"))
    assert session.payment_method_types == ["card"]
    assert 'name="iban"' not in requests.get(
        session.url, params={"method": "sepa_debit"}, timeout=10).text
    answer = pay_by_iban(control, session.id, SUCCEEDS)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "payment_method_unavailable"


@pytest.mark.parametrize("mode", ["payment", "subscription"])
def test_sepa_debit_needs_euros(client, sepa_session, mode):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sepa_session(mode, currency="usd")
    assert caught.value.param == "payment_method_types"
    assert "supports the following currencies: eur" in caught.value.user_message


def test_a_pending_debit_survives_a_restart(tmp_path):
    state_file = tmp_path / "state.sqlite3"
    first = run_in_thread(webhook_secret=WEBHOOK_SECRET, state_file=state_file,
                          async_delay=HOUR)
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": first.url})
    session = client.v1.checkout.sessions.create(
        params=one_off_params(currency="eur", payment_method_types=["sepa_debit"]))
    requests.post(f"{first.url}/_emulator/checkout/{session.id}/pay",
                  data={"iban": SUCCEEDS}, timeout=10).raise_for_status()
    first.shutdown()

    with run_in_thread(webhook_secret=WEBHOOK_SECRET, state_file=state_file,
                       async_delay=HOUR) as second:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": second.url})
        assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "unpaid"
        requests.post(f"{second.url}/_emulator/clock/advance", data={"seconds": str(HOUR)},
                      timeout=10).raise_for_status()
        assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"
