"""Benchmark: what does putting the appeal into a story page cost in throughput?

    .venv/bin/python bench/appeal_page.py [--database postgresql|sqlite] [--duration 10]
                                          [--rounds 3] [--concurrency 4]
                                          [--rollup worker|thread]

Builds a throwaway database (migrations + seed; PostgreSQL, the production database, when
127.0.0.1:5432 answers, else SQLite in a temporary folder), serves the
app with gunicorn (one sync worker, 127.0.0.1 on a free port) and drives
GET /stories/<slug> from a separate load-generator process for a fixed time, counting
completed 200 responses:

* phase "with": the seeded appeal (id 1) is live, every response must contain the appeal;
* phase "without": the appeal is ended (`flask appeals end 1`), no response may contain it.

A `flask worker` runs beside gunicorn throughout, as in the README's production set-up: it
loads the pages' journals and rolls up (`--rollup thread` leaves both to gunicorn's
worker, as when no worker runs); its CPU per response is printed beside gunicorn's, and so
is the load generator's (it shares the machine's CPUs).

Phases alternate for several rounds (A B, B A, A B, ...), gunicorn is restarted for each
measurement, and the median requests/s of each phase gives the ratio with/without. The
project's budget is a ratio of at least 0.95 (the appeal costs at most 5%); the exit
status is 1 when the ratio is below it, 2 when the benchmark itself could not run properly.

Every request comes from a new reader: no cookies are sent back, so the frequency cap
(sa_views) never hides the appeal. Requests carry browser-like headers (Accept-Language
en-US). This is a benchmark, not a test: it is not collected by pytest.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

from benchdb import (
    PG_DATABASE,
    Database,
    app_env,
    default_database,
    flask_cli,
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
    machine,
    parse_load_args,
    run_clients,
    run_or_exit,
    unwind_on_signals,
    verdict,
)

MARKER = b'<section class="appeal"'
DEFAULT_SLUG = "harbour-parking-fee-vote-delayed"
BUDGET = 0.95
HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.5",
    "Connection": "keep-alive",
}


# --------------------------------------------------------------------------- load generator


def run_load(port, path, warmup, duration, concurrency, expect_appeal):
    """Drive GET path with `concurrency` keep-alive clients; count 200s in the window.

    Runs in its own process (see `--load-generator`), so the client's CPU is not the
    server's. Every response is checked for the appeal marker, warm-up included.
    """
    start = time.monotonic()
    window_start = start + warmup
    window_end = window_start + duration
    lock = threading.Lock()
    totals = {"ok": 0, "errors": 0, "non_200": 0, "wrong_content": 0, "latency_sum": 0.0,
              "requests": 0, "first_problem": None}

    def note_problem(kind, detail):
        with lock:
            totals[kind] += 1
            if totals["first_problem"] is None:
                totals["first_problem"] = detail

    def client(_index):
        conn = Connection(port)
        ok = 0
        latency_sum = 0.0
        requests = 0
        while time.monotonic() < window_end:
            sent = time.monotonic()
            try:
                response, body = conn.request("GET", path, headers=HEADERS)
            except (OSError, http.client.HTTPException) as exc:
                note_problem("errors", f"{type(exc).__name__}: {exc}")
                time.sleep(0.05)  # do not spin on a server that is gone
                continue
            done = time.monotonic()
            requests += 1
            if response.status != 200:
                note_problem("non_200", f"HTTP {response.status} for {path}")
            elif (MARKER in body) != expect_appeal:
                what = "missing from" if expect_appeal else "present in"
                note_problem("wrong_content", f"the appeal is {what} {path} "
                                              f"({len(body)} bytes)")
            elif window_start <= done < window_end:
                ok += 1
                latency_sum += done - sent
        conn.close()
        with lock:
            totals["ok"] += ok
            totals["latency_sum"] += latency_sum
            totals["requests"] += requests

    if not run_clients(client, concurrency, window_end):
        totals["errors"] += 1
        totals["first_problem"] = totals["first_problem"] or "a client thread did not finish"
    ok = totals.pop("ok")
    latency_sum = totals.pop("latency_sum")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return dict(totals, ok=ok, duration=duration, rps=ok / duration,
                mean_latency_ms=(latency_sum / ok * 1000) if ok else None,
                client_cpu_seconds=usage.ru_utime + usage.ru_stime)


# --------------------------------------------------------------------------- orchestration


def check_page(server, path, expect_appeal):
    """One request before the run: fail at once if the page is not what the phase needs."""
    try:
        response, body = Connection(server.port).get_once(path, headers=HEADERS)
    except (OSError, http.client.HTTPException) as exc:
        raise BenchError(f"GET {path} failed: {type(exc).__name__}: {exc}") from exc
    if response.status != 200:
        raise BenchError(f"GET {path} answered HTTP {response.status}")
    if (MARKER in body) != expect_appeal:
        state = "missing from" if expect_appeal else "still in"
        raise BenchError(f"the appeal ({MARKER.decode()}...) is {state} {path}")


def measure(args, phase, server):
    """Run the load generator once, in its own process, against the server.

    Also notes the CPU time the gunicorn workers spent, per response (warm-up included):
    a figure that other load on the machine disturbs much less than requests/s.
    """
    options = ["--port", str(server.port), "--slug", args.slug, "--warmup", str(args.warmup),
               "--duration", str(args.duration), "--concurrency", str(args.concurrency),
               "--expect", phase]
    cpu_before = server.workers_cpu_seconds()
    stats = LoadGenerator(__file__, options, timeout=args.warmup + args.duration + 60).result()
    cpu_after = server.workers_cpu_seconds()
    problems = stats["errors"] + stats["non_200"] + stats["wrong_content"]
    if problems or stats["ok"] == 0:
        raise BenchError(
            f"phase {phase!r}: {stats['ok']} good responses, {stats['errors']} connection "
            f"errors, {stats['non_200']} non-200, {stats['wrong_content']} with the wrong "
            f"content; first problem: {stats['first_problem']}"
        )
    stats["cpu_ms"] = None
    if cpu_before is not None and cpu_after is not None and stats["requests"]:
        stats["cpu_ms"] = (cpu_after - cpu_before) * 1000 / stats["requests"]
    return stats


def set_phase(env, phase):
    """Make appeal 1 live (phase "with") or ended (phase "without") in the database."""
    flask_cli(env, "appeals", "activate" if phase == "with" else "end", "1")


def benchmark(args):
    results = {"with": [], "without": []}
    cpu = {"with": [], "without": []}
    with Database(args.database, prefix="appeal-bench-", pg_name=args.pg_name) as database:
        env = app_env(database.url)
        migrate_and_seed(env)
        current = "with"  # the seed leaves appeal 1 live
        set_phase(env, current)
        log_path = Path(database.tmp) / "gunicorn.log"
        print(f"story: /stories/{args.slug}; gunicorn --workers {args.workers} --worker-class "
              f"{args.worker_class}; {args.concurrency} keep-alive clients; "
              f"{args.warmup:g} s warm-up + {args.duration:g} s per run; {args.rounds} rounds; "
              f"roll-ups in {ROLLUP_WHERE[args.rollup]}")
        print(f"machine: {machine(memory=False)} at start")
        worker, env = FlaskWorker.for_rollup(args.rollup, env, Path(database.tmp) / "worker.log")
        try:
            for round_number in range(args.rounds):
                order = ("with", "without") if round_number % 2 == 0 else ("without", "with")
                for phase in order:
                    if phase != current:
                        set_phase(env, phase)
                        current = phase
                    stats = measure_phase(args, env, log_path, phase, worker)
                    results[phase].append(stats["rps"])
                    if stats["cpu_ms"] is not None:
                        cpu[phase].append(stats["cpu_ms"])
                    print(f"  round {round_number + 1} {phase:<7} appeal: "
                          f"{stats['rps']:8.1f} req/s  ({stats['ok']} responses, mean latency "
                          f"{stats['mean_latency_ms']:.2f} ms{_cpu_note(stats)})", flush=True)
            if worker is not None:
                worker.check_running()
        finally:
            if worker is not None:
                worker.stop()
    return results, cpu


def measure_phase(args, env, log_path, phase, worker):
    """One run of one phase on a fresh gunicorn; with a worker, its CPU per response too."""
    server = Gunicorn(env, log_path, "app:app", "--workers", str(args.workers),
                      "--worker-class", args.worker_class)
    try:
        server.wait_healthy()
        check_page(server, f"/stories/{args.slug}", phase == "with")
        worker_before = worker.cpu_seconds() if worker is not None else None
        stats = measure(args, phase, server)
        if worker is not None:
            stats["worker_cpu_ms"] = ((worker.cpu_seconds() - worker_before) * 1000
                                      / max(stats["ok"], 1))
    finally:
        server.stop()
    return stats


def _cpu_note(stats):
    note = ""
    if stats["cpu_ms"] is not None:
        note = f", worker CPU {stats['cpu_ms']:.2f} ms/response"
    if stats.get("worker_cpu_ms") is not None:
        note += f", flask worker {stats['worker_cpu_ms']:.3f} ms/response"
    if stats["requests"]:
        # The load generator shares the machine's CPUs: what it spends per response (a
        # bigger page costs it more to read) is taken from the server's share.
        client_ms = stats["client_cpu_seconds"] * 1000 / stats["requests"]
        note += f", load generator {client_ms:.2f} ms/response"
    return note


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_options(parser, concurrency=4, run="run", warmup="of load before each run",
                     rounds="runs of each phase")
    parser.add_argument("--database", choices=("postgresql", "sqlite"),
                        help="default: postgresql when 127.0.0.1:5432 answers, else sqlite")
    parser.add_argument("--pg-name", default=PG_DATABASE,
                        help=f"the throwaway PostgreSQL database's name (default {PG_DATABASE})")
    parser.add_argument("--slug", default=DEFAULT_SLUG, help="story to request")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (default 1)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class")
    add_rollup_option(parser)
    parser.add_argument("--budget", type=float, default=BUDGET,
                        help=f"lowest acceptable ratio with/without (default {BUDGET})")
    # Internal, for the load generator: the phase it checks the pages for.
    parser.add_argument("--expect", choices=("with", "without"), help=argparse.SUPPRESS)
    return parse_load_args(parser, argv)


def main(argv=None):
    args = parse_args(argv)
    if args.load_generator:
        stats = run_load(args.port, f"/stories/{args.slug}", args.warmup, args.duration,
                         args.concurrency, args.expect == "with")
        print(json.dumps(stats))
        return 0
    unwind_on_signals(sigterm_interrupts=True, restore_sigint=False)
    args.database = default_database(args.database)
    results, cpu = run_or_exit(benchmark, args, "gunicorn stopped")
    with_rps = statistics.median(results["with"])
    without_rps = statistics.median(results["without"])
    ratio = with_rps / without_rps
    print(f"\nmedian with appeal:    {with_rps:8.1f} req/s")
    print(f"median without appeal: {without_rps:8.1f} req/s")
    print(f"ratio with/without:    {ratio:8.3f}  (cost {100 * (1 - ratio):.1f}%)")
    if cpu["with"] and cpu["without"]:
        cpu_with, cpu_without = statistics.median(cpu["with"]), statistics.median(cpu["without"])
        print(f"worker CPU per response: {cpu_with:.2f} ms with, {cpu_without:.2f} ms without "
              f"(CPU-bound ratio {cpu_without / cpu_with:.3f}; a cross-check, less disturbed "
              "by other load)")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    failures = []
    if ratio < args.budget:
        failures.append(f"the appeal costs more than {100 * (1 - args.budget):.0f}% of "
                        f"throughput (ratio {ratio:.3f} < {args.budget:.2f})")
    return verdict(failures, f"ratio {ratio:.3f} >= {args.budget:.2f}")


if __name__ == "__main__":
    sys.exit(main())
