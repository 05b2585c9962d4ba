"""`--state-file`: a real emulator process, stopped (even with SIGKILL) and started again,
carries on with the same objects, numbering, idempotency keys and undelivered webhooks."""

import re
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import stripe

from stripe_emulator import run_in_thread

from .conftest import WebhookSink
from .helpers import WEBHOOK_SECRET, monthly_params

ROOT = Path(__file__).resolve().parents[2]


class EmulatorProcess:
    """`python -m stripe_emulator --state-file ...` on a free port, as `make run` starts it."""

    def __init__(self, state_file, log_file):
        self.state_file, self.log_file = state_file, log_file
        self.process = None
        self.url = None

    def start(self, forward_to=None, secret=WEBHOOK_SECRET):
        command = [sys.executable, "-m", "stripe_emulator", "--port", "0",
                   "--state-file", str(self.state_file)]
        if forward_to:
            command += ["--forward-to", forward_to]
        if secret:
            command += ["--webhook-secret", secret]
        with open(self.log_file, "a") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True
            )
        self.url = self._announced_url()
        return self

    def _announced_url(self):
        ready, _, _ = select.select([self.process.stdout], [], [], 20)
        line = self.process.stdout.readline() if ready else ""
        found = re.search(r"http://[\d.]+:\d+", line)
        if not found:
            self.process.kill()
            raise AssertionError(f"the emulator did not start: {Path(self.log_file).read_text()}")
        return found.group(0)

    def client(self):
        return stripe.StripeClient("sk_test_state", base_addresses={"api": self.url})

    def control(self, method, path, **kwargs):
        return requests.request(method, f"{self.url}/_emulator{path}", timeout=10, **kwargs)

    def kill(self):
        """SIGKILL: no chance to close anything."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.process.stdout.close()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        if self.process:
            self.process.stdout.close()


@pytest.fixture
def emulator_process(tmp_path):
    handle = EmulatorProcess(tmp_path / "state.sqlite3", tmp_path / "emulator.log")
    yield handle
    handle.stop()


@pytest.fixture
def sink():
    receiver = WebhookSink()
    yield receiver
    receiver.close()


def _subscribe(process, card="4242424242424242"):
    client = process.client()
    session = client.v1.checkout.sessions.create(params=monthly_params(amount=700))
    answer = process.control("POST", f"/checkout/{session.id}/pay", data={"card": card}).json()
    assert answer["status"] == "complete"
    sub_id = client.v1.checkout.sessions.retrieve(session.id).subscription
    return client.v1.subscriptions.retrieve(sub_id)


def test_objects_numbering_and_keys_survive_sigkill(emulator_process):
    """After SIGKILL and a restart: same objects and lists, invoice numbers go on, keys replay."""
    first = emulator_process.start()
    sub = _subscribe(first)
    client = first.client()
    first_invoice = client.v1.invoices.retrieve(sub.latest_invoice)
    customer = client.v1.customers.create(
        params={"email": "kept@example.com"}, options={"idempotency_key": "signup-1"}
    )
    events_before = [e.id for e in client.v1.events.list(params={"limit": 100}).data]
    first.kill()

    second = emulator_process.start()
    client = second.client()
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    assert client.v1.customers.retrieve(customer.id).email == "kept@example.com"
    assert [e.id for e in client.v1.events.list(params={"limit": 100}).data] == events_before
    replay = requests.post(
        f"{second.url}/v1/customers",
        data={"email": "kept@example.com"},
        headers={"Authorization": "Bearer sk_test_state", "Idempotency-Key": "signup-1"},
        timeout=10,
    )
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json()["id"] == customer.id
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(
            params={"email": "other@example.com"}, options={"idempotency_key": "signup-1"}
        )
    renewal = second.control("POST", f"/subscriptions/{sub.id}/advance").json()["invoice"]
    prefix, number = first_invoice.number.rsplit("-", 1)
    assert renewal["number"] == f"{prefix}-{int(number) + 1:04d}"


def _attempts(emulator, event_id):
    """How many deliveries of the event the emulator has recorded."""
    events = emulator.control("GET", "/events").json()["data"]
    return next((e["delivery"]["attempts"] for e in events if e["id"] == event_id), 0)


def test_undelivered_webhooks_are_sent_after_a_restart(emulator_process, sink):
    """Events the endpoint refused before the kill reach it, signed, once it is restarted."""
    answers = []

    def refuse(event):
        answers.append((event["id"], 503))
        return 503

    sink.answer = refuse
    first = emulator_process.start(forward_to=sink.url)
    customer = first.client().v1.customers.create(params={"email": "late@example.com"})
    created = first.client().v1.events.list(params={"type": "customer.created"}).data[0]
    deadline = time.monotonic() + 10
    # Kill once the emulator has recorded the refusal, not merely once the endpoint answered:
    # on a loaded machine the kill could otherwise land between the two.
    while _attempts(first, created.id) < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.kill()
    assert (created.id, 503) in answers

    def accept(event):
        answers.append((event["id"], 200))
        return 200

    sink.answer = accept
    second = emulator_process.start(forward_to=sink.url)
    assert second.control("POST", "/deliveries/wait", data={"timeout": "10"}).json()["done"]
    assert (created.id, 200) in answers
    _, _, body, signature = [r for r in sink.received if r[1] == created.id][-1]
    event = stripe.Webhook.construct_event(body, signature, WEBHOOK_SECRET)
    assert event.data.object.id == customer.id
    delivery = next(
        e["delivery"] for e in second.control("GET", "/events").json()["data"]
        if e["id"] == created.id
    )
    assert delivery["delivered"] is True and delivery["attempts"] >= 2


def test_sigkill_during_writes_leaves_a_usable_consistent_file(emulator_process):
    """Kill -9 in the middle of many writes: the file checks out, acknowledged writes are
    there, and each customer arrived with its event (one commit per request)."""
    first = emulator_process.start()
    acknowledged, stop = [], threading.Event()
    lock = threading.Lock()

    def write(worker):
        session = requests.Session()
        session.headers["Authorization"] = "Bearer sk_test_state"
        for n in range(10_000):
            if stop.is_set():
                return
            try:
                response = session.post(
                    f"{first.url}/v1/customers", data={"email": f"w{worker}-{n}@example.com"},
                    timeout=5,
                )
            except requests.RequestException:
                return  # killed under us
            if response.status_code == 200:
                with lock:
                    acknowledged.append(response.json()["id"])

    workers = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for worker in workers:
        worker.start()
    while len(acknowledged) < 40:
        time.sleep(0.01)
    first.kill()
    stop.set()
    for worker in workers:
        worker.join(10)

    db = sqlite3.connect(emulator_process.state_file)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        db.close()

    second = emulator_process.start()
    client = second.client()
    stored = [c.id for c in client.v1.customers.list(params={"limit": 100}).auto_paging_iter()]
    assert set(acknowledged) <= set(stored)
    events = client.v1.events.list(params={"type": "customer.created", "limit": 100})
    announced = [e.data.object.id for e in events.auto_paging_iter()]
    assert sorted(announced) == sorted(stored)
    assert client.v1.customers.create(params={"email": "after@example.com"}).id not in stored


def test_reset_empties_the_file(emulator_process):
    """POST /_emulator/reset also empties the state file: a restart starts empty."""
    first = emulator_process.start()
    _subscribe(first)
    assert first.control("POST", "/reset").json() == {"reset": True}
    first.kill()
    second = emulator_process.start()
    assert second.client().v1.events.list().data == []
    assert second.client().v1.subscriptions.list().data == []


def test_a_made_up_secret_is_kept(emulator_process):
    """Without --webhook-secret the emulator makes one up once and keeps it in the file."""
    first = emulator_process.start(secret=None)
    secret = first.control("GET", "/config").json()["webhook_secret"]
    first.stop()
    second = emulator_process.start(secret=None)
    assert second.control("GET", "/config").json()["webhook_secret"] == secret
    third_secret = "whsec_given"
    second.stop()
    third = emulator_process.start(secret=third_secret)
    assert third.control("GET", "/config").json()["webhook_secret"] == third_secret


def test_second_emulator_on_the_same_file_refuses(emulator_process, tmp_path):
    """A second emulator on a file in use exits with a message instead of drifting apart."""
    emulator_process.start()
    other = subprocess.run(
        [sys.executable, "-m", "stripe_emulator", "--port", "0",
         "--state-file", str(emulator_process.state_file)],
        cwd=ROOT, capture_output=True, text=True, timeout=20,
    )
    assert other.returncode == 2
    assert "is another emulator using it?" in other.stderr


def test_run_in_thread_takes_a_state_file(tmp_path):
    """In-process emulators keep state in a file too, when given one."""
    path = tmp_path / "inproc.sqlite3"
    with run_in_thread(state_file=path) as first:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": first.url})
        customer = client.v1.customers.create(params={"email": "inproc@example.com"})
    with run_in_thread(state_file=path) as second:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": second.url})
        assert client.v1.customers.retrieve(customer.id).email == "inproc@example.com"
    with run_in_thread() as memory:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": memory.url})
        assert memory.state.store.file is None
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.customers.retrieve(customer.id)


def test_objects_made_through_the_api_survive_a_restart(tmp_path):
    path = tmp_path / "breadth.sqlite3"
    with run_in_thread(state_file=path) as first:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": first.url})
        price = client.v1.prices.create(
            params={"currency": "usd", "unit_amount": 500, "recurring": {"interval": "month"},
                    "product_data": {"name": "Membership"}, "lookup_key": "monthly"})
        client.v1.prices.update(price.id, params={"nickname": "Monthly"})
        customer = client.v1.customers.create(params={"email": "keep@example.com"})
        method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
        intent = client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "usd", "customer": customer.id,
                    "payment_method": method.id, "confirm": True})
        sub = client.v1.subscriptions.create(
            params={"customer": customer.id, "default_payment_method": method.id,
                    "items": [{"price": price.id}]})
        config = client.v1.billing_portal.configurations.create(
            params={"features": {"invoice_history": {"enabled": True}}})
    with run_in_thread(state_file=path) as second:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": second.url})
        assert client.v1.prices.retrieve(price.id).nickname == "Monthly"
        assert client.v1.products.retrieve(price.product).name == "Membership"
        assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"
        assert client.v1.subscriptions.retrieve(sub.id).status == "active"
        configs = client.v1.billing_portal.configurations.list().data
        assert [c.id for c in configs][0] == config.id and len(configs) == 2


def _refused_at_start(state_file):
    """Start the emulator on `state_file`, which it must refuse: (stderr), after checking that
    it exited non-zero and left the file byte for byte, mtime included, as it was."""
    before = (state_file.read_bytes(), state_file.stat().st_mtime_ns)
    answer = subprocess.run(
        [sys.executable, "-m", "stripe_emulator", "--port", "0", "--state-file", str(state_file)],
        cwd=ROOT, capture_output=True, text=True, timeout=20,
    )
    assert answer.returncode == 2, answer.stderr
    assert "Traceback" not in answer.stderr
    assert (state_file.read_bytes(), state_file.stat().st_mtime_ns) == before
    assert not list(state_file.parent.glob(f"{state_file.name}-*")), "a -wal or -shm is left"
    return answer.stderr


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path):
    state_file = tmp_path / "state.sqlite3"
    state_file.write_bytes(bytes(range(256)) * 40)
    message = _refused_at_start(state_file)
    assert f"{state_file} is not a state file of the Stripe emulator (not SQLite)" in message


def test_a_newer_format_is_refused_untouched(tmp_path):
    """A file a later emulator wrote (rollback journal, format 2) is not converted, not even
    to WAL mode: the later emulator can still use it."""
    state_file = tmp_path / "state.sqlite3"
    db = sqlite3.connect(state_file)
    db.executescript(
        "CREATE TABLE object (seq INTEGER PRIMARY KEY, id TEXT, type TEXT, body TEXT,"
        " private TEXT, livemode INTEGER);"
        "CREATE TABLE idempotency (key TEXT PRIMARY KEY, body TEXT);"
        "CREATE TABLE setting (name TEXT PRIMARY KEY, value TEXT);"
        "INSERT INTO setting VALUES ('schema_version', '2');"
    )
    db.commit()
    db.close()
    message = _refused_at_start(state_file)
    assert "written by another version of the emulator (format 2, this one reads 1)" in message
    assert "remove it to start empty" in message


def test_garbage_in_the_object_table_is_refused_untouched(emulator_process):
    """A row that is not JSON (a hand edit, a disk error): a message naming the row."""
    first = emulator_process.start()
    customer = first.client().v1.customers.create(params={"email": "damaged@example.com"})
    first.stop()
    db = sqlite3.connect(emulator_process.state_file)
    db.execute("UPDATE object SET body = '{\"id\": \"cus_' WHERE id = ?", (customer.id,))
    db.commit()
    db.close()
    message = _refused_at_start(emulator_process.state_file)
    assert f"the row of '{customer.id}' is not valid JSON" in message
