"""Benchmark: do the reports stay fast when the event archive grows tenfold?

    .venv/bin/python bench/reports.py [--database postgresql|sqlite] [--runs 7] [--detail]
        [--stories 1000] [--page-budget-ms 100]

Builds a throwaway database (PostgreSQL database `bench_supportapp` at 127.0.0.1:5432 when
it answers, else SQLite files in a temporary folder) with one part per size: a schema
(PostgreSQL) or a file (SQLite), each migrated with `flask db upgrade`. Each part gets the
same 1,000 stories (--stories), 2 appeals x 2 variants and 20,000 paid contributions over the
last 365 days, and then its events (1,000,000 and 10,000,000 by default, --sizes):

* bulk-loaded into tracking_event (the archive) with INSERT ... SELECT on the database
  server (PostgreSQL generate_series, SQLite a recursive CTE), in time order over the last
  365 days, kinds 55% rendered / 35% view / 8% click / 2% checkout;
* added up into daily_funnel the way roll_up() does (one row per day, story and variant
  with the four counts), written in day order as daily roll-ups would have appended them,
  then VACUUM ANALYZE (PostgreSQL) or ANALYZE (SQLite).

The live appeal's two variants get the events. Every day every story x variant pair gets
events at each size, so daily_funnel has the same 730,000 rows (1,000 x 2 x 365) at 1M
and at 10M: ten times the events are ten times the
counts in the same rollup rows, as when traffic grows. It then times stories_table(90d)
and variants_table(appeal 1, 90d), each run in a fresh app context as a request would
have: one warm-up, then --runs runs per size, the sizes taking turns run by run so that a
machine busy with other work slows both alike; medians are compared. Reports read only
daily_funnel and contributions, so their time should not follow the archive: the budget
is that 10x the events costs at most 1.5x the time.

Then, at the largest size, two report pages as staff see them: the dashboard's stories page
and an appeal's variants page (default period, 30 days), each a GET through the app (the
Flask test client, a signed-in viewer: routing, login, queries, template, no network), one
warm-up then --runs runs; the budget is a median under 100 ms (--page-budget-ms). The pages
must only read: a statement that writes during them fails the benchmark. Exit 1 when a
budget is missed, 2 when the benchmark could not run. --detail adds, per size, each
report's time in SQL and the slowest statement's plan. The database is dropped (SQLite: the
folder deleted) on the way out, Ctrl-C included.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from benchdb import (
    AppOnDb,
    Database,
    app_env,
    default_database,
    enter_project,
    flask_cli,
    timed_statements,
)
from benchkit import BenchError, machine, run_or_exit, unwind_on_signals, verdict

STORIES = 1000
PAGE_BUDGET_MS = 100.0
WRITES = ("INSERT", "UPDATE", "DELETE")
DAYS = 365
CONTRIBUTIONS = 20_000
BUDGET = 1.5
CHUNK = 1_000_000

# One statement per chunk of ids [first, last]; total and days fix the time spread, so
# ids grow with time and every run of `combos` consecutive ids covers every pair.
EVENT_COLUMNS = "id, received_at, day, kind, story_id, appeal_id, variant_id, reader_id"
KIND_SQL = """CASE WHEN (g.n * 2654435761) % 100 < 55 THEN 'rendered'
                   WHEN (g.n * 2654435761) % 100 < 90 THEN 'view'
                   WHEN (g.n * 2654435761) % 100 < 98 THEN 'click'
                   ELSE 'checkout' END"""
POSTGRES_EVENTS = f"""
INSERT INTO tracking_event ({EVENT_COLUMNS})
SELECT g.n,
       CAST(:start AS timestamptz)
           + ((g.n - 1) * :days * 86400 / :total) * interval '1 second',
       CAST(:start AS date) + CAST((g.n - 1) * :days / :total AS integer),
       {KIND_SQL},
       c.story_id, c.appeal_id, c.variant_id,
       'reader-' || lpad(to_hex((g.n * 40503) % 1000003), 16, '0')
FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS g(n)
JOIN bench_combo AS c ON c.i = (g.n - 1) % :combos
"""
SQLITE_EVENTS = f"""
WITH RECURSIVE g(n) AS (SELECT :first UNION ALL SELECT n + 1 FROM g WHERE n < :last)
INSERT INTO tracking_event ({EVENT_COLUMNS})
SELECT g.n,
       datetime(:start, '+' || ((g.n - 1) * :days * 86400 / :total) || ' seconds')
           || '.000000',
       date(:start, '+' || ((g.n - 1) * :days / :total) || ' days'),
       {KIND_SQL},
       c.story_id, c.appeal_id, c.variant_id,
       'reader-' || printf('%016x', (g.n * 40503) % 1000003)
FROM g JOIN bench_combo AS c ON c.i = (g.n - 1) % :combos
"""
FUNNELS = """
INSERT INTO daily_funnel (day, story_id, variant_id, appeal_id,
                          rendered, viewable, clicks, checkouts)
SELECT day, story_id, variant_id, MAX(appeal_id),
       SUM(CASE WHEN kind = 'rendered' THEN 1 ELSE 0 END),
       SUM(CASE WHEN kind = 'view' THEN 1 ELSE 0 END),
       SUM(CASE WHEN kind = 'click' THEN 1 ELSE 0 END),
       SUM(CASE WHEN kind = 'checkout' THEN 1 ELSE 0 END)
