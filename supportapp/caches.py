"""The app's caches: each app (and so each test) has its own, sized and timed by its settings.

`create_app` builds them once from the settings; a setting changed on a running app does not
retime them. A time-to-live of 0 keeps nothing (every read computes afresh).
"""
import threading
import time
from dataclasses import dataclass

from flask import current_app

EXTENSION = "supportapp.caches"


class Memo:
    """Answers kept under their keys: at most `maxsize`, each for `ttl` seconds (None: until
    pushed out). When full, the answer kept longest goes first.

    Not cachetools, though the project uses it elsewhere: a story page reads about a dozen
    of these, and a hit cost 0.4 µs in its LRUCache and 1.2 µs in its TTLCache (both behind
    a lock) against 0.15 µs here; in a request, where less of the code stays in the CPU's
    caches, the page with the appeal spent 21 µs less (`bench/appeal_page.py`'s page through
    the Flask test client). A hit takes no lock: one dict read is atomic.
    """

    def __init__(self, maxsize, ttl=None):
        self._answers = {}  # key -> (expires at on time.monotonic(), or None; answer)
        self._maxsize, self._ttl = maxsize, ttl
        self._lock = threading.Lock()

    def get(self, key, compute):
        """The answer kept under key, else compute()'s, kept for next time."""
        kept = self._answers.get(key)
        if kept is not None and (kept[0] is None or kept[0] > time.monotonic()):
            return kept[1]
        # Computed outside the lock: a slow query must not hold up every other reader.
        value = compute()
        if self._ttl == 0:
            return value
        expires = None if self._ttl is None else time.monotonic() + self._ttl
        with self._lock:
            self._answers.pop(key, None)  # kept again as the newest
            self._answers[key] = (expires, value)
            while len(self._answers) > self._maxsize:
                # Insertion order is age, and every answer of a memo lives as long: the
                # oldest is the first to expire as well.
                del self._answers[next(iter(self._answers))]
        return value

    def clear(self):
        """Forget every answer."""
        with self._lock:
            self._answers.clear()

    def __len__(self):
        now = time.monotonic()
        with self._lock:
            return sum(1 for expires, _value in self._answers.values()
                       if expires is None or expires > now)


@dataclass(frozen=True)
class AppCaches:
    live_appeals: Memo  # the live appeals as plain views (services/appeals.py)
    goal_progress: Memo  # (raised, supporters) per appeal and currency (appeal_placement.py)
    placements: Memo  # Placement per appeal view, variant, currency and copy values
    fragments: Memo  # the appeal block's HTML per placement (web/appeal_html.py)
    insertion_offsets: Memo  # where the appeal goes in a story body (services/injection.py)
    report_tables: Memo  # report tables and statistics per period and data stamp (reports.py)
    content_stamp: Memo  # the content stamp for CONTENT_STAMP_SECONDS (content_stamp.py)
    stories: Memo  # a story as served, per slug and content stamp (web/story_page.py)
    story_pages: Memo  # a story page's HTML around the appeal's place (web/story_page.py)
    newest_story_change: Memo  # the latest story edit, per content stamp (web/http_cache.py)
    currencies: Memo  # a reader's currency per Accept-Language header (reader_state.py)
    bots: Memo  # a user agent's crawler verdict (services/beacon.py)
    cookie_headers: Memo  # a reader cookie's Set-Cookie header per second (reader_state.py)
    statements: Memo  # roll-ups' INSERTs and lookups, built once (models/dialect.py)


def init_app(app):
    """Give the app its own caches, timed by APPEAL_CACHE_SECONDS,
    APPEAL_PROGRESS_CACHE_SECONDS, CONTENT_STAMP_SECONDS and REPORT_CACHE_SECONDS."""
    config = app.config
    app.extensions[EXTENSION] = AppCaches(
        # Live appeals change rarely and are read on every story page.
        live_appeals=Memo(1, config["APPEAL_CACHE_SECONDS"]),
        # The ticker may lag a minute; story pages must not sum contributions on every view.
        goal_progress=Memo(1024, config["APPEAL_PROGRESS_CACHE_SECONDS"]),
        # Most readers of a story get one of a few identical placements and blocks; both are
        # keyed by the live-appeal views, so they turn over when those are reloaded.
        placements=Memo(2048),
        fragments=Memo(1024),
        insertion_offsets=Memo(512),
        # Keyed by the data they come from, so never stale but for a story's title or
        # section edited meanwhile; the TTL bounds that and the memory.
        report_tables=Memo(256, config["REPORT_CACHE_SECONDS"]),
        content_stamp=Memo(1, config["CONTENT_STAMP_SECONDS"]),
        # Keyed by the content stamp: a change anywhere starts them afresh, and the old
        # entries age out.
        stories=Memo(1024),
        story_pages=Memo(1024),
        newest_story_change=Memo(4),
        # Pure functions of their key, worked out with Babel: once, not on every story page.
        currencies=Memo(512),
        # A second's Set-Cookie headers: a spike's new readers all get the same few.
        cookie_headers=Memo(256),
        # Readers' browsers send a few thousand distinct user agents at most.
        bots=Memo(4096),
        # A few dozen statements: each table's INSERT per set of columns and conflict rule.
        statements=Memo(128),
    )


def app_caches():
    """The current app's caches."""
    return current_app.extensions[EXTENSION]
