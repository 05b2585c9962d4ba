"""Where does the appeal's cost go? Profiles the story page in-process, with and without it.

    .venv/bin/python bench/profile_appeal_page.py [--requests 1000] [--top 25]

Companion to bench/appeal_page.py (which measures throughput through gunicorn). Builds the
same throwaway SQLite database, then drives GET /stories/<slug> through the Flask test
client (no cookies sent back, Accept-Language en-US) with appeal 1 live and then ended,
and prints:

* milliseconds per request in each phase (median of 5 batches, no profiler attached);
* under cProfile, the functions whose cumulative time per request grows most when the
  appeal is shown (with minus without), and the top functions by own time with the appeal.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time

from appeal_page import DEFAULT_SLUG, HEADERS, MARKER
from benchdb import Database, flask_cli, migrate_and_seed
from benchkit import ROOT, profile_label


def _per_request(stats, requests):
    """{function: (own ms, cumulative ms)} per request."""
    return {func: (tt * 1000 / requests, ct * 1000 / requests)
            for func, (_cc, _nc, tt, ct, _callers) in stats.stats.items()}


def run_phase(client, url, expect_appeal, requests):
    headers = {k: v for k, v in HEADERS.items() if k != "Connection"}

    def get():
        response = client.get(url, headers=headers)
        if response.status_code != 200 or (MARKER in response.data) != expect_appeal:
            raise SystemExit(f"unexpected response: {response.status_code}, appeal "
                             f"{'present' if MARKER in response.data else 'absent'}")

    for _ in range(200):
        get()  # warm-up: caches, compiled templates, connection pool
    batches = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(requests // 5):
            get()
        batches.append((time.perf_counter() - started) * 1000 / (requests // 5))
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        get()
    profiler.disable()
    return statistics.median(batches), _per_request(pstats.Stats(profiler), requests)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per phase")
    parser.add_argument("--top", type=int, default=25, help="rows per table")
    parser.add_argument("--slug", default=DEFAULT_SLUG)
    args = parser.parse_args(argv)
    with Database("sqlite", prefix="appeal-profile-") as database:
        os.environ.update(DATABASE_URL=database.url, SECRET_KEY="bench",
                          SUPPORTAPP_LOG_LEVEL="WARNING")
        env = dict(os.environ)
        migrate_and_seed(env)
        flask_cli(env, "appeals", "activate", "1")
        sys.path.insert(0, str(ROOT))
        os.chdir(ROOT)
        from app import app  # noqa: PLC0415 (after the environment is set)
        from supportapp.services.appeals import clear_appeal_cache

        client = app.test_client(use_cookies=False)
        url = f"/stories/{args.slug}"
        with_ms, with_prof = run_phase(client, url, True, args.requests)
        flask_cli(env, "appeals", "end", "1")
        with app.app_context():
            clear_appeal_cache()
        without_ms, without_prof = run_phase(client, url, False, args.requests)

    print(f"GET {url}, {args.requests} requests per phase, Flask test client, no cookies")
    print(f"  with appeal:    {with_ms:6.3f} ms/request")
    print(f"  without appeal: {without_ms:6.3f} ms/request")
    print(f"  appeal adds:    {with_ms - without_ms:6.3f} ms/request "
          f"(in-process ratio {without_ms / with_ms:.3f})")

    rows = []
    for func, (own, cum) in with_prof.items():
        _own0, cum0 = without_prof.get(func, (0.0, 0.0))
        rows.append((cum - cum0, cum, cum0, own, func))
    rows.sort(reverse=True)
    print(f"\nCumulative ms/request under cProfile, largest growth first (top {args.top}):")
    print(f"  {'delta':>7} {'with':>7} {'without':>7}  function")
    for delta, cum, cum0, _own, func in rows[:args.top]:
        print(f"  {delta:7.3f} {cum:7.3f} {cum0:7.3f}  {profile_label(func)}")

    print(f"\nOwn-time ms/request with the appeal (top {args.top}):")
    for own, cum, func in sorted(((o, c, f) for f, (o, c) in with_prof.items()),
                                 reverse=True)[:args.top]:
        print(f"  {own:7.3f} (cum {cum:7.3f})  {profile_label(func)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
