"""The appeal editor's copy tools: the line for no supporters, the ticker threshold, the
placeholders' help, and the goal's rates wherever staff see the goal."""
from datetime import UTC, datetime
from decimal import Decimal

import lxml.html
import pytest

from supportapp.extensions import db
from supportapp.models import Appeal, Contribution
from tests.dashboard.test_appeals import appeal_form

RATES = {"USD": Decimal(1), "EUR": Decimal("1.08"), "GBP": Decimal("1.27")}
LINE = "Be the first reader to chip in."


def _appeals():
    db.session.expire_all()
    return db.session.scalars(db.select(Appeal)).all()


def _text(response):
    return " ".join(lxml.html.fromstring(response.data.decode()).text_content().split())


def test_threshold_and_line_saved_and_shown_again(staff_client):
    """The threshold is read as an amount in minor units, the line as one line of text; the
    edit page shows both again."""
    client = staff_client("editor")
    form = appeal_form(variants=({"no_supporters_line": "  Be the first reader\r\n to chip in. "},),
                       goal_amount="25000", ticker_threshold="1,000.50")
    response = client.post("/dashboard/appeals/new", data=form)
    assert response.status_code == 302
    (appeal,) = _appeals()
    assert appeal.ticker_threshold_minor == 100050
    assert appeal.variants[0].no_supporters_line == LINE
    page = lxml.html.fromstring(client.get(response.headers["Location"]).data)
    assert page.xpath("//input[@name='ticker_threshold']/@value") == ["1000.50"]
    (line,) = page.xpath("//textarea[@name='variants-0-no_supporters_line']")
    assert line.text_content().lstrip("\n") == LINE  # a browser drops a textarea's first newline


@pytest.mark.parametrize("fields, message", [
    ({"goal_amount": "100", "ticker_threshold": "100.01"},
     "the ticker threshold must be from 0 up to the funding goal"),
    ({"goal_amount": "", "ticker_threshold": "5"}, "a ticker threshold needs a funding goal"),
    ({"goal_amount": "100", "ticker_threshold": "lots"}, "Enter the amount as a number"),
    ({"goal_amount": "100", "ticker_threshold": "99999999999999"},
     "the ticker threshold must be from 0 up to the funding goal"),
    ({"variants": ({"no_supporters_line": "x" * 301},)}, "cannot be longer than 300 characters"),
])
def test_refused_threshold_or_line_saves_nothing(staff_client, fields, message):
    """A threshold above the goal or without one, an unreadable one, or an overlong line:
    the page says why and nothing is saved."""
    response = staff_client("editor").post("/dashboard/appeals/new",
                                           data=appeal_form(**fields))
    assert response.status_code == 200 and message in _text(response)
    assert _appeals() == []


@pytest.mark.parametrize("fields, message", [
    ({"goal_amount": "99999999999999"}, "a funding goal can be at most 10,000,000"),
    ({"goal_amount": "100", "ticker_threshold": "99999999999999"},
     "the ticker threshold must be from 0 up to the funding goal"),
])
def test_editing_past_the_columns_range_is_refused_not_a_500(staff_client, fields, message):
    """Found by the route fuzzing: an edit that replaces the variants loaded the old ones,
    which flushed the appeal before it was checked, and PostgreSQL refused a number past its
    INTEGER column (500)."""
    client = staff_client("editor")
    assert client.post("/dashboard/appeals/new", data=appeal_form()).status_code == 302
    (appeal,) = _appeals()
    form = appeal_form(**fields)  # a variant with no id: the saved one is replaced
    response = client.post(f"/dashboard/appeals/{appeal.id}/edit", data=form)
    assert response.status_code == 200 and message in _text(response)
    assert _appeals()[0].goal_amount_minor == appeal.goal_amount_minor


def test_unknown_placeholder_in_the_line_is_reported(staff_client):
    """The line for no supporters is checked for unknown placeholders like the rest."""
    response = staff_client("editor").post(
        "/dashboard/appeals/new", follow_redirects=True,
        data=appeal_form(variants=({"no_supporters_line": "Be first, {name}"},)))
    assert "unknown placeholder {name}" in _text(response)


def test_editor_says_what_each_placeholder_renders_to(staff_client):
    """The edit page lists every placeholder with what it shows, counts with their nouns."""
    page = lxml.html.fromstring(staff_client("editor").get("/dashboard/appeals/new").data)
    help_rows = {dt.text_content(): dd.text_content() for dt, dd in zip(
        page.xpath("//div[contains(@class, 'placeholders')]//dt"),
        page.xpath("//div[contains(@class, 'placeholders')]//dd"), strict=True)}
    assert set(help_rows) == {"{article_count}", "{supporter_count}", "{goal_progress}",
                              "{goal_raised}", "{goal_target}"}
    assert "“1 story”, “12 stories”" in help_rows["{article_count}"]
    assert "“no supporters”, “1 supporter”" in help_rows["{supporter_count}"]


