"""Benchmark: does a story page with the appeal cost near what serving its bytes costs?

    .venv/bin/python bench/story_page.py [--database both|postgresql|sqlite] [--duration 8]
                                         [--rounds 3] [--concurrency 4] [--workers 1]
                                         [--pg-name bench_story_page]
                                         [--rollup worker|thread] [--paced-duration 65]
                                         [--paced-control]

For each database (PostgreSQL then SQLite by default): builds a throwaway database
(migrations + seed, appeal 1 live), serves `bench/story_page_app.py` (the app plus
`GET /bench/same-bytes`, the story page's very bytes from memory) with gunicorn, and drives
both routes from a separate load-generator process, rounds alternating (story, bytes;
bytes, story; ...) against the same server. Roll-ups run where the README's production
set-up runs them: in a `flask worker` beside gunicorn (`--rollup thread`: in the gunicorn
worker's own thread, as when no worker runs).

* peak: `--concurrency` keep-alive clients as fast as they can: requests/s, p50 and p99
  latency, worker CPU per response, worker RSS after the run;
* paced: the story page alone at 80% of its own median peak rate, open loop: each request
  on a connection of its own, sent when due whatever the earlier ones are doing, latency
  counted from when it was due, so a stall is not hidden (one thread, non-blocking
  sockets; MAX_IN_FLIGHT requests unanswered at once end the run as a problem): p99;
* with --paced-control, then the same-bytes route at 80% of its own peak: the tail of the
  harness itself (server, load generator, connections), printed beside the story page's.

Every request is a new reader (no cookies sent back) and every story response must carry
the appeal. Targets: story page >= 0.5 of the same bytes from memory (median requests/s),
p99 at 80% of peak <= 50 ms, on each database. Exit status 1 when a target is missed, 2
when the benchmark could not measure. A benchmark, not a test: pytest does not collect it.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import selectors
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

from appeal_page import DEFAULT_SLUG, HEADERS, MARKER
from benchdb import Database, app_env, flask_cli, migrate_and_seed, postgres_reachable
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

RATIO_TARGET = 0.5
P99_TARGET_MS = 50.0
PACED_SHARE = 0.8
# The app's roll-up thread rolls up about every SUPPORTAPP_TRACKING_ROLLUP_SECONDS (60 by
# default): a paced run shorter than that measures luck, with or without a roll-up in it.
PACED_SECONDS = 65.0
# Open loop, a stalled server means ever more connections: stop before they run out of
# file descriptors (the run is then reported as a problem, not as a latency).
MAX_IN_FLIGHT = 4000
BYTES_PATH = "/bench/same-bytes"
PHASES = ("story", "bytes")


# --------------------------------------------------------------------------- load generator


def _percentile(values, share):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def run_load(port, path, warmup, duration, concurrency, expect_appeal):
    """GET path from `concurrency` keep-alive clients, as fast as they can, for warmup +
    duration seconds. Counts only 200s whose content is right, finished within the
    measured window."""
    start = time.monotonic()
    window_start, window_end = start + warmup, start + warmup + duration
    lock = threading.Lock()
    totals = {"requests": 0, "problems": 0, "first_problem": None, "latencies": []}

    def client(_index):
        conn, latencies, requests, problems, first = Connection(port), [], 0, 0, None
        while time.monotonic() < window_end:
            sent = time.monotonic()
            problem = _one_request(conn, path, expect_appeal)
            done = time.monotonic()
            requests += 1
            if problem:
                problems, first = problems + 1, first or problem
            elif window_start <= done < window_end:
                latencies.append(done - sent)
        conn.close()
        with lock:
            totals["requests"] += requests
            totals["problems"] += problems
            totals["first_problem"] = totals["first_problem"] or first
            totals["latencies"] += latencies

    if not run_clients(client, concurrency, window_end):
        totals["problems"] += 1
        totals["first_problem"] = totals["first_problem"] or "a client thread did not finish"
    latencies = totals.pop("latencies")
    return dict(totals, ok=len(latencies), rps=len(latencies) / duration,
                p50_ms=_percentile(latencies, 0.50), p99_ms=_percentile(latencies, 0.99))


class _Pending:
    """One paced request in flight: its socket, when it was due, what came back so far."""

    __slots__ = ("sock", "due", "chunks")

    def __init__(self, sock, due):
        self.sock, self.due, self.chunks = sock, due, []


def _paced_request(path):
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in HEADERS.items() if name != "Connection"]
    return ("\r\n".join(lines) + "\r\nConnection: close\r\n\r\n").encode()


def _paced_problem(data, expect_appeal):
    """None when a whole response (read to the server's close) is right, else what was wrong."""
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    if not status.startswith(b"HTTP/1.1 200"):
        return f"answered {status[:40]!r}"
    if expect_appeal and MARKER not in body:
        return f"the appeal is missing ({len(body)} bytes)"
    return None


def _stall(past_window, in_flight):
    """Why the open-loop run must stop now, each unanswered request a problem, or None:
    still unanswered 10 s after the window, or too many at once."""
    if past_window > 10:
        return "no answer within 10 s"
    if in_flight >= MAX_IN_FLIGHT:
        return f"{MAX_IN_FLIGHT} requests unanswered at once"
    return None


def run_paced(port, path, warmup, duration, expect_appeal, rate):
    """GET path at `rate` requests/s on a fixed schedule, each on a connection of its own,
    sent when due whatever the earlier ones are doing (open loop), latency counted from when
    it was due. One thread and non-blocking sockets: a client of threads took a third of a
    core at this rate, and on two cores its own delays showed up as the server's latency."""
    start = time.monotonic()
    window_start, window_end = start + warmup, start + warmup + duration
    request, interval = _paced_request(path), 1.0 / rate
    selector, due = selectors.DefaultSelector(), start
    totals = {"requests": 0, "problems": 0, "first_problem": None}
    latencies = []

    def finish(pending, problem):
        selector.unregister(pending.sock)
        pending.sock.close()
        done = time.monotonic()
        totals["requests"] += 1
        if problem or done - pending.due > 10:
            totals["problems"] += 1
            totals["first_problem"] = totals["first_problem"] or problem or "over 10 s"
        elif window_start <= done < window_end:
            latencies.append(done - pending.due)

    while due < window_end or selector.get_map():
        now = time.monotonic()
        stalled = _stall(now - window_end, len(selector.get_map()))
        if stalled:
            for key in list(selector.get_map().values()):
                finish(key.data, stalled)
            break
        while due <= now and due < window_end:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            selector.register(sock, selectors.EVENT_WRITE, _Pending(sock, due))
            due += interval
        for key, _events in selector.select(max(0.0, min(due - now, 0.005))):
            pending = key.data
            if key.events == selectors.EVENT_WRITE:
                error = pending.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if error:
                    finish(pending, f"connect: {os.strerror(error)}")
                    continue
                pending.sock.send(request)  # a few hundred bytes: the buffer takes them
                selector.modify(pending.sock, selectors.EVENT_READ, pending)
                continue
            try:
                chunk = pending.sock.recv(1 << 16)
            except OSError as exc:
                finish(pending, f"{type(exc).__name__}: {exc}")
                continue
            if chunk:
                pending.chunks.append(chunk)
            else:
                finish(pending, _paced_problem(b"".join(pending.chunks), expect_appeal))
    return dict(totals, ok=len(latencies), rps=len(latencies) / duration,
                p50_ms=_percentile(latencies, 0.50), p99_ms=_percentile(latencies, 0.99))


def _one_request(conn, path, expect_appeal):
    """None when the answer is right, else what was wrong."""
    try:
        response, body = conn.request("GET", path, headers=HEADERS)
    except (OSError, http.client.HTTPException) as exc:
        time.sleep(0.05)  # do not spin on a server that is gone
        return f"{type(exc).__name__}: {exc}"
    if response.status != 200:
        return f"HTTP {response.status} for {path}"
    if expect_appeal and MARKER not in body:
        return f"the appeal is missing from {path} ({len(body)} bytes)"
    return None


# --------------------------------------------------------------------------- orchestration


def worker_rss_mb(server):
    """Resident memory of the gunicorn workers, summed, in MB (None without /proc)."""
    total = 0
    for pid in server.worker_pids():
        try:
            with open(f"/proc/{pid}/status") as handle:
                total += next(int(line.split()[1]) for line in handle
                              if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            return None
    return total / 1024 if server.worker_pids() else None


def measure(args, server, path, expect_appeal, rate=0.0):
    """One load-generator run against the server; its figures plus worker CPU and RSS.
    Peak runs last --duration, the paced run (rate > 0) --paced-duration."""
    duration = args.paced_duration if rate else args.duration
    options = ["--port", str(server.port), "--path", path, "--warmup", str(args.warmup),
               "--duration", str(duration), "--concurrency", str(args.concurrency),
               "--rate", str(rate)] + (["--expect-appeal"] if expect_appeal else [])
    cpu_before = server.workers_cpu_seconds()
    stats = LoadGenerator(__file__, options, timeout=args.warmup + duration + 60).result()
    cpu_after = server.workers_cpu_seconds()
    if stats["problems"] or stats["ok"] == 0:
        raise BenchError(f"GET {path}: {stats['ok']} good responses, {stats['problems']} "
                         f"problems; first: {stats['first_problem']}")
    stats["cpu_ms"] = None
    if cpu_before is not None and cpu_after is not None:
        stats["cpu_ms"] = (cpu_after - cpu_before) * 1000 / stats["requests"]
    stats["rss_mb"] = worker_rss_mb(server)
    return stats


def save_page(server, path, page_file):
    """Fetch the story page once (it must carry the appeal) and keep its bytes for the
    same-bytes route."""
    response, body = Connection(server.port).get_once(path, headers=HEADERS)
    if response.status != 200 or MARKER not in body:
        raise BenchError(f"GET {path} answered {response.status} "
                         f"({'with' if MARKER in body else 'without'} the appeal)")
    Path(page_file).write_bytes(body)
    return len(body)


def _line(label, stats):
    cpu = f"{stats['cpu_ms']:.2f}" if stats["cpu_ms"] is not None else "?"
    rss = f"{stats['rss_mb']:.0f}" if stats["rss_mb"] is not None else "?"
    return (f"    {label:<22} {stats['rps']:8.1f} req/s  p50 {stats['p50_ms']:6.2f} ms  "
            f"p99 {stats['p99_ms']:6.2f} ms  CPU {cpu} ms/response  RSS {rss} MB")


def bench_database(args, kind):
    """The rounds on one database: {"story": [stats...], "bytes": [...], "paced": stats}."""
    results = {phase: [] for phase in PHASES}
    with Database(kind, prefix="story-bench-", pg_name=args.pg_name) as database:
        env = app_env(database.url, SUPPORTAPP_BENCH_PAGE_FILE=f"{database.tmp}/page.html")
        migrate_and_seed(env)
        flask_cli(env, "appeals", "activate", "1")
        print(f"\n{database.label}: {machine(memory=False)}")
        worker, env = FlaskWorker.for_rollup(args.rollup, env, Path(database.tmp) / "worker.log")
        server = Gunicorn(env, Path(database.tmp) / "gunicorn.log",
                          "bench.story_page_app:app", "--workers", str(args.workers))
        try:
            server.wait_healthy(workers=args.workers)
            story_path = f"/stories/{args.slug}"
            size = save_page(server, story_path, env["SUPPORTAPP_BENCH_PAGE_FILE"])
            print(f"  {story_path} ({size:,} bytes) vs {BYTES_PATH}; gunicorn --workers "
                  f"{args.workers}; {args.concurrency} clients; {args.rounds} rounds; "
                  f"roll-ups in {ROLLUP_WHERE[args.rollup]}")
            for number in range(args.rounds):
                order = PHASES if number % 2 == 0 else PHASES[::-1]
                for phase in order:
                    path = story_path if phase == "story" else BYTES_PATH
                    stats = measure(args, server, path, phase == "story")
                    results[phase].append(stats)
                    print(_line(f"round {number + 1} {phase}", stats), flush=True)
            results.update(_paced_runs(args, server, story_path, results))
            if worker is not None:
                worker.check_running()
        finally:
            server.stop()
            if worker is not None:
                worker.stop()
    return results


def _paced_runs(args, server, story_path, results):
    """The story page at PACED_SHARE of its median peak; with --paced-control, then the
    same bytes at PACED_SHARE of theirs: the harness's own tail at the same share."""
    runs, wanted = {}, [("paced", story_path, "story")]
    if args.paced_control:
        wanted.append(("control", BYTES_PATH, "bytes"))
    for name, path, phase in wanted:
        rate = round(PACED_SHARE * statistics.median(s["rps"] for s in results[phase]), 1)
        runs[name] = measure(args, server, path, phase == "story", rate)
        print(_line(f"{phase} at {rate:g} req/s", runs[name]), flush=True)
    return runs


def summarise(kind, results):
    """Print the medians for one database; the failures against the targets."""
    def median(phase, key):
        values = [s[key] for s in results[phase] if s[key] is not None]
        return statistics.median(values) if values else float("nan")

    story, same = median("story", "rps"), median("bytes", "rps")
    ratio, paced_p99 = story / same, results["paced"]["p99_ms"]
    print(f"  {kind}: story {story:.1f} req/s (p50 {median('story', 'p50_ms'):.2f} ms, p99 "
          f"{median('story', 'p99_ms'):.2f} ms, CPU {median('story', 'cpu_ms'):.2f} ms, RSS "
          f"{median('story', 'rss_mb'):.0f} MB); same bytes {same:.1f} req/s (p50 "
          f"{median('bytes', 'p50_ms'):.2f} ms, p99 {median('bytes', 'p99_ms'):.2f} ms, CPU "
          f"{median('bytes', 'cpu_ms'):.2f} ms); ratio {ratio:.3f}; p99 at "
          f"{PACED_SHARE:.0%} of peak {paced_p99:.2f} ms")
    failures = []
    if ratio < RATIO_TARGET:
        failures.append(f"{kind}: story page {ratio:.3f} of the same bytes < {RATIO_TARGET}")
    if paced_p99 > P99_TARGET_MS:
        failures.append(f"{kind}: p99 at {PACED_SHARE:.0%} of peak {paced_p99:.1f} ms > "
                        f"{P99_TARGET_MS:g} ms")
    return failures


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_options(parser, concurrency=4, run="run", warmup="of load before each run",
                     rounds="runs of each route")
    parser.add_argument("--database", choices=("both", "postgresql", "sqlite"), default="both",
                        help="default: both (PostgreSQL skipped when 127.0.0.1:5432 is down)")
    parser.add_argument("--pg-name", default="bench_story_page",
                        help="the throwaway PostgreSQL database's name")
    parser.add_argument("--slug", default=DEFAULT_SLUG, help="story to request")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (default 1)")
    add_rollup_option(parser)
    parser.add_argument("--paced-duration", type=float, default=PACED_SECONDS,
                        help=f"measured seconds of the paced run (default {PACED_SECONDS:g}: "
                             "longer than the default roll-up interval, so it always "
                             "includes a roll-up)")
    parser.add_argument("--paced-control", action="store_true",
                        help="after the story page's paced run, pace the same-bytes route "
                             "at the same share of its own peak (printed; no target)")
    # Internal, for the load generator.
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--expect-appeal", action="store_true", help=argparse.SUPPRESS)
    args = parse_load_args(parser, argv)
    if args.paced_duration <= 0:
        parser.error("--paced-duration must be > 0")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.load_generator:
        if args.rate:
            stats = run_paced(args.port, args.path, args.warmup, args.duration,
                              args.expect_appeal, args.rate)
        else:
            stats = run_load(args.port, args.path, args.warmup, args.duration,
                             args.concurrency, args.expect_appeal)
        print(json.dumps(stats))
        return 0
    unwind_on_signals(sigterm_interrupts=True, restore_sigint=False)
    kinds = ["postgresql", "sqlite"] if args.database == "both" else [args.database]
    if args.database == "both" and not postgres_reachable():
        print("PostgreSQL does not answer at 127.0.0.1:5432: SQLite only")
        kinds = ["sqlite"]
    results = {kind: run_or_exit(lambda a, k=kind: bench_database(a, k), args,
                                 "gunicorn stopped") for kind in kinds}
    print("\nmedians over rounds:")
    failures = [f for kind in kinds for f in summarise(kind, results[kind])]
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return verdict(failures, f"story page >= {RATIO_TARGET} of the same bytes and p99 at "
                             f"{PACED_SHARE:.0%} of peak <= {P99_TARGET_MS:g} ms")


if __name__ == "__main__":
    sys.exit(main())
