"""The appeal inside story pages: who sees it, where, and in which currency."""
from datetime import UTC, datetime, timedelta

import lxml.html
import pytest

from supportapp.models import Appeal, AppealVariant
from supportapp.services.appeals import save_appeal
from supportapp.services.reader_cookies import day_number
from supportapp.services.supporter import SUPPORTER_COOKIE, make_supporter_token


@pytest.fixture
def live_appeal(app):
    """A live appeal with two variants, inserted after paragraph 2."""

    def _make(weights=(1, 1), **fields):
        values = {"name": "Drive", "status": "live", "placement_paragraph": 2,
                  "target_sections": [], "excluded_sections": []}
        values.update(fields)
        appeal = Appeal(**values)
        copy = (("control", "Since you're here…"), ("count", "You read {article_count}"))
        for (name, heading), weight in zip(copy, weights, strict=True):
            appeal.variants.append(AppealVariant(
                name=name, heading=heading, body="<p>Please support us.</p>", cta_label="Give",
                preset_amounts={}, default_frequency="monthly", weight=weight,
                is_control=name == "control"))
        save_appeal(appeal)
        return appeal

    return _make


def _appeals(response):
    return lxml.html.fromstring(response.data).xpath("//section[@class='appeal']")


def test_appeal_after_paragraph_n(client, make_story, live_appeal):
    """The appeal sits once, after the second top-level paragraph."""
    live_appeal()
    story = make_story()
    page = client.get(f"/stories/{story.slug}")
    (appeal,) = _appeals(page)
    previous = appeal.getprevious()
    assert previous.tag == "p" and previous.text.startswith("Paragraph 2 of story")
    assert appeal.xpath(".//form[@method='post'][@action='/contribute/start']")
    assert appeal.xpath(".//input[@name='story']/@value") == [story.slug]
    assert not appeal.xpath(".//input[@name='csrf_token']")  # no session: see test_quick_give


def test_same_reader_same_variant(client, make_story, live_appeal):
    """A returning reader (same reader cookie) keeps seeing the same variant."""
    live_appeal()
    story = make_story()
    seen = {_appeals(client.get(f"/stories/{story.slug}"))[0].get("data-variant")
            for _ in range(3)}
    assert len(seen) == 1


def test_supporter_cookie_suppresses(app, client, make_story, live_appeal):
    """A valid signed supporter cookie hides the appeal; a forged one does not."""
    live_appeal()
    story = make_story()
    token = make_supporter_token(app.config["SECRET_KEY"], "one_off")
    client.set_cookie(SUPPORTER_COOKIE, token)
    assert _appeals(client.get(f"/stories/{story.slug}")) == []
    client.set_cookie(SUPPORTER_COOKIE, token[:-3] + "xyz")
    assert len(_appeals(client.get(f"/stories/{story.slug}"))) == 1


def test_one_off_supporter_sees_appeal_again_after_90_days(app):
    """The one-off quiet period ends after 90 days."""
    from supportapp.services.supporter import is_quiet_supporter, read_supporter_token

    token = make_supporter_token(app.config["SECRET_KEY"], "one_off")
    later = datetime.now(UTC) + timedelta(days=91)
    assert read_supporter_token(app.config["SECRET_KEY"], token) is not None
    assert not is_quiet_supporter(read_supporter_token(app.config["SECRET_KEY"], token,
                                                       now=later.timestamp()))


def test_recurring_supporter_quiet_while_subscription_lasts(app):
    """A recurring supporter is quiet while the subscription is active, not after."""
    from supportapp.services.supporter import is_quiet_supporter, read_supporter_token

    token = make_supporter_token(app.config["SECRET_KEY"], "monthly", "sub_123")
    claim = read_supporter_token(app.config["SECRET_KEY"], token)
    assert is_quiet_supporter(claim, lambda sub: sub == "sub_123")
    assert not is_quiet_supporter(claim, lambda sub: False)


