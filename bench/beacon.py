"""Benchmark: how many beacon events can the app take, and does it keep every one it answers?

    .venv/bin/python bench/beacon.py [--database postgresql|sqlite] [--duration 10]
                                     [--concurrency 8] [--rounds 3] [--kill-duration 6]
                                     [--pg-database bench_supportapp]
                                     [--rollup worker|thread]
                                     [--worker-class sync|gthread --threads 4]

Builds a throwaway database (PostgreSQL database `bench_supportapp`, or --pg-database, at
127.0.0.1:5432 when it answers, else SQLite in a temporary folder; `flask db upgrade` +
`flask seed`), serves `bench/beacon_app.py` with gunicorn (2 workers of the class the
README's production command runs, sync; 127.0.0.1, a free port) and drives it from a
separate load-generator process (http.client connections, one thread each, kept alive where
the worker class allows: sync workers close each connection after its answer). Every beacon
carries one "view" event with a fresh reader id and page view id, for a seeded story and a
variant of the live appeal, so every event is new. A `flask worker` runs beside gunicorn,
as in the README's production set-up: it loads the web workers' journals and rolls up
(`--rollup thread` leaves both to the gunicorn workers, as when no worker runs).

1. throughput: POST /api/events and POST /bench/bare (same body; a route of the same app
   that only answers 204) take turns for --rounds rounds of --duration seconds after a
   warm-up. Prints events/s and requests/s (medians), their ratio (budget: at least 0.8)
   and the CPU per request used by the gunicorn workers, the flask worker and the bench
   database's PostgreSQL backends, which a machine busy with other work disturbs far less than
   throughput. Rate limiting is off in bench/beacon_app.py: the beacon limit (600/min
   per address) exists to refuse exactly this one-address flood.
2. durability: runs roll_up() and checks, reader id by reader id, that every event that
   got a 204 is in tracking_event or tracking_inbox ("lost" must be 0).
3. crash: beacons again for --kill-duration seconds and SIGKILLs one gunicorn worker part
   way through. Every event answered 204 must still be stored; requests that got no
   answer may or may not be, and are reported as failed.

Exit status: 0 when the ratio meets the budget and nothing answered was lost, 1 when not,
2 when the benchmark itself could not run. Everything it starts (gunicorn, the load
generator, the database) is stopped or dropped on the way out, Ctrl-C included.
--app runs another WSGI app (which must also serve /bench/bare) to try a change out.
This is a benchmark, not a test: pytest does not collect it.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import signal
import statistics
import sys
import threading
import time
from pathlib import Path

from benchdb import (
    PG_DATABASE,
    AppOnDb,
    Database,
    app_env,
    default_database,
    enter_project,
    migrate_and_seed,
)
from benchkit import (
    ROLLUP_WHERE,
    BenchError,
    Connection,
    FlaskWorker,
    Gunicorn,
    LoadGenerator,
    add_load_options,
    add_rollup_option,
    cpu_seconds,
    machine,
    parse_load_args,
    pg_backends,
    run_clients,
    run_or_exit,
    unwind_on_signals,
    verdict,
)

BUDGET = 0.8
USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0 Safari/537.36")
HEADERS = {
    "Host": "127.0.0.1",
    "User-Agent": USER_AGENT,
    "Content-Type": "text/plain;charset=UTF-8",  # what navigator.sendBeacon sends
    "Connection": "keep-alive",
}


# --------------------------------------------------------------------------- load generator


def run_load(port, path, prefix, targets, warmup, duration, concurrency, out_path):
    """POST beacons with `concurrency` keep-alive clients; returns counts as a dict.

    Runs in its own process (`--load-generator`). Each request has a reader id and page
    view id never used before; the reader ids of all requests answered 204 (warm-up
    included) go to out_path, one a line. Failed requests are not retried.
    """
    start = time.monotonic()
    window_start, window_end = start + warmup, start + warmup + duration
    lock = threading.Lock()
    totals = {"in_window": 0, "answered": 0, "failed": 0, "other_status": {},
              "latency_sum": 0.0, "first_problem": None}
    answered = []

    def client(index):
        conn = Connection(port)
        number = 0
        mine, in_window, latency_sum, failed, other = [], 0, 0.0, 0, {}
        problem = None
        while time.monotonic() < window_end:
            number += 1
            reader = f"{prefix}-{index:03d}-{number:010d}"
            slug, appeal_id, variant_id = targets[(index + number) % len(targets)]
            body = json.dumps({"pv": f"pv-{reader}", "reader": reader, "events": [
                {"type": "view", "story": slug, "appeal": appeal_id, "variant": variant_id}]})
            sent = time.monotonic()
            try:
                response, _body = conn.request("POST", path, body=body.encode(),
                                               headers=HEADERS)
            except (OSError, http.client.HTTPException) as exc:
                failed += 1
                problem = problem or f"{type(exc).__name__}: {exc}"
                time.sleep(0.01)
                continue
            done = time.monotonic()
            if response.status != 204:
                other[response.status] = other.get(response.status, 0) + 1
                problem = problem or f"HTTP {response.status} from {path}"
                continue
            mine.append(reader)
            if window_start <= done < window_end:
                in_window += 1
                latency_sum += done - sent
        conn.close()
        with lock:
            answered.extend(mine)
            totals["in_window"] += in_window
            totals["latency_sum"] += latency_sum
            totals["failed"] += failed
            for status, count in other.items():
                totals["other_status"][str(status)] = (
                    totals["other_status"].get(str(status), 0) + count)
            totals["first_problem"] = totals["first_problem"] or problem

    if not run_clients(client, concurrency, window_end):
        raise BenchError("a load-generator thread did not finish")
    Path(out_path).write_text("".join(f"{r}\n" for r in answered))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    in_window = totals.pop("in_window")
    latency_sum = totals.pop("latency_sum")
    return dict(totals, answered=len(answered), in_window=in_window, duration=duration,
                per_second=in_window / duration,
                mean_latency_ms=latency_sum / in_window * 1000 if in_window else None,
                client_cpu_seconds=usage.ru_utime + usage.ru_stime,
                client_seconds=time.monotonic() - start)


# --------------------------------------------------------------------------- database


class AppDb(AppOnDb):
    """The app in this process, on the bench database: targets, roll-up, stored events."""

    def targets(self):
        """[(story slug, appeal id, variant id)] for every seeded story x live variant."""
        from sqlalchemy import select

        from supportapp.extensions import db
        from supportapp.models import Appeal, AppealVariant, Story

        with self.app.app_context():
            slugs = db.session.scalars(select(Story.slug).order_by(Story.id)).all()
            variants = db.session.execute(
                select(AppealVariant.appeal_id, AppealVariant.id).join(Appeal)
                .where(Appeal.status == "live").order_by(AppealVariant.id)).all()
        if not slugs or not variants:
            raise BenchError(f"the seed left {len(slugs)} stories and {len(variants)} "
                             "live variants; need at least one of each")
        return [(slug, appeal_id, variant_id)
                for slug in slugs for appeal_id, variant_id in variants]

    def roll_up(self):
        from supportapp.services.tracking import roll_up

        with self.app.app_context():
            started = time.monotonic()
            moved = roll_up()
            return moved, time.monotonic() - started

    def stored_view_readers(self):
        """Reader ids of stored view events (archive and inbox), with duplicates counted."""
        from sqlalchemy import select, union_all

        from supportapp.extensions import db
        from supportapp.models import TrackingEvent, TrackingInbox

        with self.app.app_context():
            query = union_all(
                select(TrackingEvent.reader_id).where(TrackingEvent.kind == "view"),
                select(TrackingInbox.reader_id).where(TrackingInbox.kind == "view"))
            readers = db.session.scalars(query).all()
        return readers


# --------------------------------------------------------------------------- orchestration


class CpuMeter:
    """CPU used by the gunicorn workers, the `flask worker` (if any) and the bench
    database's backends during a run.

    CPU per request does not depend on how busy the machine is with other work, so it
    says what a beacon costs more steadily than requests per second do.
    """

    def __init__(self, server, pg_name, worker=None):
        self.server, self.pg_name, self.worker = server, pg_name, worker
        self.start = self._read()

    def _read(self):
        workers = [self.worker.process.pid] if self.worker is not None else []
        return {"gunicorn": {p: cpu_seconds(p) for p in self.server.worker_pids()},
                "flask worker": {p: cpu_seconds(p) for p in workers},
                "postgres": {p: cpu_seconds(p) for p in pg_backends(self.pg_name)}}

    def per_request(self, requests):
        """{"gunicorn": ms, "postgres": ms} of CPU per request since the meter started."""
        end = self._read()
        return {part: sum(end[part][p] - self.start[part].get(p, 0.0)
                          for p in end[part]) * 1000 / max(requests, 1)
                for part in end}


class LoadRun:
    """One load-generator process (this script with --load-generator)."""

    def __init__(self, args, port, path, prefix, targets, tmp, duration, warmup):
        self.out = Path(tmp) / f"answered-{prefix}.txt"
        options = ["--port", str(port), "--path", path, "--prefix", prefix,
                   "--targets", json.dumps(targets), "--warmup", str(warmup),
                   "--duration", str(duration), "--concurrency", str(args.concurrency),
                   "--out", str(self.out)]
        self.generator = LoadGenerator(__file__, options, timeout=warmup + duration + 60)

    def result(self):
        stats = self.generator.result()
        stats["readers"] = self.out.read_text().split()
        return stats


def _describe(stats, unit):
    latency = stats["mean_latency_ms"]
    extra = f", mean latency {latency:.2f} ms" if latency is not None else ""
    problems = ""
    if stats["failed"] or stats["other_status"]:
        problems = (f", {stats['failed']} failed requests, other answers "
                    f"{stats['other_status'] or 'none'} (first: {stats['first_problem']})")
    client_cpu = stats["client_cpu_seconds"] / stats["client_seconds"]
    return (f"{stats['per_second']:8.1f} {unit}  ({stats['in_window']} answered 204 in "
            f"{stats['duration']:g} s{extra}; load generator used {client_cpu:.0%} of a core"
            f"{problems})")


def check_stored(appdb, prefixes, stats_by_prefix):
    """Compare answered reader ids with stored ones, per load run; returns {prefix: dict}."""
    # Answered beacons wait in the workers' journals for up to a second before the workers
    # load them into the database; give them that, then roll up.
    time.sleep(2.5)
    moved, seconds = appdb.roll_up()
    print(f"roll_up(): moved {moved} events to tracking_event + daily_funnel in {seconds:.2f} s")
    stored = appdb.stored_view_readers()
    stored_set = set(stored)
    duplicates = len(stored) - len(stored_set)
    report = {}
    for prefix in prefixes:
        answered = set(stats_by_prefix[prefix]["readers"])
        mine = {r for r in stored_set if r and r.startswith(f"{prefix}-")}
        report[prefix] = {"answered": len(answered), "stored": len(mine),
                          "lost": len(answered - mine), "stored_unanswered": len(mine - answered),
                          "failed": stats_by_prefix[prefix]["failed"],
                          "duplicates": duplicates}
    return report


def benchmark(args):
    """Returns (events per second, bare per second, durability report, crash report)."""
    with Database(args.database, prefix="beacon-bench-", pg_name=args.pg_database) as database:
        tmp = database.tmp
        env = app_env(database.url, SUPPORTAPP_LOG_LEVEL="WARNING")
        migrate_and_seed(env)
        appdb = AppDb(database.url)
        try:
            targets = appdb.targets()
            print(f"database: {database.label} ({database.server_version()})")
            print(f"gunicorn --workers {args.workers} --threads {args.threads} --worker-class "
                  f"{args.worker_class} {args.app}; {args.concurrency} clients; "
                  f"{len(targets)} story x variant targets; {args.warmup:g} s warm-up + "
                  f"{args.duration:g} s per run; {args.rounds} round(s); roll-ups in "
                  f"{ROLLUP_WHERE[args.rollup]}")
            print(f"machine: {machine()} at start")
            worker, env = FlaskWorker.for_rollup(args.rollup, env, Path(tmp) / "worker.log")
            server = Gunicorn(env, Path(tmp) / "gunicorn.log", args.app,
                              "--workers", str(args.workers), "--threads", str(args.threads),
                              "--worker-class", args.worker_class, log_in_errors=False)
            try:
                server.wait_healthy(workers=args.workers)
                events, bare, stats_by_prefix = _throughput(args, server, targets, tmp, worker)
                durability = check_stored(appdb, list(stats_by_prefix), stats_by_prefix)
                crash = _crash_phase(args, server, targets, tmp, appdb)
                if worker is not None:
                    worker.check_running()
            finally:
                server.stop()
                if worker is not None:
                    worker.stop()
        finally:
            appdb.close()
    return events, bare, durability, crash


def _throughput(args, server, targets, tmp, worker=None):
    events, bare, stats_by_prefix = [], [], {}
    cpu = {"events": [], "bare": []}
    for round_number in range(1, args.rounds + 1):
        order = ("events", "bare") if round_number % 2 else ("bare", "events")
        for phase in order:
            path = "/api/events" if phase == "events" else "/bench/bare"
            prefix = f"{'e' if phase == 'events' else 'b'}{round_number}"
            meter = CpuMeter(server, args.pg_database, worker)
            stats = LoadRun(args, server.port, path, prefix, targets, tmp, args.duration,
                            args.warmup).result()
            stats["cpu_ms"] = meter.per_request(stats["answered"])
            cpu[phase].append(stats["cpu_ms"])
            if stats["failed"] or stats["other_status"] or not stats["in_window"]:
                raise BenchError(f"{path}: {_describe(stats, 'per s')}")
            if phase == "events":
                events.append(stats["per_second"])
                stats_by_prefix[prefix] = stats
                print(f"  round {round_number} POST /api/events: {_describe(stats, 'events/s')}",
                      flush=True)
            else:
                bare.append(stats["per_second"])
                print(f"  round {round_number} POST /bench/bare: "
                      f"{_describe(stats, 'requests/s')}", flush=True)
    for phase, path in (("events", "/api/events"), ("bare", "/bench/bare")):
        gunicorn = statistics.median(c["gunicorn"] for c in cpu[phase])
        postgres = statistics.median(c["postgres"] for c in cpu[phase])
        flask_worker = statistics.median(c["flask worker"] for c in cpu[phase])
        in_postgres = (f", {postgres:.2f} ms in PostgreSQL backends"
                       if args.database == "postgresql" else "")
        in_worker = f", {flask_worker:.3f} ms in the flask worker" if worker is not None else ""
        print(f"  CPU per request (medians), {path}: {gunicorn:.2f} ms in gunicorn workers"
              f"{in_worker}{in_postgres}")
    return statistics.median(events), statistics.median(bare), stats_by_prefix


def _crash_phase(args, server, targets, tmp, appdb):
    """Beacons while one worker is SIGKILLed; returns the stored-vs-answered report."""
    if args.kill_duration <= 0:
        return None
    print(f"\ncrash phase: {args.kill_duration:g} s of beacons, one worker SIGKILLed after "
          f"{args.kill_duration * 0.4:.1f} s")
    run = LoadRun(args, server.port, "/api/events", "k1", targets, tmp, args.kill_duration, 0)
    killed = None
    try:
        time.sleep(args.kill_duration * 0.4)
        workers = server.worker_pids()
        if not workers:
            raise BenchError("no gunicorn worker to kill")
        killed = workers[0]
        os.kill(killed, signal.SIGKILL)  # a worker of the gunicorn this script started
    finally:
        stats = run.result()
    print(f"  killed worker pid {killed}; gunicorn workers now {server.worker_pids()}")
    print(f"  POST /api/events: {_describe(stats, 'events/s')}")
    return check_stored(appdb, ["k1"], {"k1": stats})["k1"]


def _print_report(name, report):
    print(f"  {name}: answered 204: {report['answered']}, stored: {report['stored']}, "
          f"lost: {report['lost']}, stored without an answer: {report['stored_unanswered']}, "
          f"failed requests: {report['failed']}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"),
                        help="default: postgresql when 127.0.0.1:5432 answers, else sqlite")
    add_load_options(parser, concurrency=8, run="throughput run",
                     warmup="before each throughput run", rounds="throughput runs of each endpoint")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    # The production command's workers (README, "Production"): sync, one thread each.
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per gunicorn worker (default 1)")
    parser.add_argument("--worker-class", default="sync",
                        help="gunicorn worker class (default sync, as in production; "
                             "gthread with --threads 4 keeps connections alive)")
    parser.add_argument("--pg-database", default=PG_DATABASE,
                        help="name of the throwaway PostgreSQL database, created and dropped "
                             f"(default {PG_DATABASE}); give each concurrent run its own")
    parser.add_argument("--kill-duration", type=float, default=6.0,
                        help="seconds of the crash phase; 0 skips it (default 6)")
    add_rollup_option(parser)
    parser.add_argument("--budget", type=float, default=BUDGET,
                        help=f"lowest acceptable events/bare ratio (default {BUDGET})")
    parser.add_argument("--app", default="bench.beacon_app:app",
                        help="WSGI app for gunicorn; it must also serve POST /bench/bare "
                             "(default bench.beacon_app:app)")
    return parse_load_args(parser, argv, "--path", "--prefix", "--targets", "--out")


def main(argv=None):
    args = parse_args(argv)
    if args.load_generator:
        targets = [tuple(t) for t in json.loads(args.targets)]
        stats = run_load(args.port, args.path, args.prefix, targets, args.warmup,
                         args.duration, args.concurrency, args.out)
        print(json.dumps(stats))
        return 0
    unwind_on_signals()
    enter_project()
    args.database = default_database(args.database)
    events, bare, durability, crash = run_or_exit(benchmark, args,
                                                  "gunicorn stopped, database dropped")
    ratio = events / bare
    print(f"\nPOST /api/events: {events:8.1f} events/s")
    print(f"POST /bench/bare: {bare:8.1f} requests/s")
    print(f"ratio events/bare: {ratio:.3f}  (budget >= {args.budget:g})")
    print("stored vs answered (view events in tracking_event + tracking_inbox, by reader id):")
    for prefix, report in durability.items():
        _print_report(f"throughput run {prefix}", report)
    if crash is not None:
        _print_report("crash phase", crash)
    lost = sum(r["lost"] for r in durability.values()) + (crash["lost"] if crash else 0)
    duplicates = next(iter(durability.values()))["duplicates"] if durability else 0
    print(f"lost: {lost}")
    failures = []
    if ratio < args.budget:
        failures.append(f"ratio {ratio:.3f} < {args.budget:g}")
    if lost:
        failures.append(f"{lost} events answered 204 are not stored")
    if duplicates:
        failures.append(f"{duplicates} events stored twice")
    return verdict(failures, f"ratio {ratio:.3f} >= {args.budget:g}, no answered event lost")


if __name__ == "__main__":
    sys.exit(main())