def _preview_text(client, **fields):
    extra = {k: fields.pop(k) for k in list(fields) if k.startswith("preview_")}
    response = client.post("/dashboard/appeals/preview", data={**appeal_form(**fields),
                                                               **extra})
    assert response.status_code == 200
    return lxml.html.fromstring(response.data.decode())


def test_preview_shows_the_line_or_the_body(staff_client):
    """With no supporters the preview shows the line; "Supporters" set to 3 shows the body
    as a reader would see it then."""
    client = staff_client("editor")
    variant = {"body": "<p>{supporter_count} give already.</p>", "no_supporters_line": LINE}
    none_yet = _preview_text(client, variants=(variant,))
    assert none_yet.xpath("normalize-space(//div[@class='appeal__body'])") == LINE
    some = _preview_text(client, variants=(variant,), preview_supporters="3")
    assert some.xpath("normalize-space(//div[@class='appeal__body'])") == \
        "3 supporters give already."


def test_preview_says_whether_readers_see_the_ticker(app, staff_client):
    """Below the threshold the preview has no ticker and says so, with the rates; at 0 the
    ticker shows."""
    app.config["GOAL_RATES"] = RATES
    client = staff_client("editor")
    waiting = _preview_text(client, goal_amount="25000", ticker_threshold="1000")
    assert waiting.xpath("//div[@class='appeal__ticker']") == []
    note = " ".join(waiting.xpath("string(//div[@class='goal-status'])").split())
    assert "Goal US$25,000; US$0 raised." in note
    assert "Readers see the ticker once US$1,000 is raised (hidden for now)." in note
    assert "1 EUR = 1.08 USD, 1 GBP = 1.27 USD (set by SUPPORTAPP_GOAL_RATES)" in note
    assert "Gifts in CAD, AUD do not count" in note
    shown = _preview_text(client, goal_amount="25000", goal_currency="EUR")
    assert shown.xpath("normalize-space(//p[@class='appeal__raised'])") == "€0 raised of €25,000"
    assert "1 USD = 0.9259 EUR, 1 GBP = 1.176 EUR" in shown.text_content()


@pytest.fixture
def goal_appeal(saved_appeal):
    """The saved appeal with a US$25,000 goal, a US$100 threshold and a euro gift."""
    saved_appeal.goal_amount_minor, saved_appeal.goal_currency = 2_500_000, "USD"
    saved_appeal.ticker_threshold_minor = 10_000
    db.session.add(Contribution(amount_minor=10_000, currency="EUR", appeal_id=saved_appeal.id,
                                status="paid", paid_at=datetime.now(UTC),
                                stripe_payment_intent_id="pi_eur"))
    db.session.commit()
    return saved_appeal


@pytest.mark.parametrize("rates, expected", [
    (RATES, ["US$108 raised", "Readers see the ticker once US$100 is raised (shown now)",
             "Gifts in other currencies count toward the goal at 1 EUR = 1.08 USD, "
             "1 GBP = 1.27 USD (set by SUPPORTAPP_GOAL_RATES)",
             "Gifts in CAD, AUD do not count: SUPPORTAPP_GOAL_RATES gives no rate for them."]),
    ({}, ["US$0 raised", "(hidden for now)",
          "Only gifts in USD count toward the goal: SUPPORTAPP_GOAL_RATES gives no rate"]),
])
def test_report_page_states_the_rates(app, staff_client, goal_appeal, rates, expected):
    """The appeal's report page shows the goal as readers' ticker counts it, and the rates
    that count other currencies (or that none do)."""
    app.config["GOAL_RATES"] = rates
    text = _text(staff_client("viewer").get(f"/dashboard/appeals/{goal_appeal.id}"))
    assert "Goal US$25,000" in text
    for phrase in expected:
        assert phrase in text


def test_report_page_without_a_goal_says_nothing_of_rates(staff_client, saved_appeal):
    """No goal, no goal note."""
    text = _text(staff_client("viewer").get(f"/dashboard/appeals/{saved_appeal.id}"))
    assert "SUPPORTAPP_GOAL_RATES" not in text and "Goal " not in text


def test_edit_page_states_the_rates(app, staff_client, goal_appeal):
    """The editor shows the same note for the saved goal when it opens."""
    app.config["GOAL_RATES"] = RATES
    text = _text(staff_client("editor").get(f"/dashboard/appeals/{goal_appeal.id}/edit"))
    assert "1 EUR = 1.08 USD, 1 GBP = 1.27 USD (set by SUPPORTAPP_GOAL_RATES)" in text