FROM tracking_event GROUP BY day, story_id, variant_id
ORDER BY day, story_id, variant_id
"""


class Bench(AppOnDb):
    """The app in this process on the bench database, with the fixed part of the data."""

    def __init__(self, kind, url, today, stories=STORIES):
        self.kind, self.url = kind, url
        self.stories = stories
        self.today = today
        self.start = today - timedelta(days=DAYS - 1)
        super().__init__(url)

    def db(self):
        from supportapp.extensions import db

        return db

    def setup(self):
        """Stories, appeals and variants, the story x variant pairs, contributions."""
        from sqlalchemy import insert, text

        from supportapp.models import Appeal, AppealVariant, Contribution, Story

        db = self.db()
        with self.app.app_context():
            published = datetime.combine(self.start, datetime.min.time(), UTC)
            db.session.add_all(
                Story(slug=f"bench-story-{n:03d}", title=f"Bench story {n}",
                      section=("news", "local-government", "environment", "sport")[n % 4],
                      published_at=published, body_html=f"<p>Story {n}.</p>")
                for n in range(1, self.stories + 1))
            for number, status in ((1, "live"), (2, "ended")):
                appeal = Appeal(name=f"Bench appeal {number}", status=status,
                                target_sections=[], excluded_sections=[])
                for name in ("control", "challenger"):
                    appeal.variants.append(AppealVariant(
                        name=name, heading="Since you're here", body="<p>Support us.</p>",
                        cta_label="Give", preset_amounts={}, default_frequency="monthly",
                        weight=1, is_control=name == "control"))
                db.session.add(appeal)
            db.session.commit()
            stories = db.session.scalars(text("SELECT id FROM story ORDER BY id")).all()
            variants = db.session.execute(
                text("SELECT id, appeal_id FROM appeal_variant ORDER BY id")).all()
            self.appeal_id = variants[0][1]
            # The live appeal's two variants get the traffic (the ended one has only its
            # payments): 2,000 pairs a day, fewer than the 2,740 events a day of 1M.
            live = [v for v in variants if v[1] == self.appeal_id]
            combos = [(i, stories[i % len(stories)], *live[i // len(stories)][::-1])
                      for i in range(len(stories) * len(live))]
            self.combos = len(combos)
            db.session.execute(text("CREATE TABLE bench_combo (i INTEGER PRIMARY KEY, "
                                    "story_id INTEGER, appeal_id INTEGER, variant_id INTEGER)"))
            db.session.execute(text("INSERT INTO bench_combo VALUES (:i, :s, :a, :v)"),
                               [dict(zip("isav", c, strict=True)) for c in combos])
            db.session.execute(insert(Contribution.__table__),
                               self._contributions(stories, variants))
            db.session.commit()

    def _contributions(self, stories, variants):
        rng = random.Random(2026)
        start = datetime.combine(self.start, datetime.min.time(), UTC)
        rows = []
        for _ in range(CONTRIBUTIONS):
            paid = start + timedelta(seconds=rng.randrange(DAYS * 86400))
            frequency = rng.choices(("one_off", "monthly", "annual"), (50, 40, 10))[0]
            reason = None if frequency == "one_off" else rng.choice(
                ("subscription_create", "subscription_cycle"))
            amount = rng.choice((500, 1000, 2500, 5000, 10000))
            variant_id, appeal_id = rng.choice(variants)
            rows.append({
                "amount_minor": amount, "currency": rng.choices(("USD", "EUR", "GBP"),
                                                                (80, 10, 10))[0],
                "frequency": frequency, "status": "paid",
                "amount_refunded_minor": amount if rng.random() < 0.02 else 0,
                "covers_fees": rng.random() < 0.3, "billing_reason": reason,
                "story_id": rng.choice(stories) if rng.random() < 0.9 else None,
                "appeal_id": appeal_id, "variant_id": variant_id,
                "reader_id": f"reader-{rng.randrange(10**12):016x}",
                "created_at": paid, "updated_at": paid, "paid_at": paid,
            })
        return rows

    def load_events(self, total):
        """Load `total` events and their rollups; returns seconds taken."""
        from sqlalchemy import text

        db = self.db()
        postgres = self.kind == "postgresql"
        started = time.monotonic()
        with self.app.app_context():
            for first in range(1, total + 1, CHUNK):
                last = min(first + CHUNK - 1, total)
                with db.engine.begin() as conn:
                    if postgres:
                        # A bulk load, not the beacon: the commit need not wait for the disk.
                        conn.execute(text("SET LOCAL synchronous_commit = off"))
                    conn.execute(text(POSTGRES_EVENTS if postgres else SQLITE_EVENTS), {
                        "first": first, "last": last, "total": total, "days": DAYS,
                        "combos": self.combos, "start": self.start.isoformat()})
                print(f"    {last:>11,} events loaded ({time.monotonic() - started:.0f} s)",
                      flush=True)
            with db.engine.begin() as conn:
                if postgres:
                    conn.execute(text("SET LOCAL work_mem = '256MB'"))
                conn.execute(text(FUNNELS))
            self._analyze()
        return time.monotonic() - started

    def _analyze(self):
        from sqlalchemy import text

        db = self.db()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if self.kind == "postgresql":
                # What autovacuum would have done by the time anyone reads a report.
                conn.execute(text("VACUUM (ANALYZE) tracking_event, daily_funnel, contribution"))
            else:
                conn.execute(text("ANALYZE"))

    def counts(self):
        from sqlalchemy import text

        db = self.db()
        period_start = self.today - timedelta(days=89)
        with self.app.app_context():
            one = db.session.scalar
            result = {
                "events": one(text("SELECT COUNT(*) FROM tracking_event")),
                "funnel_rows": one(text("SELECT COUNT(*) FROM daily_funnel")),
                "funnel_rows_90d": one(text("SELECT COUNT(*) FROM daily_funnel "
                                            "WHERE day >= :d"), {"d": period_start}),
                "counted": one(text("SELECT SUM(rendered + viewable + clicks + checkouts) "
                                    "FROM daily_funnel")),
                "contributions": one(text("SELECT COUNT(*) FROM contribution")),
            }
            if self.kind == "postgresql":
                result["size"] = one(text(
                    "SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class AS c JOIN "
                    "pg_namespace AS n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind = 'r'"))
            else:
                path = self.url.removeprefix("sqlite:///")
                result["size"] = sum(os.path.getsize(p) for p in (path, f"{path}-wal")
                                     if os.path.exists(p))
        return result

    def reports(self):
        """{name: callable} for the two reports over the last 90 days."""
        from supportapp.services.periods import parse_period
        from supportapp.services.reports import stories_table, variants_table

        period = parse_period("90d", None, None, self.today)
        return {
            "stories_table(90d)": lambda: stories_table(period),
            "variants_table(appeal 1, 90d)": lambda: variants_table(self.appeal_id, period),
        }

    def run_report(self, name):
        """Seconds for one run of a report, in a fresh app context as for a request,
        computed afresh (as after each roll-up): the app's report cache is emptied first."""
        from supportapp.caches import app_caches

        db = self.db()
        report = self.reports()[name]
        with self.app.app_context():
            app_caches().report_tables.clear()
            started = time.perf_counter()
            rows = report()
            elapsed = time.perf_counter() - started
            db.session.remove()
        if not rows:
            raise BenchError(f"{name} returned no rows")
        return elapsed

    def sign_in(self):
        """A test client signed in as a viewer, as staff use the dashboard."""
        from supportapp.services.staff import create_staff

        with self.app.app_context():
            staff_id = create_staff("bench@newsroom.example", "bench-password-not-secret",
                                    "viewer").id
        self.client = self.app.test_client()
        with self.client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = str(staff_id), True

    def pages(self):
        """{name: URL} of the report pages timed at the largest size."""
        return {"stories page": "/dashboard/stories",
                "variants page": f"/dashboard/appeals/{self.appeal_id}"}

    def run_page(self, name, seen):
        """Seconds for one GET of a page; it must answer 200 and only read."""
        before = len(seen)
        started = time.perf_counter()
        response = self.client.get(self.pages()[name])
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise BenchError(f"{name} answered {response.status_code}")
        writes = [s for _t, s, _p in seen[before:] if s.lstrip().upper().startswith(WRITES)]
        if writes:
            raise BenchError(f"{name} wrote to the database: {' '.join(writes[0].split())[:80]}")
        return elapsed

    def detail(self):
        """One more run of each report with its SQL timed, and the slowest statement's plan."""
        from supportapp.caches import app_caches
        from supportapp.services.periods import parse_period
        from supportapp.services.reports import stories_table, variants_table

        db = self.db()
        period = parse_period("90d", None, None, self.today)
        with self.app.app_context():
            engine = db.engine

        for name, report in (("stories_table", lambda: stories_table(period)),
                             ("variants_table", lambda: variants_table(self.appeal_id,
                                                                       period))):
            with timed_statements(engine) as seen, self.app.app_context():
                app_caches().report_tables.clear()
                started = time.perf_counter()
                report()
                total = time.perf_counter() - started
                db.session.remove()
            sql = sum(seconds for seconds, _s, _p in seen)
            # SQLite does much of a SELECT's work while rows are fetched: that counts as rest.
            print(f"    {name}: {total * 1000:.1f} ms, of which {sql * 1000:.1f} ms in "
                  f"{len(seen)} cursor.execute calls, {(total - sql) * 1000:.1f} ms the rest "
                  "(fetching, ORM, Python)")
            for seconds, statement, _params in sorted(seen, key=lambda s: s[0],
                                                      reverse=True)[:3]:
                print(f"      {seconds * 1000:7.1f} ms  {' '.join(statement.split())[:120]}")
            if self.kind == "postgresql" and seen:
                _seconds, statement, params = max(seen, key=lambda s: s[0])
                with engine.connect() as conn:
                    cursor = conn.connection.dbapi_connection.cursor()
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
                    for (line,) in cursor.fetchall():
                        print(f"        {line}")


