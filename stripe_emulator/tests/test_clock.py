"""The emulator's clock: moving time forward runs renewals and the retries of failed ones
(Stripe's test clocks and its retry schedule), with the events Stripe sends."""

import pytest
import requests
import stripe

from stripe_emulator import run_in_thread

from .helpers import WEBHOOK_SECRET

DAY = 24 * 3600
CARD_RENEWALS_FAIL = "4000000000000341"


def _advance(control, **fields):
    response = control("POST", "/clock/advance", data=fields)
    assert response.status_code == 200, response.text
    return response.json()


def _now(control):
    return control("GET", "/clock").json()["now"]


def _events(webhooks, start=0):
    """(type, object) of each event received since `start`, signatures checked."""
    webhooks.settle()
    return [
        (kind, stripe.Webhook.construct_event(body, sig, WEBHOOK_SECRET).data.object)
        for kind, _, body, sig in webhooks.received[start:]
    ]


def _replace_card(client, sub, number="4242424242424242"):
    """Give the subscription a new card through the portal's card form."""
    portal = client.v1.billing_portal.sessions.create(params={
        "customer": sub.customer, "flow_data": {"type": "payment_method_update"}})
    saved = requests.post(f"{portal.url}/payment_method", data={
        "card_number": number, "expiry": "12/34", "cvc": "123"}, allow_redirects=False,
        timeout=10)
    assert saved.status_code in (200, 303), saved.text


def test_clock_moves_forward_only_and_stamps_new_objects(client, control):
    """`days`, `seconds` or `to` move the clock; new objects carry its time; it never goes
    back, and a reset returns to the wall clock."""
    start = _now(control)
    answer = _advance(control, days="10")
    assert answer["now"] >= start + 10 * DAY and answer["steps"] == []
    customer = client.v1.customers.create(params={"email": "later@example.com"})
    assert customer.created >= start + 10 * DAY
    _advance(control, seconds="60")
    assert _now(control) >= start + 10 * DAY + 60
    for fields, param in [({"to": str(start)}, "to"), ({"days": "-1"}, "days"),
                          ({"seconds": "soon"}, "seconds"), ({}, "to"),
                          ({"days": "1", "seconds": "5"}, "to")]:
        refused = control("POST", "/clock/advance", data=fields)
        assert refused.status_code == 400, fields
        assert refused.json()["error"]["param"] == param
    assert _now(control) < start + 11 * DAY  # the refusals moved nothing
    control("POST", "/reset")
    assert _now(control) < start + DAY


def test_renewals_run_at_their_period_end(client, subscribe, control, webhooks):
    """A monthly subscription renews once per period end passed, each invoice dated at its
    own period end; nothing happens before."""
    sub = subscribe()
    period_end = sub["items"].data[0].current_period_end
    assert _advance(control, to=str(period_end - 60))["steps"] == []
    answer = _advance(control, to=str(period_end + 45 * DAY))
    assert (answer["renewals"], answer["retries"], answer["paid"]) == (2, 0, 2)
    first, second = answer["steps"]
    assert first["at"] == period_end and first["kind"] == "renewal" and first["paid"]
    assert 28 * DAY <= second["at"] - period_end <= 31 * DAY
    invoices = client.v1.invoices.list(params={"subscription": sub.id}).data
    assert [i.billing_reason for i in invoices] == [
        "subscription_cycle", "subscription_cycle", "subscription_create"]
    assert invoices[1].created == period_end
    assert invoices[1].status_transitions.paid_at == period_end
    events = _events(webhooks)
    paid = [obj for kind, obj in events if kind == "invoice.paid"]
    assert [obj.id for obj in paid][-2:] == [invoices[1].id, invoices[0].id]
    renewed = client.v1.subscriptions.retrieve(sub.id)
    assert renewed["items"].data[0].current_period_start == second["at"]


