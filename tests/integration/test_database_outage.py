"""The database stops: every route that needs it answers 503 with Retry-After (beacons it can
still journal, 204), the log gets one line per kind of failure, and nothing answered 2xx is
lost. The outage is real: PostgreSQL is reached through a TCP proxy that the test cuts."""
import logging
import re
from urllib.parse import urlsplit, urlunsplit

import pytest

from supportapp.extensions import db
from supportapp.models import (
    Appeal,
    AppealVariant,
    Contribution,
    OutboxMessage,
    RecurringSupport,
    StripeEvent,
)
from supportapp.services.appeals import save_appeal
from supportapp.services.staff import create_token
from tests import stripe_fakes as sf
from tests.conftest import make_app
from tests.tcp_proxy import CuttableProxy

# Routes that answer without the database, and so answer the same during an outage. The
# thank-you page asks Stripe and thanks the reader who has paid; the webhook records the gift.
# Dashboard pages send anonymous visitors to the sign-in form. A signed-in staff member's
# pages all need the database (to know who they are), but for the files. The manage pages
# know a browser without their cookie, or a link that is not one, by its signature alone.
MANAGE_WITHOUT_SESSION = {"support_manage.request_link", "support_manage.open_link",
                          "support_manage.home", "support_manage.cancel",
                          "support_manage.card_updated", "support_manage.erase",
                          # A failed-payment email's card link (here: not one).
                          "support_manage.card_link", "support_manage.card_link_done",
                          "support_manage.statement"}
WITHOUT_DATABASE = {
    # The reminder's month chooser and its "we will remind you" page need no database, nor
    # does refusing a malformed unsubscribe token.
    # The API's description is a file read once per app.
    "anonymous": {"static", "contribute.form", "api.embed_script", "api.openapi",
                  "dashboard.login",
                  "contribute.thanks", "reminders.remind_page", "reminders.reminder_set",
                  "reminders.unsubscribe",
                  *MANAGE_WITHOUT_SESSION},
    # Without a manage session these only redirect to the sign-in form: no page, no user.
    "staff": {"static", "api.embed_script", "api.openapi", *(MANAGE_WITHOUT_SESSION - {
        "support_manage.request_link", "support_manage.open_link",
        "support_manage.card_link", "support_manage.card_link_done"})},
}
SAMPLE_VALUES = {"filename": "css/site.css", "section": "local-government",
                 "token": "not-a-link", "support_id": 1}


@pytest.fixture
def outage(request, database_url, make_story, make_staff, fake_stripe):
    """An app on PostgreSQL through a proxy that can be cut; a story, a live appeal, staff."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the outage is staged on PostgreSQL, the production database")
    parts = urlsplit(database_url)
    proxy = CuttableProxy(parts.hostname, parts.port or 5432)
    url = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    app = make_app(url, **getattr(request, "param", {}))
    story = make_story(slug="harbour-outage")
    appeal = Appeal(name="Outage", status="live", target_sections=[], excluded_sections=[])
    variant = AppealVariant(appeal=appeal, name="A", heading="Help", body="<p>Please.</p>",
                            cta_label="Give", weight=1,
                            default_frequency="monthly")
    save_appeal(appeal)
    staff = make_staff("admin")
    token = create_token(staff, "outage")
    paid = fake_stripe.add_session(sf.checkout_session())
    outage = _Outage(app, proxy, story, appeal, variant, staff, token, paid["id"])
    outage.values.update(_supporter_rows())
    yield outage
    proxy.close()
    with app.app_context():
        db.engine.dispose()


def _supporter_rows():
    """A supporter's gift, recurring support and email; their ids, named as the supporter
    page's routes name them."""
    email = "outage@reader.example"
    rows = {"contribution_id": Contribution(amount_minor=500, currency="USD",
                                            frequency="one_off", status="paid", email=email),
            "support_id": RecurringSupport(stripe_subscription_id="sub_outage", amount_minor=500,
                                           currency="USD", interval="month", status="active",
                                           email=email),
            "message_id": OutboxMessage(key="receipt:outage", kind="receipt", to_address=email,
                                        subject="Your receipt", text_body="Thanks.",
                                        html_body="<p>Thanks.</p>",
                                        message_id="<outage@newsroom.example>")}
    db.session.add_all(rows.values())
    db.session.commit()
    return {name: row.id for name, row in rows.items()}


