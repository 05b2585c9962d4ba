"""The "At risk" page, its CSV downloads and its JSON in the reports API."""
import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from supportapp.extensions import db
from supportapp.services.clock import current_time, move_clock
from supportapp.services.staff import create_token
from tests.services.test_recovery_figures import email, failure, support

EVIL_EMAIL = "=cmd|'/c calc'!A1@reader.example"


@pytest.fixture
def at_risk(app):
    """On 20 March 2026: a failed USD renewal being chased, a past-due gift with no failure
    recorded, a February EUR renewal recovered in time and a GBP one lost; a March card."""
    move_clock(datetime(2026, 3, 20, 12, tzinfo=UTC) - current_time(app), app)
    chased = failure(datetime(2026, 3, 2, tzinfo=UTC), amount=700, invoice="in_chased",
                     reason="insufficient_funds", attempt_count=2,
                     next_retry_at=datetime(2026, 3, 23, 9, tzinfo=UTC),
                     of=support(amount_minor=700, email=EVIL_EMAIL))
    email("recovery:in_chased", created_at=datetime(2026, 3, 2, tzinfo=UTC))
    email("recovery:in_chased:day3", status="given_up",
          created_at=datetime(2026, 3, 5, tzinfo=UTC))
    stripe_says = support(status="past_due", email="late@reader.example",
                          status_at=datetime(2026, 3, 12, tzinfo=UTC))
    failure(datetime(2026, 2, 27, tzinfo=UTC), "EUR", 1250,
            recovered_at=datetime(2026, 3, 10, tzinfo=UTC))
    failure(datetime(2026, 2, 3, tzinfo=UTC), "GBP", 300,
            lost_at=datetime(2026, 3, 1, tzinfo=UTC))
    card = support(card_exp_month=3, card_exp_year=2026, interval="year", amount_minor=5000,
                   current_period_end=datetime(2026, 4, 2, tzinfo=UTC),
                   email="card@reader.example")
    email(f"card_expiring:{card.stripe_subscription_id}:2026-03", kind="card_expiring")
    db.session.commit()
    return {"chased": chased, "stripe_says": stripe_says, "card": card}


def test_the_page_shows_who_is_at_risk_and_what_was_won_back(staff_client, at_risk):
    client = staff_client("viewer")
    page = client.get("/dashboard/at-risk?start=2026-02&end=2026-03")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert 'aria-current="page">At risk</a>' in html
    # Past due: the reason and the emails in words, the next retry; Stripe's own word.
    for words in ("Not enough funds", "Payment failed: <span class=\"status status--sent\">Sent",
                  "status--given_up\">Given up", "2026-03-23 09:00 UTC", "2 tries",
                  "late@reader.example", "no failure recorded here", "insufficient_funds"):
        assert (words in html) is (words != "insufficient_funds"), words
    # Cards: the month in words, the card email, the next payment.
    assert "Expires end of March 2026" in html and "Card expiring: " in html
    assert "2026-04-02" in html
    # Figures: February's EUR renewal recovered (12.50), GBP lost, March's USD still open.
    assert "€12.50" in html and "2026-02" in html and "All 2 months" in html
    assert "Download the figures as CSV" in html


def test_bad_months_say_why_and_keep_the_lists(staff_client, at_risk):
    client = staff_client("viewer")
    for query, words in (("start=2026-13", "start must be a month like 2026-03"),
                         ("start=2026-04&end=2026-03", "the end month comes before"),
                         ("start=2020-01&end=2026-03", "at most 36 months")):
        page = client.get(f"/dashboard/at-risk?{query}")
        html = page.get_data(as_text=True)
        assert page.status_code == 400 and words in html, query
        assert "Not enough funds" in html and "Download the figures" not in html
        assert client.get(f"/dashboard/export/recovery.csv?{query}").status_code == 400


def test_an_empty_page_says_so(staff_client):
    html = staff_client("viewer").get("/dashboard/at-risk").get_data(as_text=True)
    assert "No recurring gift is past due." in html
    assert "No card of a recurring gift expires within 30 days." in html
    assert html.count("No renewal failed.") == 12


def test_long_lists_are_paged_each_on_its_own(staff_client, app):
    for n in range(55):
        failure(datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=n))
    db.session.commit()
    client = staff_client("viewer")
    first = client.get("/dashboard/at-risk").get_data(as_text=True)
    assert "55 in all · page 1 of 2" in first and "page=2" in first
    second = client.get("/dashboard/at-risk?page=2&cards_page=x").get_data(as_text=True)
    assert "55 in all · page 2 of 2" in second and "0 in all · page 1 of 1" in second


