"""Where does a beacon's time go? Profiles POST /api/events in-process, beside /bench/bare.

    .venv/bin/python bench/profile_beacon.py [--database postgresql|sqlite] [--requests 2000]
                                             [--pg-database bench_supportapp]

Companion to bench/beacon.py (which measures throughput through gunicorn). Builds the same
throwaway database (migrations + seed), then sends beacons through the Flask test client of
bench/beacon_app.py (one thread, no server, no network) and prints:

* milliseconds per request for /api/events and /bench/bare (median of 5 batches, no
  profiler attached), wall clock and process CPU, so waiting on the database shows;
* the SQL statements one beacon sends inside its request, with their share of the time
  (none with the event journal on, the default: run with SUPPORTAPP_TRACKING_JOURNAL_SECONDS=0
  to profile the path that writes the database in the request);
* under cProfile, the functions with the largest cumulative and own time per beacon.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from beacon import USER_AGENT, AppDb  # noqa: E402
from benchdb import (  # noqa: E402
    PG_DATABASE,
    Database,
    default_database,
    enter_project,
    migrate_and_seed,
    release,
    timed_statements,
)
from benchkit import profile_label  # noqa: E402


class Sender:
    def __init__(self, client, targets):
        self.client, self.targets, self.number = client, targets, 0

    def __call__(self, path):
        self.number += 1
        reader = f"prof-{self.number:012d}"
        slug, appeal_id, variant_id = self.targets[self.number % len(self.targets)]
        body = json.dumps({"pv": f"pv-{reader}", "reader": reader, "events": [
            {"type": "view", "story": slug, "appeal": appeal_id, "variant": variant_id}]})
        response = self.client.post(path, data=body, content_type="text/plain;charset=UTF-8",
                                    headers={"User-Agent": USER_AGENT})
        if response.status_code != 204:
            raise SystemExit(f"{path}: HTTP {response.status_code} {response.data[:200]!r}")


def timed(send, paths, requests, rounds=7):
    """{path: (median wall ms, min wall ms, median CPU ms, min CPU ms)} per request.

    Batches of the endpoints alternate, so a machine busy with other work slows both alike;
    the minimum is the least disturbed batch.
    """
    samples = {path: [] for path in paths}
    for _ in range(rounds):
        for path in paths:
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(requests // rounds):
                send(path)
            samples[path].append(((time.perf_counter() - wall) * 1000 / (requests // rounds),
                                  (time.process_time() - cpu) * 1000 / (requests // rounds)))
    return {path: (statistics.median(w for w, _ in got), min(w for w, _ in got),
                   statistics.median(c for _, c in got), min(c for _, c in got))
            for path, got in samples.items()}


# Where a beacon's CPU goes, by function (file suffix, function name) -> label.
BREAKDOWN = [
    (("flask/app.py", "wsgi_app"), "the whole request inside Flask (wsgi_app)"),
    (("supportapp/blueprints/tracking.py", "events"), "  the view"),
    (("supportapp/rate_limits.py", "charge"), "    rate limit (off in the bench app)"),
    (("supportapp/services/beacon.py", "is_bot"), "    is_bot (lru_cache)"),
    (("supportapp/services/beacon.py", "parse_beacon"), "    parse_beacon"),
    (("supportapp/services/beacon.py", "beacon_events"), "    beacon_events (lookups)"),
    (("supportapp/services/tracking.py", "record_events"), "    record_events"),
    (("supportapp/services/tracking.py", "_new_dedup_keys"), "      dedup INSERT..RETURNING"),
    (("sqlalchemy/sql/compiler.py", "__init__"), "        SQL compilation (cache misses)"),
    (("sqlalchemy/orm/bulk_persistence.py", "_bulk_insert"), "      inbox INSERT (ORM bulk)"),
    (("sqlalchemy/orm/scoping.py", "commit"), "      COMMIT"),
    (("sqlalchemy/pool/base.py", "_checkout"), "      pool checkout (incl. pre-ping)"),
    (("sqlalchemy/engine/default.py", "_do_ping_w_event"), "        pre-ping (SELECT 1)"),
    (("flask/app.py", "do_teardown_appcontext"), "  app-context teardown (session)"),
    (("flask/app.py", "finalize_request"), "  finalize_request (after_request hooks)"),
]


def breakdown(stats, requests):
    rows = []
    for (suffix, name), label in BREAKDOWN:
        cum = sum(ct for (filename, _line, func), (_cc, _nc, _tt, ct, _callers)
                  in stats.stats.items() if filename.endswith(suffix) and func == name)
        rows.append((label, cum * 1000 / requests))
    return rows


def sql_trace(app, send):
    """The statements one beacon sends, with their wall time."""
    from supportapp.extensions import db

    with app.app_context():
        engine = db.engine
    with timed_statements(engine) as seen:
        send("/api/events")
        seen.clear()
        started = time.perf_counter()
        send("/api/events")
        total = time.perf_counter() - started
    return total, [(seconds, " ".join(statement.split())[:110])
                   for seconds, statement, _parameters in seen]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"))
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--pg-database", default=PG_DATABASE,
                        help=f"throwaway PostgreSQL database (default {PG_DATABASE})")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--timer", choices=("cpu", "wall"), default="cpu",
                        help="what cProfile measures: process CPU time (default) or wall time")
    args = parser.parse_args(argv)
    enter_project()
    database = default_database(args.database)
    with Database(database, prefix="beacon-profile-", pg_name=args.pg_database) as db_handle:
        migrate_and_seed(dict(os.environ, DATABASE_URL=db_handle.url))
        targets = AppDb(db_handle.url).targets()
        os.environ["DATABASE_URL"] = db_handle.url
        from beacon_app import app

        try:
            send = Sender(app.test_client(), targets)
            for _ in range(300):
                send("/api/events")  # warm-up: pool, caches, lookups
                send("/bench/bare")
            print(f"database: {db_handle.label}; {args.requests} requests per endpoint, "
                  f"one thread, Flask test client")
            timings = timed(send, ("/bench/bare", "/api/events"), args.requests)
            for path, (wall, wall_min, cpu, cpu_min) in timings.items():
                print(f"  {path:<12} wall {wall:6.2f} ms per request (best batch {wall_min:.2f}),"
                      f" CPU {cpu:6.2f} ms (best {cpu_min:.2f})")
            ratio = timings["/bench/bare"][3] / timings["/api/events"][3]
            print(f"  CPU-bound ceiling of events/bare (best batches): {ratio:.3f}")
            total, statements = sql_trace(app, send)
            print(f"\none beacon: {total * 1000:.2f} ms; its SQL statements:")
            for seconds, statement in statements:
                print(f"  {seconds * 1000:6.2f} ms  {statement}")
            timer = time.process_time if args.timer == "cpu" else time.perf_counter
            profiler = cProfile.Profile(timer)
            profiler.enable()
            for _ in range(args.requests):
                send("/api/events")
            profiler.disable()
            stats = pstats.Stats(profiler)
            rows = [(ct * 1000 / args.requests, tt * 1000 / args.requests, nc / args.requests,
                     func) for func, (_cc, nc, tt, ct, _callers) in stats.stats.items()]
            print(f"\nunder cProfile ({args.timer} time), ms per beacon (profiler overhead "
                  "inflates all figures alike):")
            for label, cum in breakdown(stats, args.requests):
                print(f"  {cum:7.3f}  {label}")
            print(f"\nunder cProfile ({args.timer} time), per beacon: top {args.top} by "
                  "cumulative ms")
            for cum, own, calls, func in sorted(rows, key=lambda r: r[0],
                                                reverse=True)[:args.top]:
                print(f"  {cum:7.3f} cum {own:7.3f} own {calls:5.1f} calls  {profile_label(func)}")
            print(f"\ntop {args.top} by own ms")
            for cum, own, calls, func in sorted(rows, key=lambda r: r[1],
                                                reverse=True)[:args.top]:
                print(f"  {own:7.3f} own {cum:7.3f} cum {calls:5.1f} calls  {profile_label(func)}")
        finally:
            release(app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
