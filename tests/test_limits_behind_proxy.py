"""Rate limits behind a TLS proxy: each reader has their own bucket, not one for the site."""
import json
import secrets
import threading

import pytest

from tests import stripe_fakes as sf
from tests.conftest import STAFF_PASSWORD, make_app

PROXY = "10.0.0.2"  # every request reaches the app from the proxy's address
READER_A, READER_B = "203.0.113.5", "198.51.100.7"
LIMITED = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


def _beacon(client, story):
    body = json.dumps({"pv": "pageview1", "events": [
        {"type": "view", "story": story, "appeal": 1, "variant": 1}]})
    return client.post("/api/events", data=body, content_type="text/plain",
                       headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0"})


def _checkout(client, n):
    return client.post("/contribute", data={
        "frequency": "one_off", "amount": str(5 + n), "currency": "USD",
        "email": "reader@example.com", "nonce": f"nonce-for-proxy-test-{n:04d}"})


def _login(client, n):
    return client.post("/dashboard/login", data={"email": "nobody@newsroom.example",
                                                  "password": "wrong password"})


def _thanks(client, n):
    return client.get(f"/contribute/thanks?session_id=cs_test_proxy{n}")


def _embed(client, n):
    return client.get("/api/appeal?story=no-such-story")


def _webhook(client, n):
    return sf.post_event(client, sf.event("customer.created", sf.resource("customer")))


LIMITS = {
    "CHECKOUT_RATE_LIMIT": _checkout,
    "LOGIN_RATE_LIMIT": _login,
    "THANKS_RATE_LIMIT": _thanks,
    "EMBED_RATE_LIMIT": _embed,
    "WEBHOOK_RATE_LIMIT": _webhook,
    "BEACON_RATE_LIMIT": lambda client, n: _beacon(client, "no-such-story"),
}


def _client(app, reader, forwarded_for=None):
    """A client whose requests come through the proxy, which appends the reader's address."""
    client = app.test_client()
    chain = f"{forwarded_for}, {reader}" if forwarded_for else reader
    client.environ_base.update(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=chain,
                               HTTP_X_FORWARDED_PROTO="https")
    return client


@pytest.mark.parametrize("setting", sorted(LIMITS))
def test_each_limit_counts_per_reader_behind_one_proxy(database_url, fake_stripe, setting):
    """With SUPPORTAPP_TRUSTED_PROXIES=1, reader A using up a limit leaves reader B's alone,
    and A cannot escape it by sending an X-Forwarded-For of their own."""
    app = make_app(database_url, TRUSTED_PROXIES=1, **LIMITED, **{setting: "2 per minute"})
    send = LIMITS[setting]
    reader_a = _client(app, READER_A)
    assert [send(reader_a, n).status_code != 429 for n in range(2)] == [True, True]
    assert send(reader_a, 2).status_code == 429
    spoofing_a = _client(app, READER_A, forwarded_for="192.0.2.99")
    assert send(spoofing_a, 3).status_code == 429
    reader_b = _client(app, READER_B)
    assert send(reader_b, 4).status_code != 429


def test_without_trusted_proxies_everyone_shares_the_proxy_address(database_url, fake_stripe):
    """The default (no proxy trusted) keys on the connecting address: forwarded headers are
    not believed, which is right without a proxy and why the setting exists with one."""
    app = make_app(database_url, **LIMITED, CHECKOUT_RATE_LIMIT="1 per minute")
    assert _checkout(_client(app, READER_A), 0).status_code == 303
    assert _checkout(_client(app, READER_B), 1).status_code == 429


def test_correct_password_after_other_readers_mistakes(database_url, make_staff):
    """Others' failed sign-ins through the same proxy do not lock a staff member out."""
    staff = make_staff("viewer")
    app = make_app(database_url, TRUSTED_PROXIES=1, **LIMITED, LOGIN_RATE_LIMIT="3 per minute")
    for n in range(5):
        _login(_client(app, f"203.0.113.{10 + n}"), n)
    response = _client(app, READER_B).post("/dashboard/login", data={
        "email": staff.email, "password": STAFF_PASSWORD})
    assert response.status_code == 302


def test_forwarded_scheme_and_address_reach_the_app(database_url, fake_stripe):
    """Behind the proxy, links to this site (Stripe's success URL) use the reader's https."""
    app = make_app(database_url, TRUSTED_PROXIES=1)
    assert _checkout(_client(app, READER_A), 0).status_code == 303
    params, _ = fake_stripe.created[0]
    assert params["success_url"].startswith("https://localhost/contribute/thanks")


@pytest.mark.parametrize("storage", ["memory://", "redis://127.0.0.1:6379"])
def test_simultaneous_checkout_burst_reaches_stripe_at_most_the_limit(
        database_url, fake_stripe, storage):
    """60 submissions at the same moment from one address: at most the limit (10) create a
    Checkout Session; the rest are refused with 429 before Stripe is called."""
    from tests.integration.conftest import serve

    if storage.startswith("redis"):
        _require_redis(storage)
    app = make_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage,
                   RATELIMIT_KEY_PREFIX=f"burst-{secrets.token_hex(6)}",
                   CHECKOUT_RATE_LIMIT="10 per minute")
    url, server = serve(app)
    try:
        codes = _burst(url, 60)
    finally:
        server.shutdown()
        server.server_close()
    assert len(fake_stripe.created) <= 10
    assert codes.count(303) == len(fake_stripe.created) and codes.count(303) >= 1
    assert set(codes) <= {303, 429}


def _burst(url, count):
    import requests

    start, codes = threading.Barrier(count), []

    def post(n):
        form = {"frequency": "one_off", "amount": str(5 + n), "currency": "USD",
                "email": "reader@example.com", "nonce": f"burst-nonce-{n:06d}"}
        start.wait()
        codes.append(requests.post(f"{url}/contribute", data=form, allow_redirects=False,
                                   timeout=30).status_code)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes


def _require_redis(url):
    import os

    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis not reachable at {url} ({exc}); CI=true requires it")
        pytest.skip(f"Redis not reachable at {url}")