class _Outage:
    def __init__(self, app, proxy, story, appeal, variant, staff, token, session_id):
        self.app, self.proxy, self.token, self.session_id = app, proxy, token, session_id
        self.values = {**SAMPLE_VALUES, "slug": story.slug, "appeal_id": appeal.id,
                       "story_id": story.id, "staff_id": staff.id}
        self.staff_id = staff.id

    def client(self, staff=False):
        client = self.app.test_client()
        if staff:
            with client.session_transaction() as session:
                session["_user_id"], session["_fresh"] = str(self.staff_id), True
        return client

    def get_requests(self):
        """(endpoint, path) for every GET route of the app, with real values filled in."""
        from flask import url_for

        with self.app.test_request_context():
            return [(rule.endpoint, url_for(rule.endpoint, **{
                name: self.values[name] for name in rule.arguments}) + self._query(rule))
                for rule in self.app.url_map.iter_rules() if "GET" in rule.methods]

    def _query(self, rule):
        queries = {"api.appeal": f"?story={self.values['slug']}",
                   "contribute.thanks": f"?session_id={self.session_id}",
                   "reports_api.variants": f"?appeal={self.values['appeal_id']}"}
        return queries.get(rule.endpoint, "")


def _statuses(outage, staff):
    client = outage.client(staff)
    headers = {"Authorization": f"Bearer {outage.token}"}
    return {endpoint: client.get(path, headers=headers, buffered=True)
            for endpoint, path in outage.get_requests()}


@pytest.mark.parametrize("staff", [False, True], ids=["anonymous", "staff"])
def test_every_route_answers_503_while_the_database_is_down(outage, staff, caplog):
    """Routes that need the database answer 503 with Retry-After in the site's look (JSON
    under /api/); the others answer as before. One log line per kind of failure."""
    before = {endpoint: r.status_code for endpoint, r in _statuses(outage, staff).items()}
    assert all(code < 500 for endpoint, code in before.items() if endpoint != "health.healthz")
    outage.proxy.cut()
    caplog.set_level(logging.WARNING)
    during = _statuses(outage, staff)
    unchanged = WITHOUT_DATABASE["staff" if staff else "anonymous"]
    for endpoint, response in during.items():
        if endpoint in unchanged or (not staff and endpoint.startswith("dashboard.")):
            assert response.status_code == before[endpoint], endpoint
            continue
        assert response.status_code == 503, endpoint
        assert response.headers["Retry-After"] == "30", endpoint
        if endpoint.startswith(("api.", "reports_api.")):
            assert response.get_json()["error"]["status"] == 503
        elif endpoint != "health.healthz":
            assert b"unavailable for a moment" in response.data, endpoint
    outage_lines = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(outage_lines) == 1 and "Traceback" not in caplog.text
    outage.proxy.restore()
    after = {endpoint: r.status_code for endpoint, r in _statuses(outage, staff).items()}
    assert after == before


def test_no_checkout_reaches_stripe_while_the_database_is_down(outage, fake_stripe):
    """POST /contribute checks the database before calling Stripe: 503, no session created."""
    outage.proxy.cut()
    response = outage.client().post("/contribute", data={
        "frequency": "one_off", "amount": "5", "currency": "USD",
        "email": "reader@example.com", "nonce": "outage-nonce-0001"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert fake_stripe.created == []
    outage.proxy.restore()
    assert outage.client().post("/contribute", data={
        "frequency": "one_off", "amount": "5", "currency": "USD",
        "email": "reader@example.com", "nonce": "outage-nonce-0001"}).status_code == 303


def test_webhook_is_not_acknowledged_until_stored(outage, fake_stripe):
    """A webhook during the outage answers 503 (Stripe retries); the retry after it stores
    and applies the event."""
    session = fake_stripe.add_session(sf.checkout_session())
    evt = sf.event("checkout.session.completed", session)
    outage.proxy.cut()
    assert sf.post_event(outage.client(), evt).status_code == 503
    outage.proxy.restore()
    assert sf.post_event(outage.client(), evt).get_json()["result"] == "applied"
    with outage.app.app_context():
        assert db.session.scalars(db.select(StripeEvent.event_id)).all() == [evt["id"]]


def test_login_post_is_503_not_a_failed_sign_in(outage):
    """A staff member signing in during the outage is told to retry, not that the password
    is wrong."""
    outage.proxy.cut()
    response = outage.client().post("/dashboard/login", data={"email": "a@newsroom.example",
                                                               "password": "whatever pw"})
    assert response.status_code == 503
    assert not re.search(rb"(?i)incorrect|wrong", response.data)