def test_failed_renewal_is_retried_on_schedule_then_cancelled(client, subscribe, control,
                                                              webhooks):
    """The 0341 card: the renewal fails, is tried again 3, 5 and 7 days after each attempt
    (days 3, 8, 15), each failure sent with its attempt_count and next_payment_attempt; after
    the last, the subscription is cancelled for payment_failed and its invoice stays open,
    no longer collected."""
    sub = subscribe(card=CARD_RENEWALS_FAIL)
    period_end = sub["items"].data[0].current_period_end
    webhooks.wait_for("checkout.session.completed")
    start = len(webhooks.received)
    answer = _advance(control, to=str(period_end + 20 * DAY))
    assert [(s["kind"], s["at"] - period_end, s["paid"], s["status"]) for s in answer["steps"]] \
        == [("renewal", 0, False, "past_due"), ("retry", 3 * DAY, False, "past_due"),
            ("retry", 8 * DAY, False, "past_due"), ("retry", 15 * DAY, False, "canceled")]
    events = _events(webhooks, start)
    failures = [obj for kind, obj in events if kind == "invoice.payment_failed"]
    assert [(f.attempt_count, f.next_payment_attempt and f.next_payment_attempt - period_end)
            for f in failures] == [(1, 3 * DAY), (2, 8 * DAY), (3, 15 * DAY), (4, None)]
    assert {f.billing_reason for f in failures} == {"subscription_cycle"}
    assert len({f.id for f in failures}) == 1
    assert [kind for kind, _ in events].count("payment_intent.payment_failed") == 4
    # Each retry's events, in Stripe's order; the last ends with the cancellation.
    assert [kind for kind, _ in events][-3:] == [
        "payment_intent.payment_failed", "invoice.payment_failed",
        "customer.subscription.deleted"]
    deleted = events[-1][1]
    assert deleted.status == "canceled"
    assert deleted.cancellation_details.reason == "payment_failed"
    assert deleted.canceled_at == period_end + 15 * DAY
    invoice = client.v1.invoices.retrieve(failures[0].id)
    assert (invoice.status, invoice.next_payment_attempt, invoice.auto_advance) == (
        "open", None, False)
    # Cancelled: no more renewals however far the clock goes.
    assert _advance(control, days="90")["steps"] == []


def test_charge_customer_fail_attaches_then_fails_renewals(client, subscribe, control):
    """pm_card_chargeCustomerFail (the 0341 card by its test name): the subscription starts
    with it, saved on the customer; its first renewal fails."""
    sub = subscribe(card="pm_card_chargeCustomerFail")
    method = client.v1.payment_methods.retrieve(sub.default_payment_method)
    assert (method.card.last4, method.customer, sub.status) == ("0341", sub.customer, "active")
    period_end = sub["items"].data[0].current_period_end
    (step,) = _advance(control, to=str(period_end))["steps"]
    assert (step["paid"], step["status"]) == (False, "past_due")


def test_retry_succeeds_with_a_new_card(client, subscribe, control, webhooks):
    """A card replaced after the failure: the next retry pays the invoice, the subscription
    is active again, and no retry follows."""
    sub = subscribe(card=CARD_RENEWALS_FAIL)
    period_end = sub["items"].data[0].current_period_end
    _advance(control, to=str(period_end + DAY))
    _replace_card(client, sub)
    webhooks.settle()
    start = len(webhooks.received)
    answer = _advance(control, to=str(period_end + 20 * DAY))
    assert [(s["kind"], s["paid"], s["status"]) for s in answer["steps"]] == [
        ("retry", True, "active")]
    kinds = [kind for kind, _ in _events(webhooks, start)]
    assert kinds == ["charge.succeeded", "payment_intent.succeeded", "invoice.paid",
                     "customer.subscription.updated"]
    updated = _events(webhooks, start)[-1][1]
    assert updated.status == "active"
    invoice = client.v1.invoices.retrieve(client.v1.subscriptions.retrieve(sub.id).latest_invoice)
    assert (invoice.status, invoice.attempt_count, invoice.next_payment_attempt) == (
        "paid", 2, None)


