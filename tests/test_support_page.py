"""A permanent way to give: /support, the "Support us" links, and the one-off -> monthly offer."""
import json

import lxml.html
import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportapp.extensions import db
from supportapp.models import Appeal, AppealVariant, DailyFunnel
from supportapp.services.appeals import save_appeal
from supportapp.services.checkout_binding import CHECKOUT_COOKIE, add_session
from supportapp.services.giving import monthly_offer
from supportapp.services.supporter import SUPPORTER_COOKIE, make_supporter_token
from supportapp.services.tracking import roll_up
from tests import stripe_fakes as sf

READER = "r" * 22
CHOICE = {"frequency": "one_off", "currency": "USD", "amount": "25", "email": "",
          "nonce": "n" * 24}


@pytest.fixture
def drive(app, make_story):
    """A live appeal with one variant, and a story."""
    appeal = Appeal(name="Drive", status="live", placement_paragraph=2, target_sections=[],
                    excluded_sections=[])
    appeal.variants.append(AppealVariant(
        name="control", heading="Since you're here…", body="<p>Help us report.</p>",
        cta_label="Give", preset_amounts={}, default_frequency="annual", weight=1,
        is_control=True))
    save_appeal(appeal)
    story = make_story(slug="harbour-dredging")
    return {"appeal": appeal.id, "variant": appeal.variants[0].id, "story": story.slug,
            "story_id": story.id}


def _page(response):
    return lxml.html.fromstring(response.data)


def _funnel():
    roll_up()
    return {(row.story_id, row.variant_id): (row.offers_shown, row.offers_accepted)
            for row in db.session.scalars(db.select(DailyFunnel))}


def test_support_page_shows_the_appeal_the_form_and_the_uses(client, drive, app):
    """/support has the live appeal's wording, the full form attributed to its variant, and
    what the money pays for; it sets no reader cookies."""
    response = client.get("/support")
    page = _page(response)
    assert page.xpath("string(//h1)") == "Since you're here…"
    assert "Help us report." in page.xpath("string(//div[@class='contribute__pitch'])")
    assert page.xpath("string(//input[@name='variant']/@value)") == str(drive["variant"])
    assert page.xpath("string(//input[@name='frequency'][@checked]/@value)") == "annual"
    uses = page.xpath("//ul[@class='contribute__uses']/li/text()")
    assert uses == list(app.config["FUNDING_USES"]) and len(uses) == 3
    assert page.xpath("//form[@action='/contribute']//input[@name='email']")
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("cookie", [("sa_later", "1"), ("sa_views", None)])
def test_support_page_shows_to_readers_the_appeal_leaves_alone(client, drive, cookie):
    """After "Maybe later" or the frequency cap, the appeal is gone from stories but
    /support still shows its wording and the form."""
    name, value = cookie
    if value is None:  # seen 4 times today: the cap
        from datetime import UTC, datetime

        from supportapp.services.reader_cookies import day_number
        today = day_number(datetime.now(UTC).date())
        value = "-".join([str(today)] * 4)
    client.set_cookie(name, value)
    assert b'class="appeal"' not in client.get(f"/stories/{drive['story']}").data
    page = _page(client.get("/support"))
    assert page.xpath("string(//h1)") == "Since you're here…"


def test_support_page_thanks_a_supporter(app, client, drive):
    """A reader who already gives is thanked, and can still give again."""
    client.set_cookie(SUPPORTER_COOKIE, make_supporter_token(app.config["SECRET_KEY"],
                                                             "one_off"))
    page = _page(client.get("/support"))
    assert "You already support us — thank you." in page.xpath(
        "string(//p[@class='contribute__supporter'])")
    assert page.xpath("//h2/text()")[-1] == "Give again"
    assert page.xpath("//form[@action='/contribute']")


def test_support_page_without_an_appeal(client):
    """No live appeal: a plain pitch and the form."""
    page = _page(client.get("/support"))
    assert page.xpath("string(//h1)") == "Support The Harbour Ledger"
    assert page.xpath("//form[@action='/contribute']")


@pytest.mark.parametrize("path", ["/", "/sections/local-government", "/stories/harbour-dredging",
                                  "/contribute", "/support", "/no-such-page"])
def test_every_reader_page_links_to_support(client, drive, path):
    """"Support us" is in the masthead and the footer of every reader page, 404s included."""
    page = _page(client.get(path))
    links = page.xpath("//a[@href='/support']")
    assert [link.text_content().strip() for link in links] == ["Support us", "Support us"]
    assert page.xpath("//header//a[@href='/support']") and page.xpath(
        "//footer//a[@href='/support']")


@given(st.integers(100, 10**7), st.integers(1, 100))
def test_monthly_offer_is_the_gift_divided_rounded_half_up(one_off, divisor):
    """Whole units, at least 1.00, half up: 25 -> 5 with 5; 12.50 -> 3 with 5."""
    offer = monthly_offer(one_off, divisor)
    assert offer % 100 == 0 and offer >= 100
    exact = one_off / (divisor * 100)
    assert offer == max(100, int(exact + 0.5) * 100) or abs(exact % 1 - 0.5) < 1e-9
    assert monthly_offer(one_off, 0) is None