def benchmark(args):
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    benches = {}
    with Database(args.database, prefix="reports-bench-") as database:
        print(f"database: {database.label} ({database.server_version()}), one "
              f"{'schema' if args.database == 'postgresql' else 'file'} per size")
        print(f"machine: {machine()} at start")
        today = datetime.now(UTC).date()
        try:
            for size in sizes:
                url = database.part(f"events_{size}")
                flask_cli(app_env(url, SUPPORTAPP_LOG_LEVEL="WARNING"), "db", "upgrade")
                bench = benches[size] = Bench(args.database, url, today, args.stories)
                bench.setup()
                if size == sizes[0]:
                    print(f"{args.stories:,} stories, 2 appeals x 2 variants, {CONTRIBUTIONS:,} "
                          f"contributions, events over {DAYS} days ({bench.start} to "
                          f"{today}); reports over the last 90 days")
                print(f"\n{size:,} events:")
                seconds = bench.load_events(size)
                counts = bench.counts()
                if counts["counted"] != size or counts["events"] != size:
                    raise BenchError(f"loaded {counts['events']} events, rollups count "
                                     f"{counts['counted']}; expected {size}")
                print(f"  loaded in {seconds:.0f} s ({size / seconds:,.0f} events/s): "
                      f"{counts['events']:,} archived events, {counts['funnel_rows']:,} "
                      f"daily_funnel rows ({counts['funnel_rows_90d']:,} in the period), "
                      f"{counts['contributions']:,} contributions, "
                      f"{counts['size'] / 2**20:,.0f} MiB on disk", flush=True)
            results = time_interleaved(benches, sizes, args.runs)
            pages = time_pages(benches[sizes[-1]], sizes[-1], args.runs)
            if args.detail:
                for size in sizes:
                    print(f"\ndetail, {size:,} events:")
                    benches[size].detail()
        finally:
            for bench in benches.values():
                bench.close()
    return sizes, results, pages