def test_paying_the_invoice_stops_the_retries(client, subscribe, control, webhooks):
    """POST /v1/invoices/:id/pay after a new card: paid now, active, nothing retried later;
    before the new card, the same call is a card error that leaves the schedule alone."""
    sub = subscribe(card=CARD_RENEWALS_FAIL)
    period_end = sub["items"].data[0].current_period_end
    invoice_id = _advance(control, to=str(period_end + DAY))["steps"][0]["invoice"]
    scheduled = client.v1.invoices.retrieve(invoice_id).next_payment_attempt
    with pytest.raises(stripe.CardError) as declined:
        client.v1.invoices.pay(invoice_id)
    assert declined.value.code == "card_declined"
    after = client.v1.invoices.retrieve(invoice_id)
    assert (after.attempt_count, after.next_payment_attempt) == (2, scheduled)
    _replace_card(client, sub)
    paid = client.v1.invoices.pay(invoice_id)
    assert (paid.status, paid.next_payment_attempt) == ("paid", None)
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    answer = _advance(control, to=str(period_end + 20 * DAY))
    assert answer["retries"] == 0 and answer["renewals"] == 0


@pytest.mark.parametrize("after, status, final_event", [
    ("unpaid", "unpaid", "customer.subscription.updated"),
    ("past_due", "past_due", "invoice.payment_failed"),
])
def test_other_endings_after_the_last_retry(client, subscribe, control, webhooks, after,
                                            status, final_event):
    """`after_retries` as in Stripe's settings: mark unpaid, or leave past_due; with
    `retry_days=1` a single retry, a day after the failure."""
    configured = control("POST", "/config", data={"retry_days": "1", "after_retries": after})
    assert configured.json()["retry_days"] == [1]
    try:
        sub = subscribe(card=CARD_RENEWALS_FAIL)
        period_end = sub["items"].data[0].current_period_end
        answer = _advance(control, to=str(period_end + 5 * DAY))
        assert [(s["kind"], s["at"] - period_end, s["status"]) for s in answer["steps"]] == [
            ("renewal", 0, "past_due"), ("retry", DAY, status)]
        assert _events(webhooks)[-1][0] == final_event
        assert client.v1.subscriptions.retrieve(sub.id).status == status
    finally:
        control("POST", "/config", data={"retry_days": "3,5,7", "after_retries": "cancel"})


def test_retry_settings_are_checked(control):
    """A bad schedule or ending is a 400 naming it, and changes nothing."""
    for fields, param in [({"retry_days": "3,x"}, "retry_days"),
                          ({"retry_days": "0"}, "retry_days"),
                          ({"retry_days": ",".join(["1"] * 9)}, "retry_days"),
                          ({"retry_days": "2", "after_retries": "delete"}, "after_retries")]:
        refused = control("POST", "/config", data=fields)
        assert refused.status_code == 400 and refused.json()["error"]["param"] == param
    config = control("GET", "/config").json()
    assert (config["retry_days"], config["after_retries"]) == ([3, 5, 7], "cancel")


def test_a_year_for_many_subscriptions(client, subscribe, control):
    """Twenty monthly subscriptions (two with the 0341 card) and two annual ones over a year
    and a day: 12 renewals each for the good monthly ones, one for the annual ones, and the
    failing ones cancelled after their retries."""
    monthly = [subscribe() for _ in range(18)]
    failing = [subscribe(card=CARD_RENEWALS_FAIL) for _ in range(2)]
    annual = [subscribe(interval="year") for _ in range(2)]
    answer = _advance(control, days="366")
    renewals = {}
    for step in answer["steps"]:
        if step["kind"] == "renewal":
            renewals[step["subscription"]] = renewals.get(step["subscription"], 0) + 1
    assert all(renewals[sub.id] == 12 for sub in monthly)
    assert all(renewals[sub.id] == 1 for sub in annual)
    assert all(renewals[sub.id] == 1 for sub in failing)
    assert answer["retries"] == 2 * 3
    assert [client.v1.subscriptions.retrieve(s.id).status for s in failing] == ["canceled"] * 2
    steps_at = [step["at"] for step in answer["steps"]]
    assert steps_at == sorted(steps_at)


def test_the_clock_survives_a_restart(tmp_path):
    """With a state file the clock's offset is kept, so a restarted emulator is still in
    the future it was moved to."""
    path = tmp_path / "clock.sqlite3"
    with run_in_thread(state_file=path) as first:
        moved = requests.post(f"{first.url}/_emulator/clock/advance", data={"days": "30"},
                              timeout=10).json()["now"]
    with run_in_thread(state_file=path) as second:
        now = requests.get(f"{second.url}/_emulator/clock", timeout=10).json()["now"]
        assert moved <= now < moved + 60
