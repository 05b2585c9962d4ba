"""Every route of the app, fuzzed: odd paths, query strings, bodies and headers never get a 5xx.

The routes come from `app.url_map`, so a new route is fuzzed without editing this file. Each
example sends one request to every route and method, anonymous or signed in as an admin, on
both databases. Queries and bodies start from the links and forms the app's own pages show
(so the views get past validation) and from what our scripts send, with fields replaced by
hostile values; or they are JSON, garbage bytes, or empty. Every request starts from the
same seeded data: after one that changed a row, the tables are emptied and seeded again.
"""
import os
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from werkzeug.http import dump_cookie
from werkzeug.test import EnvironBuilder, run_wsgi_app

from tests.conftest import empty_tables, make_app
from tests.fuzz_requests import (
    PARTNER,
    QUERY_NAMES,
    Seen,
    concrete_urls,
    form_field_names,
    requests,
    resolve,
    seen_on_pages,
)

IGNORED_METHODS = {"HEAD", "OPTIONS"}
# Each example sends one request to every route; FUZZ_EXAMPLES=200 digs deeper.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))


def _routes_and_fields():
    app = make_app("sqlite://")
    routes = sorted((rule.rule, method, rule.endpoint) for rule in app.url_map.iter_rules()
                    for method in rule.methods - IGNORED_METHODS)
    return routes, form_field_names(app) | set(QUERY_NAMES)


ROUTES, FIELD_NAMES = _routes_and_fields()
# Read from the pages once per test session, per kind of visitor (anonymous, admin).
_SEEN = {}
_STRATEGIES = {}


def _seed(fake_stripe):
    """A story, a live appeal, a paid gift, a recurring supporter and a finished checkout;
    returns what a request may name: {"story": slug, "appeal_id": id, ...}."""
    from supportapp.extensions import db
    from supportapp.models import Appeal, AppealVariant, Contribution, RecurringSupport
    from supportapp.services.appeals import save_appeal
    from supportapp.services.stories import StoryRecord, upsert_story
    from tests.stripe_fakes import checkout_session

    story, _ = upsert_story(StoryRecord(
        title="Harbour budget", slug="harbour-budget", section="local-government",
        body_html="".join(f"<p>Paragraph {n}.</p>" for n in range(4))))
    appeal = Appeal(name="Winter drive", status="live", placement_paragraph=1,
                    target_sections=[], excluded_sections=[], goal_amount_minor=500_000,
                    goal_currency="USD", goal_label="Our goal")
    appeal.variants.append(AppealVariant(
        name="control", heading="Since you're here", body="<p>Please.</p>", cta_label="Give",
        preset_amounts={"USD": {"monthly": [300, 700]}}, default_frequency="monthly", weight=1,
        is_control=True))
    save_appeal(appeal)
    variant, now = appeal.variants[0], datetime.now(UTC)
    db.session.add_all([
        Contribution(amount_minor=1250, currency="USD", frequency="one_off", status="paid",
                     story_id=story.id, appeal_id=appeal.id, variant_id=variant.id,
                     email="kind@reader.example", paid_at=now),
        RecurringSupport(stripe_subscription_id="sub_fuzz", amount_minor=500, currency="EUR",
                         interval="month", status="active", story_id=story.id, started_at=now),
    ])
    db.session.commit()
    session = fake_stripe.add_session(checkout_session(mode="subscription"))
    return {"story": story.slug, "section": story.section, "story_id": story.id,
            "appeal_id": appeal.id, "variant_id": variant.id, "staff_id": 0,
            "session_id": session["id"], "token": "sat_none"}


WRITES = ("INSERT", "UPDATE", "DELETE")


class World:
    """The app with seeded data, seeded again after a request changed a row."""

    def __init__(self, app, fake_stripe, staff_client):
        from sqlalchemy import event

        from supportapp.extensions import db

        self.app, self.fake_stripe, self.staff_client = app, fake_stripe, staff_client
        self.known, self.cookies, self.empty = None, {}, True  # the app fixture emptied them
        app.config["EMBED_ORIGINS"] = (PARTNER,)
        event.listen(db.engine, "after_cursor_execute", self._note_write)

    def _note_write(self, _conn, cursor, statement, *_args):
        # rowcount is -1 where the driver cannot tell: counted as a change.
        if cursor.rowcount != 0 and statement.lstrip().upper().startswith(WRITES):
            self.known = None

    def start(self, as_staff):
        """What requests may name in this example; seeded afresh after a change."""
        from supportapp.extensions import db

        if self.known is None:
            db.session.remove()
            if not self.empty:
                empty_tables(db)
            known, self.cookies, self.empty = _seed(self.fake_stripe), {}, False
            client = self._sign_in(known) if as_staff else self.app.test_client()
            if as_staff not in _SEEN:
                urls = {url for rule, method, _ in ROUTES if method == "GET"
                        for url in concrete_urls(rule, known)}
                _SEEN[as_staff] = seen_on_pages(self.app, client, urls)
            self.known = known  # set last: seeding and reading the pages write too
        return self.known

    def _sign_in(self, known):
        from supportapp.services.staff import create_token

        client = self.staff_client("admin")
        known.update(staff_id=client.staff.id, token=create_token(client.staff, "fuzz"))
        name = self.app.config["SESSION_COOKIE_NAME"]
        self.cookies[name] = client.get_cookie(name).value
        return client


@pytest.fixture
def world(app, fake_stripe, staff_client):
    return World(app, fake_stripe, staff_client)


def _strategy(rule, method, endpoint, as_staff):
    key = (rule, method, as_staff)
    if key not in _STRATEGIES:
        seen = _SEEN[as_staff].get(endpoint, Seen())
        _STRATEGIES[key] = requests(rule, method, endpoint, seen, FIELD_NAMES)
    return _STRATEGIES[key]


def _send(app, method, request, cookies):
    """Status and body of one request, passed on as a server would: not through the test
    client, whose cookie jar parses the Host header itself (and fails on some the app refuses)."""
    from flask import g

    g.pop("_login_user", None)  # the app fixture's context outlives requests; a server's not
    cookie = "; ".join(dump_cookie(name, value, path=None, max_size=0)  # 0: no size warning
                       for name, value in cookies.items())
    headers = {**request["headers"], **({"Cookie": cookie} if cookie else {})}
    environ = EnvironBuilder(path=request["path"], method=method, query_string=request["query"],
                             headers=headers, **request["body"]).get_environ()
    app_iter, status, _headers = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0]), b"".join(app_iter)


@pytest.mark.parametrize("as_staff", [False, True], ids=["anonymous", "admin"])
# No shrinking: an example is a request to every route, so shrinking one takes minutes, and
# the failing request is shown as it was sent anyway.
@settings(max_examples=MAX_EXAMPLES, deadline=None,
          phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_no_route_answers_5xx(world, as_staff, data):
    """Each route in turn, with fuzzed path, query, body, headers and cookies: no 5xx."""
    for rule, method, endpoint in ROUTES:
        known = world.start(as_staff)
        drawn = data.draw(_strategy(rule, method, endpoint, as_staff), label=f"{method} {rule}")
        request = resolve(drawn, known)
        status, page = _send(world.app, method, request, {**request["cookies"], **world.cookies})
        assert status < 500, f"{method} {request['path']} answered {status}: {page[:300]}"