def time_pages(bench, size, runs):
    """{page: [seconds]} at one size: one warm-up, then `runs` GETs of each page.

    The warm-up is the first view after a roll-up: it computes the report and the app keeps
    it for its data stamp; the timed runs are the views that follow until the next one."""
    print(f"\npages at {size:,} events ({bench.stories:,} stories), through the app as a "
          f"signed-in viewer: one warm-up (the report computed), then {runs} runs each")
    bench.sign_in()
    with bench.app.app_context():
        engine = bench.db().engine
    times = {}
    with timed_statements(engine) as seen:
        for name in bench.pages():
            first = bench.run_page(name, seen)
            times[name] = [bench.run_page(name, seen) for _ in range(runs)]
            print(f"  {name:<30} first {first * 1000:8.1f} ms, then "
                  f"{statistics.median(times[name]) * 1000:.1f} ms median (min "
                  f"{min(times[name]) * 1000:.1f}, max {max(times[name]) * 1000:.1f})")
    return times


def time_interleaved(benches, sizes, runs):
    """{size: {report: [seconds]}}: runs alternate between the sizes (ABBA order)."""
    print(f"\ntiming: one warm-up, then {runs} runs of each report per size, the sizes "
          "taking turns run by run")
    names = list(benches[sizes[0]].reports())
    results = {size: {name: [] for name in names} for size in sizes}
    for name in names:
        for size in sizes:
            benches[size].run_report(name)  # warm-up: caches and the connection pool
        for run in range(runs):
            for size in (sizes if run % 2 == 0 else sizes[::-1]):
                results[size][name].append(benches[size].run_report(name))
    for size in sizes:
        for name in names:
            times = results[size][name]
            print(f"  {size:>11,} events  {name:<30} {statistics.median(times) * 1000:8.1f} "
                  f"ms median (min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f})")
    return results


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"),
                        help="default: postgresql when 127.0.0.1:5432 answers, else sqlite")
    parser.add_argument("--sizes", default="1000000,10000000",
                        help="comma-separated event counts, smallest first "
                             "(default 1000000,10000000)")
    parser.add_argument("--runs", type=int, default=7,
                        help="timed runs of each report per size (default 7)")
    parser.add_argument("--budget", type=float, default=BUDGET,
                        help=f"largest acceptable time ratio largest/smallest (default {BUDGET})")
    parser.add_argument("--stories", type=int, default=STORIES,
                        help=f"stories with events every day (default {STORIES:,})")
    parser.add_argument("--page-budget-ms", type=float, default=PAGE_BUDGET_MS,
                        help=f"largest acceptable median page time at the largest size "
                             f"(default {PAGE_BUDGET_MS:g})")
    parser.add_argument("--detail", action="store_true",
                        help="also print each report's SQL time and the slowest plan")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.stories < 1:
        parser.error("--stories must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    unwind_on_signals()
    enter_project()
    args.database = default_database(args.database)
    sizes, results, pages = run_or_exit(benchmark, args, "database dropped")
    small, large = sizes[0], sizes[-1]
    print(f"\n{large:,} vs {small:,} events ({large / small:g}x the events), medians:")
    failures = []
    for name in results[small]:
        before = statistics.median(results[small][name])
        after = statistics.median(results[large][name])
        ratio = after / before
        print(f"  {name:<30} {before * 1000:8.1f} ms -> {after * 1000:8.1f} ms  "
              f"ratio {ratio:.2f}  (budget <= {args.budget:g})")
        if ratio > args.budget:
            failures.append(f"{name} ratio {ratio:.2f} > {args.budget:g}")
    print(f"\nreport pages at {large:,} events, medians:")
    for name, times in pages.items():
        median_ms = statistics.median(times) * 1000
        print(f"  {name:<30} {median_ms:8.1f} ms  (budget < {args.page_budget_ms:g} ms)")
        if median_ms >= args.page_budget_ms:
            failures.append(f"{name} {median_ms:.1f} ms >= {args.page_budget_ms:g} ms")
    return verdict(failures, f"{large / small:g}x the events costs at most {args.budget:g}x "
                             f"the time, and each report page answers in under "
                             f"{args.page_budget_ms:g} ms")


if __name__ == "__main__":
    sys.exit(main())
