"""Fixtures for tests against the local Stripe emulator: the emulator and the app, each
served on a loopback port, with the emulator forwarding signed webhooks to the app."""
import json
import secrets
import threading
from dataclasses import dataclass, field

import pytest
import requests
import stripe
from werkzeug.serving import WSGIRequestHandler, make_server

from stripe_emulator import run_in_thread
from supportapp.extensions import db
from tests.conftest import make_app
from tests.stripe_fakes import WEBHOOK_SECRET

CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_RENEWAL_FAILS = "4000000000000341"  # pays at checkout, declines off-session renewals


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


@pytest.fixture(scope="session")
def emulator():
    """One emulator for the session; short retry backoff keeps failure tests quick."""
    handle = run_in_thread(webhook_secret=WEBHOOK_SECRET, retry_base=0.2, retry_cap=0.5,
                           max_attempts=4, timeout=15)
    yield handle
    handle.shutdown()


def serve(wsgi_app):
    """Serve a WSGI app on a free loopback port in a daemon thread; returns (url, server)."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True, request_handler=_QuietHandler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                     daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


@dataclass
class Live:
    """The app served for real, on the test's database, talking to the emulator."""

    url: str
    app: object
    emulator: object
    # The reader's browser: keeps the cookies this site sets (the checkout it started).
    browser: requests.Session = field(default_factory=requests.Session)
    settle_seconds: float = 30  # how long settle() waits for the webhooks sent so far

    @property
    def stripe(self):
        return stripe.StripeClient("sk_test_emulator", base_addresses={"api": self.emulator.url})

    def control(self, path, **data):
        return requests.post(f"{self.emulator.url}/_emulator{path}", data=data, timeout=30)

    def start_checkout(self, frequency="one_off", amount="5", currency="USD", **fields):
        """Submit the contribution form; returns the Checkout Session id it redirected to."""
        form = {"frequency": frequency, "amount": amount, "currency": currency,
                "email": "reader@example.com", "nonce": secrets.token_urlsafe(18), **fields}
        response = self.browser.post(f"{self.url}/contribute", data=form,
                                     allow_redirects=False, timeout=30)
        assert response.status_code == 303, response.text[:500]
        location = response.headers["Location"]
        assert location.startswith(f"{self.emulator.url}/c/pay/cs_test_")
        return location.rsplit("/", 1)[1]

    def pay(self, session_id, card=CARD_OK):
        return self.control(f"/checkout/{session_id}/pay", card=card)

    def subscription_of(self, session_id):
        return self.stripe.v1.checkout.sessions.retrieve(session_id).subscription

    def settle(self):
        assert self.emulator.wait_for_deliveries(self.settle_seconds), "webhooks still pending"

    def delivery(self, enabled):
        self.control("/delivery", enabled="1" if enabled else "0")

    def events(self):
        """Every event the emulator created, oldest first, as plain dicts."""
        listed = self.stripe.v1.events.list(params={"limit": 100})
        return [json.loads(json.dumps(e.to_dict(), default=str))
                for e in reversed(list(listed.auto_paging_iter()))]


@pytest.fixture
def live(request, app, emulator):
    """The app on a loopback port (same database as `app`), with webhooks forwarded to it.
    Extra settings come from indirect parametrization: `parametrize("live", [{...}])`."""
    # Served over plain http, as in development: cookies are not marked Secure, so the
    # reader's browser (requests, Chromium) sends them back.
    live_app = make_app(app.config["SQLALCHEMY_DATABASE_URI"], SUPPORTAPP_ENV="development",
                        STRIPE_API_BASE=emulator.url,
                        STRIPE_SECRET_KEY="sk_test_emulator",
                        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, **getattr(request, "param", {}))
    url, server = serve(live_app)
    emulator.reset()
    emulator.state.delivery_enabled = True
    emulator.state.forward_to = f"{url}/stripe/webhook"
    yield Live(url, live_app, emulator)
    emulator.wait_for_deliveries(15)
    emulator.state.forward_to = None
    emulator.reset()
    server.shutdown()
    server.server_close()
    with live_app.app_context():
        db.engine.dispose()
