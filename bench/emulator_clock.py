"""Benchmark: how long does the Stripe emulator take to move a year forward?

    .venv/bin/python bench/emulator_clock.py [--subscriptions 300] [--state-file]
                                             [--budget 10]

Starts an in-process emulator (in memory, or on a temporary state file with
--state-file), subscribes --subscriptions readers through Checkout (nine in
ten monthly, one in ten annual; one in ten with the 0341 card, whose renewals
fail), then times one `POST /_emulator/clock/advance days=366`: every
renewal, retry and cancellation of the year, with their events (no webhook
target, so delivery is not part of the time). The scripted year of the
"keeping supporters" tests moves the clock month by month over as many
subscriptions; the budget is that the whole year runs in --budget seconds
(default 10). Exit status 1 when it takes longer. Not collected by pytest.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import requests
import stripe

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stripe_emulator import run_in_thread  # noqa: E402

CARD_OK = "4242424242424242"
CARD_RENEWALS_FAIL = "4000000000000341"


def subscribe(emulator, client, interval, card):
    session = client.v1.checkout.sessions.create(params={
        "mode": "subscription",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": "usd", "unit_amount": 500, "product_data": {"name": "Support"},
            "recurring": {"interval": interval}}}],
        "success_url": "https://news.example/thanks", "cancel_url": "https://news.example/",
    })
    paid = requests.post(f"{emulator.url}/_emulator/checkout/{session.id}/pay",
                         data={"card": card}, timeout=30)
    paid.raise_for_status()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=300)
    parser.add_argument("--state-file", action="store_true")
    parser.add_argument("--budget", type=float, default=10.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        state_file = Path(folder) / "emulator.sqlite3" if args.state_file else None
        with run_in_thread(state_file=state_file) as emulator:
            client = stripe.StripeClient("sk_test_bench",
                                         base_addresses={"api": emulator.url})
            started = time.perf_counter()
            for n in range(args.subscriptions):
                subscribe(emulator, client, "year" if n % 10 == 9 else "month",
                          CARD_RENEWALS_FAIL if n % 10 == 4 else CARD_OK)
            setup = time.perf_counter() - started
            started = time.perf_counter()
            answer = requests.post(f"{emulator.url}/_emulator/clock/advance",
                                   data={"days": "366"}, timeout=600).json()
            took = time.perf_counter() - started
    events = answer["renewals"] * 6 + answer["retries"] * 3
    print(f"{args.subscriptions} subscriptions set up in {setup:.1f} s")
    print(f"a year: {answer['renewals']} renewals, {answer['retries']} retries "
          f"(~{events} events) in {took:.2f} s "
          f"({'state file' if args.state_file else 'in memory'}); budget {args.budget} s")
    return 0 if took <= args.budget else 1


if __name__ == "__main__":
    sys.exit(main())