def test_offer_shown_for_a_one_off_and_taken(client, drive):
    """Choosing 25 once offers 5 a month; taking it turns the form monthly at 5, keeps the
    email, and both count for the story and variant."""
    client.set_cookie("sa_rid", READER)
    attribution = {"story": drive["story"], "appeal": drive["appeal"],
                   "variant": drive["variant"]}
    page = _page(client.get("/contribute", query_string={**CHOICE, **attribution}))
    offer = page.xpath("//div[@data-offer]")[0]
    assert offer.get("hidden") is None
    assert offer.xpath("string(.//strong)") == "$5"
    response = client.post("/contribute", data={**CHOICE, **attribution, "offer": "accept",
                                                 "email": "kept@example.com"})
    page = _page(response)
    assert response.status_code == 200 and not page.xpath("//*[@class='contribute__errors']")
    assert page.xpath("string(//input[@name='frequency'][@checked]/@value)") == "monthly"
    assert page.xpath("string(//input[@name='amount_monthly'][@checked]/@value)") == "5"
    assert page.xpath("string(//input[@name='email']/@value)") == "kept@example.com"
    assert _funnel() == {(drive["story_id"], drive["variant"]): (1, 1)}


@pytest.mark.parametrize("query", [{"frequency": "monthly"}, {"amount": ""}])
def test_no_offer_when_not_giving_once(client, drive, query):
    """Monthly already, or no amount yet: no offer is shown or counted."""
    page = _page(client.get("/contribute", query_string={**CHOICE, **query,
                                                          "variant": drive["variant"],
                                                          "appeal": drive["appeal"]}))
    assert page.xpath("//div[@data-offer]")[0].get("hidden") is not None
    assert _funnel() == {}


def test_offers_off(database_url, fake_stripe):
    """SUPPORTAPP_MONTHLY_OFFER_DIVISOR=0: no offer at all."""
    from tests.conftest import make_app

    app = make_app(database_url, MONTHLY_OFFER_DIVISOR=0)
    page = _page(app.test_client().get("/contribute", query_string=CHOICE))
    assert not page.xpath("//div[@data-offer]")


def test_thank_you_offers_monthly_in_one_click(app, client, fake_stripe, drive):
    """A one-off donor's thank-you page offers a monthly gift as one button; pressing it goes
    straight to a monthly Checkout Session with the same attribution, and counts."""
    client.set_cookie("sa_rid", READER)
    metadata = {"frequency": "one_off", "amount_chosen": "2500", "story": drive["story"],
                "appeal": str(drive["appeal"]), "variant": str(drive["variant"])}
    session = fake_stripe.add_session(sf.checkout_session(amount=2500, metadata=metadata))
    client.set_cookie(CHECKOUT_COOKIE, add_session(app.config["SECRET_KEY"], None,
                                                   session["id"]), path="/contribute")
    page = _page(client.get(f"/contribute/thanks?session_id={session['id']}"))
    form = page.xpath("//form[@action='/contribute/start']")[0]
    assert form.xpath("string(.//button)") == "Give $5 a month"
    fields = {i.get("name"): i.get("value") for i in form.xpath(".//input")}
    response = client.post("/contribute/start", data=fields,
                           headers={"Origin": "http://localhost"})
    assert response.status_code == 303
    params, _ = fake_stripe.created[0]
    assert params["mode"] == "subscription"
    assert params["line_items"][0]["price_data"]["unit_amount"] == 500
    assert params["metadata"]["variant"] == str(drive["variant"])
    assert _funnel() == {(drive["story_id"], drive["variant"]): (1, 1)}


def test_offer_beacon_from_a_page_without_a_story(client, drive):
    """The form's script counts an offer it reveals, on /support too (no story: story 0)."""
    body = json.dumps({"pv": "pageview01", "events": [
        {"type": "offer", "story": "", "appeal": drive["appeal"], "variant": drive["variant"]}]})
    response = client.post("/api/events", data=body, content_type="text/plain",
                           headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156"})
    assert response.status_code == 204
    assert _funnel() == {(0, drive["variant"]): (1, 0)}
    view = json.dumps({"pv": "pageview02", "events": [  # only an offer may name no story
        {"type": "view", "story": "", "appeal": drive["appeal"], "variant": drive["variant"]}]})
    assert client.post("/api/events", data=view, content_type="text/plain",
                       headers={"User-Agent": "Mozilla/5.0 Chrome/156"}).status_code == 400


def test_offers_in_the_variant_report_and_its_csv(client, drive, staff_client):
    """Staff see, per variant, how many readers were offered a monthly gift and took it."""
    client.set_cookie("sa_rid", READER)
    attribution = {"story": drive["story"], "appeal": drive["appeal"],
                   "variant": drive["variant"]}
    client.post("/contribute", data={**CHOICE, **attribution, "offer": "accept"})
    roll_up()  # the worker's job (or the app's thread) in production; reports only read
    viewer = staff_client("viewer")
    page = _page(viewer.get(f"/dashboard/appeals/{drive['appeal']}?period=today"))
    headers = [h.text_content() for h in page.xpath("//table[@class='numbers']//thead//th")]
    cells = page.xpath("//table[@class='numbers']//tbody/tr[1]/*")
    values = dict(zip(headers, [c.text_content().strip() for c in cells], strict=True))
    assert (values["Monthly offers shown"], values["Monthly offers taken"]) == ("1", "1")
    csv = viewer.get(f"/dashboard/export/variants.csv?appeal={drive['appeal']}&period=today")
    header, line = csv.data.decode().splitlines()[:2]
    assert header.endswith("monthly_offers_shown,monthly_offers_accepted")
    assert line.endswith(",1,1")
