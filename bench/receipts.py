"""Benchmark: what queueing a receipt adds to a webhook's transaction.

    .venv/bin/python bench/receipts.py [--database postgresql|sqlite] [--payments 300]

Builds a throwaway database (PostgreSQL database `bench_supportapp` at 127.0.0.1:5432 when
it answers, else SQLite; `flask db upgrade`), then in this process applies --payments paid
one-off Checkout Sessions with `fulfilment.apply_event` and commits each, as the webhook does
once Stripe has answered (Stripe is not called: the session is handed in as the answer).
Two kinds of payment take turns: with the receipt (the real code) and without (the receipt
call replaced by nothing), so a machine busy with other work slows both alike. It reports
the median and 95th percentile of each, their difference (the receipt's cost: rendering
the text and HTML, inlining the CSS, one lookup and one INSERT), and the time of
`queue_payment_emails` for a payment already receipted (a thank-you page reloaded).
Budget: the receipt adds at most 10 ms to the median payment (exit 1 when not; 2 when the
benchmark could not run). The database is dropped on the way out, Ctrl-C included.
"""
from __future__ import annotations

import argparse
import statistics
import time

from benchdb import AppOnDb, Database, app_env, default_database, enter_project, flask_cli
from benchkit import machine, run_or_exit, unwind_on_signals, verdict

BUDGET_MS = 10.0


def _session(n):
    return {"id": f"cs_bench_{n:06d}", "object": "checkout.session", "status": "complete",
            "payment_status": "paid", "mode": "payment", "amount_total": 500 + n,
            "currency": "usd", "payment_intent": f"pi_bench_{n:06d}", "metadata": {},
            "customer": None, "customer_details": {"email": f"reader{n}@example.com"}}


def _apply(n):
    from supportapp.extensions import db
    from supportapp.services.fulfilment import apply_event
    from supportapp.services.stripe_facts import StripeFacts

    session = _session(n)
    event = {"id": f"evt_bench_{n}", "type": "checkout.session.completed",
             "data": {"object": session}}
    started = time.perf_counter()
    apply_event(event, StripeFacts(session=session))
    db.session.commit()
    return time.perf_counter() - started


def _again(n):
    from sqlalchemy import select

    from supportapp.extensions import db
    from supportapp.models import Contribution
    from supportapp.services.receipts import queue_payment_emails

    row = db.session.scalars(select(Contribution).where(
        Contribution.stripe_checkout_session_id == _session(n)["id"])).one()
    started = time.perf_counter()
    written = queue_payment_emails(row)
    elapsed = time.perf_counter() - started
    db.session.rollback()
    assert not written
    return elapsed


def _measure(app, payments):
    from sqlalchemy import func, select

    from supportapp.extensions import db
    from supportapp.models import OutboxMessage
    from supportapp.services import fulfilment

    real = fulfilment.queue_payment_emails
    with_receipt, without = [], []
    with app.app_context():
        for n in range(-20, 0):  # warm-up: templates compiled, connections open
            _apply(n)
        for n in range(payments * 2):
            receipt = n % 2 == 0
            fulfilment.queue_payment_emails = real if receipt else (lambda row: False)
            try:
                (with_receipt if receipt else without).append(_apply(n))
            finally:
                fulfilment.queue_payment_emails = real
        again = [_again(n) for n in range(0, payments * 2, 2)]
        queued = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    assert queued == payments + 20, queued
    return with_receipt, without, again


def _ms(values, q=None):
    values = sorted(values)
    if q is None:
        return statistics.median(values) * 1000
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def benchmark(args):
    kind = default_database(args.database)
    with Database(kind, "bench-receipts-") as database:
        flask_cli(app_env(database.url), "db", "upgrade")
        bench = AppOnDb(database.url)
        try:
            with_receipt, without, again = _measure(bench.app, args.payments)
        finally:
            bench.close()
        print(f"{database.server_version()}; {machine()}")
    print(f"{args.payments} paid one-off checkouts each way, applied and committed in-process")
    print(f"{'':28} {'median':>9} {'p95':>9}")
    for label, values in (("with the receipt", with_receipt), ("without", without),
                          ("receipt already queued", again)):
        print(f"{label:28} {_ms(values):7.2f}ms {_ms(values, 0.95):7.2f}ms")
    added = _ms(with_receipt) - _ms(without)
    print(f"the receipt adds {added:.2f} ms to the median payment (budget {BUDGET_MS:.0f} ms)")
    failures = [f"the receipt adds {added:.2f} ms"] if added > BUDGET_MS else []
    return verdict(failures, f"the receipt adds {added:.2f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"))
    parser.add_argument("--payments", type=int, default=300)
    args = parser.parse_args()
    enter_project()
    unwind_on_signals()
    raise SystemExit(run_or_exit(benchmark, args, "the bench database was dropped"))


if __name__ == "__main__":
    main()