def _csv_rows(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_figures_as_csv(staff_client, at_risk):
    response = staff_client("viewer").get("/dashboard/export/recovery.csv?start=2026-01"
                                          "&end=2026-03")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="recovery-2026-01-2026-03.csv"' in response.headers["Content-Disposition"]
    assert _csv_rows(response) == [
        ["month", "currency", "failed", "recovered", "recovered_late", "lost", "open",
         "money_recovered"],
        ["2026-01", "", "0", "0", "0", "0", "0", ""],
        ["2026-02", "EUR", "1", "1", "0", "0", "0", "12.50"],
        ["2026-02", "GBP", "1", "0", "0", "1", "0", "0"],
        ["2026-03", "USD", "1", "0", "0", "0", "1", "0"],
    ]


def test_at_risk_lists_as_csv_with_formulas_defused(staff_client, at_risk):
    response = staff_client("viewer").get("/dashboard/export/at-risk.csv")
    assert response.status_code == 200
    assert 'filename="at-risk-2026-03-20.csv"' in response.headers["Content-Disposition"]
    header, *rows = _csv_rows(response)
    lines = [dict(zip(header, row, strict=True)) for row in rows]
    assert [(line["risk"], line["email"]) for line in lines] == [
        ("past_due", "'" + EVIL_EMAIL), ("past_due", "late@reader.example"),
        ("card_expiring", "card@reader.example")]
    chased = lines[0]
    assert (chased["stripe_invoice_id"], chased["invoice_amount"], chased["reason"],
            chased["attempts"], chased["next_retry_at"]) == (
        "in_chased", "7", "insufficient_funds", "2", "2026-03-23T09:00:00+00:00")
    assert chased["emails"] == "payment_failed:sent; payment_failed:given_up"
    assert (lines[2]["card_expiry"], lines[2]["card_expired"], lines[2]["amount"]) == (
        "2026-03", "no", "50")
    assert lines[1]["stripe_invoice_id"] == "" and lines[1]["status"] == "past_due"


@pytest.fixture
def token(make_staff):
    return create_token(make_staff("viewer"), "tests")


def test_recovery_json(client, token, at_risk):
    auth = {"Authorization": f"Bearer {token}"}
    response = client.get("/api/reports/recovery?start=2026-02&end=2026-03", headers=auth)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["months"] == {"start": "2026-02", "end": "2026-03",
                              "label": "2026-02 to 2026-03"}
    assert body["figures"][0] == {"month": "2026-02", "currencies": {
        "EUR": {"failed": 1, "recovered": 1, "recovered_late": 0, "lost": 0, "open": 0,
                "money_recovered": 1250},
        "GBP": {"failed": 1, "recovered": 0, "recovered_late": 0, "lost": 1, "open": 0,
                "money_recovered": 0}}}
    assert body["totals"]["USD"]["open"] == 1
    default = client.get("/api/reports/recovery", headers=auth).json
    assert default["months"]["label"] == "2025-04 to 2026-03"  # the app clock's last 12


def test_at_risk_json(client, token, at_risk):
    auth = {"Authorization": f"Bearer {token}"}
    body = client.get("/api/reports/at-risk", headers=auth).json
    assert body["page"] == 1 and body["past_due"]["total"] == 2
    chased = body["past_due"]["rows"][0]
    assert (chased["email"], chased["amount_minor"], chased["reason"], chased["attempts"],
            chased["next_retry_at"]) == (EVIL_EMAIL, 700, "insufficient_funds", 2,
                                         "2026-03-23T09:00:00+00:00")
    assert [e["status"] for e in chased["emails"]] == ["sent", "given_up"]
    assert "text_body" not in chased["emails"][0]
    (card,) = body["cards_expiring"]["rows"]
    assert (card["card_expiry"], card["card_expired"], card["frequency"]) == (
        "2026-03", False, "annual")
    assert client.get("/api/reports/at-risk?page=2", headers=auth).json["past_due"]["rows"] \
        == []


@pytest.mark.parametrize("url", ["/api/reports/recovery?start=2026-13",
                                 "/api/reports/recovery?start=2026-03&end=2026-01",
                                 "/api/reports/at-risk?page=0", "/api/reports/at-risk?page=x",
                                 "/api/reports/at-risk?page=9999999"])
def test_bad_input_to_the_api_is_400_json(client, token, url):
    response = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400 and response.json["error"]["status"] == 400
    assert response.json["error"]["message"]


@pytest.mark.parametrize("url", ["/api/reports/recovery", "/api/reports/at-risk"])
def test_the_api_wants_a_token(client, url):
    response = client.get(url, headers={"Authorization": "Bearer sat_wrong"})
    assert response.status_code == 401 and response.json["error"]["status"] == 401
