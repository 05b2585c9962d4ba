"""The app's caches: each app (and so each test) has its own, sized and timed by its settings.

`create_app` builds them once from the settings; a setting changed on a running app does not
retime them. A time-to-live of 0 keeps nothing (every read computes afresh).
"""
import threading
from dataclasses import dataclass

from cachetools import LRUCache, TTLCache
from flask import current_app

EXTENSION = "supportapp.caches"
_MISSING = object()


class Memo:
    """A cachetools cache behind a lock (its caches are not thread-safe on their own)."""

    def __init__(self, cache):
        self._cache = cache
        self._lock = threading.Lock()

    def get(self, key, compute):
        """The answer kept under key, else compute()'s, kept for next time."""
        with self._lock:
            found = self._cache.get(key, _MISSING)
        if found is not _MISSING:
            return found
        # Computed outside the lock: a slow query must not hold up every other reader.
        value = compute()
        with self._lock:
            self._cache[key] = value
        return value

    def clear(self):
        """Forget every answer."""
        with self._lock:
            self._cache.clear()

    def __len__(self):
        with self._lock:
            if isinstance(self._cache, TTLCache):
                self._cache.expire()  # a TTLCache counts expired entries until told
            return len(self._cache)


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
        live_appeals=Memo(TTLCache(maxsize=1, ttl=config["APPEAL_CACHE_SECONDS"])),
        # The ticker may lag a minute; story pages must not sum contributions on every view.
        goal_progress=Memo(TTLCache(maxsize=1024,
                                    ttl=config["APPEAL_PROGRESS_CACHE_SECONDS"])),
        # Most readers of a story get one of a few identical placements and blocks; both are
        # keyed by the live-appeal views, so they turn over when those are reloaded.
        placements=Memo(LRUCache(maxsize=2048)),
        fragments=Memo(LRUCache(maxsize=1024)),
        insertion_offsets=Memo(LRUCache(maxsize=512)),
        # Keyed by the data they come from, so never stale but for a story's title or
        # section edited meanwhile; the TTL bounds that and the memory.
        report_tables=Memo(TTLCache(maxsize=256, ttl=config["REPORT_CACHE_SECONDS"])),
        content_stamp=Memo(TTLCache(maxsize=1, ttl=config["CONTENT_STAMP_SECONDS"])),
        # Keyed by the content stamp: a change anywhere starts them afresh, and the old
        # entries age out of the LRU.
        stories=Memo(LRUCache(maxsize=1024)),
        story_pages=Memo(LRUCache(maxsize=1024)),
        newest_story_change=Memo(LRUCache(maxsize=4)),
        # Pure functions of their key, worked out with Babel: once, not on every story page.
        currencies=Memo(LRUCache(maxsize=512)),
        # A second's Set-Cookie headers: a spike's new readers all get the same few.
        cookie_headers=Memo(LRUCache(maxsize=256)),
        # Readers' browsers send a few thousand distinct user agents at most.
        bots=Memo(LRUCache(maxsize=4096)),
        # A few dozen statements: each table's INSERT per set of columns and conflict rule.
        statements=Memo(LRUCache(maxsize=128)),
    )


def app_caches():
    """The current app's caches."""
    return current_app.extensions[EXTENSION]
