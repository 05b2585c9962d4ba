"""Benchmark: how much memory does a web worker hold once it has served readers?

    .venv/bin/python bench/worker_rss.py [--database postgresql|sqlite] [--visits 1000]
                                         [--limit-mb 80] [--pg-database bench_worker_rss]
                                         [--no-optimize]

Builds a throwaway database (migrations + seed; PostgreSQL, the production database, when
127.0.0.1:5432 answers, else SQLite in a temporary folder; on PostgreSQL the database is
--pg-database, not the other benchmarks' `bench_supportapp`, so this one can run beside
them), serves the app (`app:app`, as in production: PYTHONOPTIMIZE=2, see the README's
"Running in production"; --no-optimize without it) with gunicorn, one sync worker, and
plays new readers through it, one after another on a keep-alive connection, until
--visits beacons are sent. A reader GETs a story page (the front page's stories in turn,
no cookies sent) and, when the page carries the appeal (the hold-back group gets none),
POSTs its "view" beacon to /api/events (the page's appeal, variant and page view id, the
reader's `sa_rid` cookie), as the page's script does. Every page must answer 200, every
beacon 204. So the worker serves at least --visits story pages and exactly --visits beacons.

The worker's resident memory (VmRSS in /proc/<pid>/status) is read once gunicorn answers
/healthz, and after 10, 100 and all beacons. The figure that counts is the last: at most
--limit-mb (80 MB) or the exit status is 1; 2 when the benchmark could not run. It also
names any of scipy, numpy, pandas, statsmodels, lxml or Pillow whose compiled modules are
mapped into the worker (from /proc/<pid>/maps), which fails the run too: story pages and
beacons need none of them. The beacon rate limit is raised for the run
(SUPPORTAPP_BEACON_RATE_LIMIT), not switched off, so the limiter keeps its usual state.
This is a benchmark, not a test: pytest does not collect it.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import sys
from pathlib import Path

from benchdb import Database, app_env, default_database, migrate_and_seed
from benchkit import (
    BenchError,
    Connection,
    Gunicorn,
    machine,
    run_or_exit,
    unwind_on_signals,
    verdict,
)

LIMIT_MB = 80
CHECKPOINTS = (10, 100)  # beacons after which RSS is read too (and after the last)
PG_DATABASE = "bench_worker_rss"
HEAVY = ("scipy", "numpy", "pandas", "statsmodels", "lxml", "PIL")
HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.5",
}
APPEAL = re.compile(rb'<section class="appeal"[^>]*?data-appeal="(\d+)" data-variant="(\d+)" '
                    rb'data-story="([a-z0-9-]+)" data-pv="([A-Za-z0-9_-]+)"')
STORY_LINK = re.compile(r'href="/stories/([a-z0-9-]+)"')
READER_COOKIE = re.compile(r"\bsa_rid=([^;]+)")


# --------------------------------------------------------------------------- the worker


def memory_kb(pid):
    """{"VmRSS": kB, "RssAnon": kB, "RssFile": kB, ...} from /proc/<pid>/status."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        raise BenchError(f"cannot read the worker's memory: {exc}") from exc
    return {name: int(value.split()[0]) for name, _, value in
            (line.partition(":") for line in lines) if name.startswith(("VmRSS", "Rss"))}


def heavy_mapped(pid):
    """Which of HEAVY have a compiled module mapped into the process (from /proc/<pid>/maps)."""
    with open(f"/proc/{pid}/maps") as handle:
        paths = {line.split()[-1] for line in handle if "site-packages/" in line}
    tops = {path.split("site-packages/", 1)[1].split("/", 1)[0] for path in paths}
    return [name for name in HEAVY if name in tops or f"{name}.libs" in tops]


def the_worker(server):
    pids = server.worker_pids()
    if len(pids) != 1:
        raise BenchError(f"expected one gunicorn worker, found {len(pids)}")
    return pids[0]


# --------------------------------------------------------------------------- a reader's visit


def request(conn, method, path, body=None, headers=None):
    try:
        return conn.request(method, path, body=body, headers={**HEADERS, **(headers or {})})
    except (OSError, http.client.HTTPException) as exc:
        raise BenchError(f"{method} {path} failed: {type(exc).__name__}: {exc}") from exc


def story_slugs(conn):
    """The seeded stories' slugs, from the links on the front page."""
    response, body = request(conn, "GET", "/")
    slugs = sorted(set(STORY_LINK.findall(body.decode())))
    if response.status != 200 or not slugs:
        raise BenchError(f"GET / answered {response.status} with {len(slugs)} story links")
    return slugs