def test_dismissal_hides_appeal(client, make_story, live_appeal):
    """The "Maybe later" cookie hides the appeal."""
    live_appeal()
    story = make_story()
    client.set_cookie("sa_later", "1")
    assert _appeals(client.get(f"/stories/{story.slug}")) == []


def test_frequency_cap(app, client, make_story, live_appeal):
    """After the configured number of views in 30 days the appeal rests."""
    live_appeal()
    story = make_story()
    cap = app.config["APPEAL_MAX_VIEWS"]
    shown = [bool(_appeals(client.get(f"/stories/{story.slug}"))) for _ in range(cap + 2)]
    assert shown == [True] * cap + [False, False]
    old_day = day_number(datetime.now(UTC).date()) - 40
    client.set_cookie("sa_views", "-".join([str(old_day)] * 10))
    assert _appeals(client.get(f"/stories/{story.slug}"))  # old views no longer count


def test_story_flag_switches_appeal_off(client, make_story, live_appeal):
    """A story flagged as sensitive never shows the appeal."""
    live_appeal()
    story = make_story(appeal_disabled=True)
    assert _appeals(client.get(f"/stories/{story.slug}")) == []


def test_section_targeting_and_exclusion(client, make_story, live_appeal):
    """An appeal runs only in its target sections and never in excluded ones."""
    live_appeal(target_sections=["housing", "environment"], excluded_sections=["environment"])
    housing, env, other = (make_story(section=s) for s in ("housing", "environment", "culture"))
    assert _appeals(client.get(f"/stories/{housing.slug}"))
    assert not _appeals(client.get(f"/stories/{env.slug}"))
    assert not _appeals(client.get(f"/stories/{other.slug}"))


def test_draft_ended_and_future_appeals_hidden(client, make_story, live_appeal):
    """Only live appeals inside their dates are shown."""
    now = datetime.now(UTC)
    live_appeal(status="draft")
    live_appeal(status="ended")
    live_appeal(starts_at=now + timedelta(days=1))
    live_appeal(ends_at=now - timedelta(days=1), starts_at=now - timedelta(days=9))
    assert _appeals(client.get(f"/stories/{make_story().slug}")) == []


def test_article_count_placeholder_from_cookie(client, make_story, live_appeal):
    """{article_count} counts distinct stories this reader opened in 30 days, with its noun."""
    live_appeal(weights=(0, 1))
    stories = [make_story() for _ in range(3)]
    for story in stories:
        client.get(f"/stories/{story.slug}")
    client.set_cookie("sa_views", "")
    page = client.get(f"/stories/{stories[0].slug}")
    headings = [h.text for h in lxml.html.fromstring(page.data).xpath(
        "//section[@class='appeal']/h2")]
    assert headings == ["You read 3 stories"]


@pytest.mark.filterwarnings("ignore:The 'sa_.*' cookie is too large")  # meant to be
@pytest.mark.parametrize("cookie, value", [
    ("sa_views", "²"), ("sa_views", "1-²-" + "9" * 5000), ("sa_reads", "².²"),
    ("sa_reads", "1." + "9" * 5000),
])
def test_counting_cookies_with_odd_digits_are_ignored(client, make_story, live_appeal, cookie,
                                                      value):
    """Numbers a reader's cookie cannot hold ("²" is a digit to isdigit(), not to int()): the
    story and its appeal still show, the odd entries dropped."""
    live_appeal()
    story = make_story()
    client.set_cookie(cookie, value)
    response = client.get(f"/stories/{story.slug}")
    assert response.status_code == 200 and len(_appeals(response)) == 1


@pytest.mark.parametrize("language, currency", [("en-GB,en;q=0.8", "GBP"), ("de-DE", "EUR"),
                                                ("en-AU", "AUD"), ("fr-CA", "CAD"), ("ja", "USD")])
def test_currency_from_accept_language(client, make_story, live_appeal, language, currency):
    """The currency selector starts at the reader's currency."""
    live_appeal()
    page = client.get(f"/stories/{make_story().slug}", headers={"Accept-Language": language})
    selected = lxml.html.fromstring(page.data).xpath(
        "//section[@class='appeal']//select[@name='currency']/option[@selected]/@value")
    assert selected == [currency]


