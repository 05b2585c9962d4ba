"""What the appeal says on a story page: the line for no supporters, the goal ticker's
threshold, its currency, and gifts in other currencies counted toward it."""
from datetime import UTC, datetime
from decimal import Decimal

import lxml.html
import pytest

from supportapp.extensions import db
from supportapp.models import Appeal, AppealVariant, Contribution
from supportapp.services.appeals import save_appeal

RATES = {"USD": Decimal(1), "EUR": Decimal("1.08"), "GBP": Decimal("1.27"),
         "CAD": Decimal("0.72")}


@pytest.fixture
def appeal(app):
    """A live appeal, one variant with a line for no supporters; goal fields as given."""
    app.config["GOAL_RATES"] = RATES

    def _make(line="Be the first reader to chip in: {article_count} so far.", **goal):
        made = Appeal(name="Drive", status="live", placement_paragraph=2, target_sections=[],
                      excluded_sections=[], goal_label="Our goal", **goal)
        made.variants.append(AppealVariant(
            name="only", heading="Since you're here", cta_label="Give", preset_amounts={},
            body="<p>We count {supporter_count} already.</p>", no_supporters_line=line,
            default_frequency="monthly", weight=1, is_control=True))
        save_appeal(made)
        return made

    return _make


def _give(appeal, amount, currency="USD"):
    db.session.add(Contribution(
        amount_minor=amount, currency=currency, appeal_id=appeal.id, status="paid",
        paid_at=datetime.now(UTC), stripe_payment_intent_id=f"pi_{amount}_{currency}"))
    db.session.commit()


def _section(client, story, **headers):
    page = client.get(f"/stories/{story.slug}", headers=headers)
    (section,) = lxml.html.fromstring(page.data).xpath("//section[@class='appeal']")
    return section


def _body(section):
    return section.xpath("normalize-space(.//div[@class='appeal__body'])")


def test_line_for_no_supporters_until_the_first_gift(client, make_story, appeal):
    """With no one given, the line replaces the body; after one gift the body shows, with
    "1 supporter"; a variant without a line always shows its body."""
    drive = appeal()
    story = make_story()
    section = _section(client, story)
    assert _body(section) == "Be the first reader to chip in: 1 story so far."
    assert section.xpath(".//div[@class='appeal__body']/p")  # still a paragraph
    _give(drive, 500)
    assert _body(_section(client, story)) == "We count 1 supporter already."
    _give(drive, 700, "EUR")
    assert _body(_section(client, story)) == "We count 2 supporters already."


def test_body_when_the_variant_has_no_line(client, make_story, appeal):
    """No line given: the body reads right at nought too."""
    appeal(line="")
    assert _body(_section(client, make_story())) == "We count no supporters already."


def test_ticker_hidden_until_the_threshold(client, make_story, appeal):
    """The ticker appears once the threshold (US$10) is raised, euro gifts counted at their
    rate: USD 5.00 and EUR 4.62 (US$4.98) stay below it; two more euro cents take the euro
    total to US$5.01 and the ticker shows."""
    drive = appeal(goal_amount_minor=2_500_000, goal_currency="USD",
                   ticker_threshold_minor=1000)
    story = make_story()
    _give(drive, 500)
    _give(drive, 462, "EUR")  # 4.9896 USD, rounded down: 9.98 in all
    assert _section(client, story).xpath(".//div[@class='appeal__ticker']") == []
    _give(drive, 2, "EUR")  # the euro total, 4.64, is 5.0112 USD: 10.01 in all
    ticker = _section(client, story).xpath(".//div[@class='appeal__ticker']")
    assert [t.xpath("normalize-space(p[@class='appeal__raised'])") for t in ticker] == [
        "US$10.01 raised of US$25,000"]


def test_threshold_zero_always_shows(client, make_story, appeal):
    """A threshold of 0 shows the ticker before the first gift."""
    appeal(goal_amount_minor=2_500_000, goal_currency="USD")
    ticker = _section(client, make_story()).xpath(".//p[@class='appeal__raised']")
    assert [t.text_content() for t in ticker] == ["US$0 raised of US$25,000"]


@pytest.mark.parametrize("goal_currency, raised", [
    ("USD", "US$116 raised of US$25,000"),
    ("CAD", "CA$161.11 raised of CA$25,000"),  # 116 USD / 0.72
    ("EUR", "€107.40 raised of €25,000"),  # 116 USD / 1.08
])
def test_ticker_names_the_goals_currency_for_every_reader(client, make_story, appeal,
                                                          goal_currency, raised):
    """Pound, euro and dollar readers all see the goal in its own currency, with a symbol that
    says which (US$, CA$, €)."""
    drive = appeal(goal_amount_minor=2_500_000, goal_currency=goal_currency)
    _give(drive, 11600)
    story = make_story()
    for language in ("en-GB", "de-DE", "en-US", "en-CA"):
        section = _section(client, story, **{"Accept-Language": language})
        assert section.xpath("normalize-space(.//p[@class='appeal__raised'])") == raised


def test_goal_placeholders_unambiguous_and_filled_below_the_threshold(client, make_story,
                                                                      appeal):
    """{goal_raised} and {goal_target} use the same symbols, and are filled even while the
    ticker waits for its threshold (the copy that uses them is the editor's choice)."""
    appeal(line="{goal_raised} of {goal_target} ({goal_progress})",
           goal_amount_minor=2_500_000, goal_currency="USD", ticker_threshold_minor=100)
    section = _section(client, make_story())
    assert _body(section) == "US$0 of US$25,000 (0%)"
    assert section.xpath(".//div[@class='appeal__ticker']") == []