def visit(conn, slug):
    """A new reader reads the story and the page sends its "view" beacon; True if it did.

    Not every reader gets the appeal (the hold-back group, a section without it): no
    appeal, no beacon.
    """
    path = f"/stories/{slug}"
    response, body = request(conn, "GET", path)
    if response.status != 200:
        raise BenchError(f"GET {path} answered {response.status}")
    found = APPEAL.search(body)
    if not found:
        return False
    appeal, variant, story, page_view = found.groups()
    reader = READER_COOKIE.search(response.getheader("Set-Cookie") or "")
    beacon = json.dumps({"pv": page_view.decode(), "events": [
        {"type": "view", "story": story.decode(), "appeal": int(appeal),
         "variant": int(variant)}]})
    headers = {"Content-Type": "text/plain;charset=UTF-8"}  # what navigator.sendBeacon sends
    if reader:
        headers["Cookie"] = f"sa_rid={reader.group(1)}"
    response, body = request(conn, "POST", "/api/events", beacon.encode(), headers)
    if response.status != 204:
        raise BenchError(f"POST /api/events answered {response.status}: {body[:200]!r}")
    return True


def serve_readers(conn, pid, visits):
    """Story pages until `visits` beacons are sent; [(pages, beacons, memory_kb)] at each
    checkpoint of beacons sent."""
    slugs = story_slugs(conn)
    readings, pages, beacons = [], 0, 0
    while beacons < visits:
        if pages >= 3 * visits:
            raise BenchError(f"{pages} story pages carried the appeal only {beacons} times")
        pages += 1
        if visit(conn, slugs[pages % len(slugs)]):
            beacons += 1
            if beacons in CHECKPOINTS or beacons == visits:
                readings.append((pages, beacons, memory_kb(pid)))
    return readings


# --------------------------------------------------------------------------- orchestration


def benchmark(args):
    """[(pages, beacons, memory_kb)] at start and at each checkpoint; mapped heavy modules."""
    with Database(args.database, prefix="worker-rss-", pg_name=args.pg_database) as database:
        env = app_env(database.url, SUPPORTAPP_BEACON_RATE_LIMIT="1000000 per minute")
        migrate_and_seed(env)
        optimize = "" if args.no_optimize else "2"
        print(f"database: {database.label}; {'PYTHONOPTIMIZE=2 ' if optimize else ''}gunicorn "
              f"--workers 1 --worker-class sync; new readers until {args.visits} beacons, "
              f"one at a time")
        print(f"machine: {machine()}")
        # As the README's production command runs it: without docstrings (about 5 MB less).
        server = Gunicorn(dict(env, PYTHONOPTIMIZE=optimize), Path(database.tmp) / "gunicorn.log",
                          "app:app", "--workers", "1", "--worker-class", "sync")
        try:
            server.wait_healthy(workers=1)
            pid = the_worker(server)
            readings = [(0, 0, memory_kb(pid))]
            conn = Connection(server.port)
            readings += serve_readers(conn, pid, args.visits)
            conn.close()
            if the_worker(server) != pid:
                raise BenchError("the worker was replaced during the run")
            return readings, heavy_mapped(pid)
        finally:
            server.stop()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"),
                        help="default: postgresql when 127.0.0.1:5432 answers, else sqlite")
    parser.add_argument("--visits", type=int, default=1000,
                        help="beacons to send, each after the story page it comes from; "
                             "pages without the appeal send none (default 1000)")
    parser.add_argument("--limit-mb", type=float, default=LIMIT_MB,
                        help=f"most the worker may hold at the end, in MB (default {LIMIT_MB})")
    parser.add_argument("--pg-database", default=PG_DATABASE,
                        help=f"PostgreSQL database to create and drop (default {PG_DATABASE})")
    parser.add_argument("--no-optimize", action="store_true",
                        help="run gunicorn without PYTHONOPTIMIZE=2 (docstrings kept)")
    args = parser.parse_args(argv)
    if args.visits < 1:
        parser.error("--visits must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    unwind_on_signals()
    args.database = default_database(args.database)
    readings, heavy = run_or_exit(benchmark, args, "gunicorn stopped, database dropped")
    print(f"\n{'pages':>7}  {'beacons':>7}  {'VmRSS':>9}  {'RssAnon':>9}  {'RssFile':>9}")
    for pages, beacons, memory in readings:
        print(f"{pages:>7}  {beacons:>7}  " + "  ".join(f"{memory.get(name, 0) / 1024:6.1f} MB"
                                           for name in ("VmRSS", "RssAnon", "RssFile")))
    print("heavy compiled modules in the worker: " + (", ".join(heavy) or "none"))
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    pages, _beacons, memory = readings[-1]
    final_mb = memory["VmRSS"] / 1024
    failures = []
    if final_mb > args.limit_mb:
        failures.append(f"the worker holds {final_mb:.1f} MB after {pages} story pages and "
                        f"{args.visits} beacons (> {args.limit_mb:g} MB)")
    if heavy:
        failures.append(f"a reader's requests loaded {', '.join(heavy)}")
    return verdict(failures, f"{final_mb:.1f} MB <= {args.limit_mb:g} MB after "
                             f"{pages} story pages and {args.visits} beacons")


if __name__ == "__main__":
    sys.exit(main())
