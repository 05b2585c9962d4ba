"""Fixtures for the Stripe emulator's tests (independent of supportapp and its tests).

One emulator runs for the whole session on a free port; every test starts
from an empty emulator and, when it asks for `webhooks`, with a fresh local
endpoint that records the signed events it receives.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import stripe

from stripe_emulator import events, run_in_thread, server

from .conformance import Recorder
from .helpers import WEBHOOK_SECRET, monthly_params, one_off_params

# Every /v1 answer and every event the emulators of a test make; checked after the test.
RECORDER = Recorder()


@pytest.fixture(scope="session", autouse=True)
def _record_for_conformance():
    """Make every emulator started in these tests record its answers and events."""
    make_app, make_event = server.create_emulator, events.event

    def recording_emulator(*args, **kwargs):
        app = make_app(*args, **kwargs)
        app.wsgi_app = RECORDER.wrap(app.wsgi_app)
        return app

    def recording_event(*args, **kwargs):
        evt = make_event(*args, **kwargs)
        RECORDER.record_event(evt)
        return evt

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(server, "create_emulator", recording_emulator)
        patch.setattr(events, "event", recording_event)
        yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    RECORDER.clear()  # fixtures' calls count as the test's
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail a test during which the emulator answered or sent something unlike Stripe."""
    result = yield
    problems = RECORDER.problems()
    if problems:
        shown = "\n  ".join(problems[:40])
        more = f"\n  ... and {len(problems) - 40} more" if len(problems) > 40 else ""
        raise AssertionError(
            f"{len(problems)} answers/events do not fit Stripe's API "
            f"(stripe_emulator/tests/conformance.py):\n  {shown}{more}"
        )
    return result


@pytest.fixture(scope="session")
def emulator():
    # Short backoff keeps retry tests fast: 0.1 s, 0.2 s, 0.4 s, then give up.
    handle = run_in_thread(
        webhook_secret=WEBHOOK_SECRET, retry_base=0.1, retry_cap=0.4, max_attempts=4, timeout=5
    )
    yield handle
    handle.shutdown()


@pytest.fixture(autouse=True)
def _clean_emulator(request):
    yield
    if "emulator" in request.fixturenames:
        handle = request.getfixturevalue("emulator")
        handle.wait_for_deliveries(5)
        handle.reset()
        handle.state.forward_to = None
        handle.state.delivery_enabled = True


@pytest.fixture
def client(emulator):
    return stripe.StripeClient("sk_test_emulator", base_addresses={"api": emulator.url})


@pytest.fixture
def api(emulator):
    """Raw HTTP access to the emulator, for what the SDK hides (JSON, headers)."""
    session = requests.Session()
    session.headers["Authorization"] = "Bearer sk_test_emulator"

    def call(method, path, **kwargs):
        return session.request(method, emulator.url + path, timeout=10, **kwargs)

    return call


@pytest.fixture
def control(emulator):
    """POST/GET to the emulator's `/_emulator/...` control routes."""

    def call(method, path, **kwargs):
        return requests.request(method, f"{emulator.url}/_emulator{path}", timeout=30, **kwargs)

    return call


class WebhookSink:
    """A tiny HTTP endpoint that records every delivery it receives."""

    def __init__(self, settle=None):
        # `settle()` waits until the emulator has sent everything it queued.
        self.settle = settle or (lambda: True)
        self.received = []  # (event type, event id, body bytes, signature header)
        self.answer = lambda event: 200  # status code to answer for a parsed event
        self._cond = threading.Condition()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}/stripe/webhook"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def _handler(self):
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                event = json.loads(body)
                with sink._cond:
                    sink.received.append(
                        (event["type"], event["id"], body, self.headers["Stripe-Signature"])
                    )
                    sink._cond.notify_all()
                self.send_response(sink.answer(event))
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    def types(self):
        with self._cond:
            return [item[0] for item in self.received]

    def wait_for(self, event_type, timeout=5):
        """Wait for an event of `event_type`, then for the emulator's queue to drain."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while event_type not in [item[0] for item in self.received]:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{event_type} never arrived; got {self.types()}")
                self._cond.wait(remaining)
        self.settle()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhooks(emulator):
    sink = WebhookSink(settle=lambda: emulator.wait_for_deliveries(5))
    emulator.state.forward_to = sink.url
    yield sink
    emulator.state.forward_to = None
    emulator.wait_for_deliveries(5)
    sink.close()


FIXTURES3 = Path(__file__).resolve().parent / "fixtures" / "stripe" / "fixtures3.json"


@pytest.fixture(scope="session")
def fixtures3():
    """Stripe's example objects by resource name; the file is vendored, so missing is an error."""
    return json.loads(FIXTURES3.read_text())["resources"]


@pytest.fixture
def pay(control):
    """Pay a session through the control route; returns its JSON answer."""

    def call(session_id, card="4242424242424242", **fields):
        response = control("POST", f"/checkout/{session_id}/pay", data={"card": card, **fields})
        return response.json()

    return call


@pytest.fixture
def paid_one_off(client, pay):
    """A completed one-off session (expanded payment_intent)."""
    session = client.v1.checkout.sessions.create(params=one_off_params())
    assert pay(session.id)["status"] == "complete"
    return client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent.latest_charge"]}
    )


@pytest.fixture
def subscribe(client, pay):
    """Create and pay a monthly session; returns the Subscription."""

    def call(card="4242424242424242", **params):
        session = client.v1.checkout.sessions.create(params=monthly_params(**params))
        assert pay(session.id, card)["status"] == "complete"
        return client.v1.subscriptions.retrieve(
            client.v1.checkout.sessions.retrieve(session.id).subscription
        )

    return call