def test_gpc_reader_gets_no_reader_id(client, make_story, live_appeal):
    """With Sec-GPC: 1 no reader id cookie is set, and the appeal still shows."""
    live_appeal()
    page = client.get(f"/stories/{make_story().slug}", headers={"Sec-GPC": "1"})
    assert _appeals(page)
    assert not any(c.startswith("sa_rid=") for c in page.headers.getlist("Set-Cookie"))
    page = client.get(f"/stories/{make_story().slug}", headers={"DNT": "1"})
    assert not any(c.startswith("sa_rid=") for c in page.headers.getlist("Set-Cookie"))


def test_reader_cookie_holds_only_random_id(client, make_story):
    """The reader id cookie is a random value, HttpOnly and SameSite."""
    page = client.get(f"/stories/{make_story().slug}")
    (cookie,) = [c for c in page.headers.getlist("Set-Cookie") if c.startswith("sa_rid=")]
    value = cookie.split(";")[0].split("=", 1)[1]
    assert 16 <= len(value) <= 64 and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("status, hidden", [("active", True), ("past_due", True),
                                            ("canceled", False)])
def test_recurring_supporter_cookie_follows_subscription(app, client, make_story, live_appeal,
                                                         status, hidden):
    """A recurring supporter sees no appeal while the gift lasts, and sees it once it ended."""
    from supportapp.extensions import db
    from supportapp.models import RecurringSupport

    live_appeal()
    db.session.add(RecurringSupport(stripe_subscription_id="sub_cookie", amount_minor=500,
                                    currency="USD", interval="month", status=status))
    db.session.commit()
    client.set_cookie(SUPPORTER_COOKIE,
                      make_supporter_token(app.config["SECRET_KEY"], "monthly", "sub_cookie"))
    shown = bool(_appeals(client.get(f"/stories/{make_story().slug}")))
    assert shown is not hidden


def test_story_page_sets_no_session(client, make_story, live_appeal):
    """Anonymous readers get no session cookie from a story page, appeal or not."""
    live_appeal()
    page = client.get(f"/stories/{make_story().slug}")
    assert _appeals(page)
    assert not any(c.startswith("session=") for c in page.headers.getlist("Set-Cookie"))


def test_appeal_post_cannot_start_a_payment_on_its_own(database_url, make_story, fake_stripe):
    """With CSRF on, the appeal's POST (even with an email forged in) only shows the form."""
    from tests.conftest import make_app

    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    form = {"frequency": "monthly", "amount": "5", "currency": "USD", "story": "x",
            "email": "victim@example.com", "nonce": "n" * 24}
    response = client.post("/contribute", data=form)
    assert response.status_code == 200
    assert b'name="csrf_token"' in response.data and b'value="victim@example.com"' in response.data
    assert fake_stripe.created == []


def test_bandit_appeal_on_the_story_page(app, make_story, live_appeal):
    """Under a bandit whose shares for today put every reader on "count" (the other at a 0%
    floor), the story page shows that variant to each of ten new readers (fixed weights of
    1:1 would show it to all ten one time in 1,024), and again on their next visit."""
    from supportapp.extensions import db
    from supportapp.models import BanditAllocation
    from supportapp.services.appeals import clear_appeal_cache
    from supportapp.services.clock import current_time

    appeal = live_appeal(allocation="bandit")
    control, count = appeal.variants
    shares = {str(control.id): 0, str(count.id): 10_000}
    db.session.add(BanditAllocation(appeal_id=appeal.id, shares=shares, day_shares=shares,
                                    day=current_time().date(), computed_at=current_time(),
                                    impressions=0))
    db.session.commit()
    clear_appeal_cache()
    story = make_story()
    seen = set()
    for _reader in range(10):
        reader = app.test_client()
        seen |= {_appeals(reader.get(f"/stories/{story.slug}"))[0].get("data-variant")
                 for _visit in range(2)}
    assert seen == {str(count.id)}
