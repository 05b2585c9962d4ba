"""Benchmark: what does counting one story page's "rendered" event cost in the background?

    .venv/bin/python bench/rollup_cost.py [--database postgresql|sqlite] [--events 5000]
                                          [--rounds 6] [--kind rendered|view]

Every story page that carries the appeal writes one "rendered" line to its process's event
journal, and a roll-up (the worker's, every few seconds) loads the lines into the archive
and the funnels. bench/appeal_page.py sees that work only as the flask worker's CPU beside
gunicorn's; this measures it alone, in-process, on a throwaway database (migrations +
seed; PostgreSQL, the production database, when 127.0.0.1:5432 answers, else SQLite).

Each round writes --events journal lines, each of a new reader as story pages do (or, with
--kind view, a beacon's "view" event of a new reader, made by the beacon's own code), with
reader and page view ids made by the app's own functions, then
rolls up once and takes the CPU time of that roll-up per event: in this process (Python,
SQLAlchemy, psycopg) and, on PostgreSQL, in the bench database's backends. The first
round warms up and is not counted; the median and the lowest of the others are printed
(the lowest is what the work costs when nothing else on the machine gets in its way).
No budget: the exit status is 0, or 2 when the benchmark could not run.
This is a benchmark, not a test: pytest does not collect it.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime

from beacon import AppDb
from benchdb import (
    PG_DATABASE,
    Database,
    app_env,
    default_database,
    enter_project,
    migrate_and_seed,
)
from benchkit import (
    BenchError,
    cpu_seconds,
    machine,
    pg_backends,
    run_or_exit,
    unwind_on_signals,
)

SETTLE_SECONDS = 0.3  # lets PostgreSQL's backend finish its share before it is read


def _rendered(n, targets):
    from supportapp.services.beacon import new_page_view_id
    from supportapp.services.reader_cookies import new_reader_id
    from supportapp.services.tracking import TrackedEvent

    return [TrackedEvent("rendered", 1, 1, 1 + n % 2, new_reader_id(),
                         page_view=new_page_view_id())]


def _view(n, targets):
    from supportapp.services.beacon import beacon_events, new_page_view_id
    from supportapp.services.reader_cookies import new_reader_id

    slug, appeal_id, variant_id = targets[n % len(targets)]
    beacon = {"pv": new_page_view_id(), "events": [
        {"type": "view", "story": slug, "appeal": appeal_id, "variant": variant_id}]}
    events = beacon_events(beacon, new_reader_id(), datetime.now(UTC).date(), 3600)
    if len(events) != 1:
        raise BenchError(f"the beacon code made {len(events)} events of a seeded target")
    return events


EVENTS_OF = {"rendered": _rendered, "view": _view}


def _write_lines(on_db, events, kind):
    """One journal line per event, as story pages (or beacons) write them: a new reader each."""
    from supportapp.services.event_journal import app_journal, journal_directory

    app = on_db.app
    journal, folder = app_journal(app), journal_directory(app)
    targets = on_db.targets() if kind == "view" else None
    make = EVENTS_OF[kind]
    for n in range(events):
        journal.append(make(n, targets), folder, app.config["TRACKING_JOURNAL_SECONDS"])


def _timed_roll_up(pg_name, events):
    """(Python µs, PostgreSQL µs) of CPU per event for one roll-up of `events` lines."""
    from supportapp.services.tracking import roll_up

    def backends():
        return sum(cpu_seconds(pid) for pid in pg_backends(pg_name)) if pg_name else 0.0

    time.sleep(SETTLE_SECONDS)
    python, postgres = time.process_time(), backends()
    counted = roll_up()
    time.sleep(SETTLE_SECONDS)
    python, postgres = time.process_time() - python, backends() - postgres
    if counted != events:
        raise BenchError(f"the roll-up counted {counted} events, not {events}")
    return python * 1e6 / events, postgres * 1e6 / events


def benchmark(args):
    with Database(args.database, prefix="rollup-bench-", pg_name=args.pg_name) as database:
        migrate_and_seed(app_env(database.url))
        enter_project()
        on_db = AppDb(database.url)
        # No flusher loads while lines are written: the roll-up loads them all.
        on_db.app.config["TRACKING_JOURNAL_SECONDS"] = 3600
        pg_name = args.pg_name if args.database == "postgresql" else None
        print(f"{database.label}; {database.server_version()}; {args.events} "
              f"{args.kind} events a round")
        print(f"machine: {machine(memory=False)} at start")
        rounds = []
        try:
            with on_db.app.app_context():
                for number in range(args.rounds + 1):
                    _write_lines(on_db, args.events, args.kind)
                    python, postgres = _timed_roll_up(pg_name, args.events)
                    label = "warm-up" if number == 0 else f"round {number}"
                    in_pg = f", PostgreSQL {postgres:6.1f} µs/event" if pg_name else ""
                    print(f"  {label:<8} Python {python:6.1f} µs/event{in_pg}", flush=True)
                    if number:
                        rounds.append((python, postgres))
        finally:
            on_db.close()
    return rounds


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"),
                        help="default: postgresql when 127.0.0.1:5432 answers, else sqlite")
    parser.add_argument("--pg-name", default=PG_DATABASE,
                        help=f"the throwaway PostgreSQL database's name (default {PG_DATABASE})")
    parser.add_argument("--events", type=int, default=5000, help="journal lines a round")
    parser.add_argument("--rounds", type=int, default=6, help="rounds after the warm-up")
    parser.add_argument("--kind", choices=tuple(EVENTS_OF), default="rendered",
                        help="a story page's event (default) or a beacon's")
    args = parser.parse_args(argv)
    if args.events < 1 or args.rounds < 1:
        parser.error("--events and --rounds must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    unwind_on_signals(sigterm_interrupts=True, restore_sigint=False)
    args.database = default_database(args.database)
    rounds = run_or_exit(benchmark, args, "the bench database dropped")
    for index, part in enumerate(("Python", "PostgreSQL")):
        if index and args.database != "postgresql":
            continue
        figures = [r[index] for r in rounds]
        print(f"{part:<10} µs per event: median {statistics.median(figures):.1f}, "
              f"lowest {min(figures):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
