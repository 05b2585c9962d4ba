"""The story slugs and variant ids that beacons and checkouts may count.

Each app keeps the list in memory and refreshes it from the database. While the database
cannot be reached, the last list keeps serving (a beacon for a known target can still go
to the event journal), and a process that starts during an outage reads the snapshot that
the last load from the database left in the journal folder (with the journal on).
"""
import json
import os
import tempfile
import threading
import time
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from supportapp.extensions import db
from supportapp.models import AppealVariant, Story
from supportapp.services.event_journal import journal_directory

EXTENSION = "supportapp.known_targets"
MISS_RECHECK_SECONDS = 2
DATABASE_RETRY_SECONDS = 5  # while the database is away, at most one attempt this often
SNAPSHOT_NAME = "known-targets.json"


class TargetsUnavailable(RuntimeError):
    """The database cannot be reached and no list is known: nothing can be checked."""


class KnownTargets:
    """Story slugs and variant ids, refreshed every TRACKING_LOOKUP_SECONDS.

    A miss reloads at most every two seconds, so a story published a moment ago counts at
    once while a flood of made-up slugs cannot turn into a flood of queries.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._stories = self._variants = None  # None until a list is known
        self._loaded_at = None  # when the database last answered (time.monotonic)
        self._retry_at = 0.0  # after a failed load, no attempt before this
        self._away = False

    def lookup(self, slug, variant_id, max_age):
        """(story id, appeal id of the variant) for a slug and a variant id; None if unknown.

        Raises TargetsUnavailable when the database cannot be reached and there is no list
        in memory or in the snapshot.
        """
        with self._lock:
            now = time.monotonic()
            found = self._find(slug, variant_id)
            if self._wants_refresh(found, now, max_age) and now >= self._retry_at:
                self._refresh(now)
                found = self._find(slug, variant_id)
            if self._stories is None:
                raise TargetsUnavailable("the database is unreachable and no list is known")
            return found

    def _find(self, slug, variant_id):
        if self._stories is None:
            return None, None
        return self._stories.get(slug), self._variants.get(variant_id)

    def _wants_refresh(self, found, now, max_age):
        if self._loaded_at is None:
            return True
        age = now - self._loaded_at
        return age > max_age or (None in found and age > min(MISS_RECHECK_SECONDS, max_age))

    def _refresh(self, now):
        try:
            stories = dict(db.session.execute(select(Story.slug, Story.id)).all())
            variants = dict(db.session.execute(
                select(AppealVariant.id, AppealVariant.appeal_id)).all())
        except DBAPIError as exc:
            db.session.rollback()
            self._retry_at = now + DATABASE_RETRY_SECONDS
            self._database_away(exc)
            return
        if self._away:
            current_app.logger.info("known targets: database reachable again")
        changed = (stories, variants) != (self._stories, self._variants)
        self._stories, self._variants = stories, variants
        self._loaded_at, self._retry_at, self._away = now, 0.0, False
        path = _snapshot_path()
        if changed and path:
            _write_snapshot(path, stories, variants)

    def _database_away(self, exc):
        if not self._away:  # one line per outage, not one per beacon
            state = "keeping the last list" if self._stories is not None else "no list yet"
            current_app.logger.warning("known targets: database unreachable (%s); %s",
                                       type(exc).__name__, state)
        self._away = True
        path = _snapshot_path()
        if self._stories is None and path:
            snapshot = _read_snapshot(path)
            if snapshot:
                self._stories, self._variants = snapshot
                current_app.logger.warning("known targets: serving the snapshot on disk")


def _snapshot_path():
    # Only a journal can accept a beacon while the database is away: no journal, no snapshot.
    if current_app.config["TRACKING_JOURNAL_SECONDS"] <= 0:
        return None
    return Path(journal_directory(current_app)) / SNAPSHOT_NAME


def _write_snapshot(path, stories, variants):
    # Written whole under a temporary name and renamed: a reader never sees half a file.
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".known-targets-",
                                         suffix=".tmp", delete=False) as out:
            temporary = out.name
            json.dump({"stories": stories, "variants": variants}, out, separators=(",", ":"))
        os.replace(temporary, path)
    except OSError as exc:
        current_app.logger.warning("known targets: snapshot not written (%s)", exc)
        if temporary:
            Path(temporary).unlink(missing_ok=True)


def _read_snapshot(path):
    try:
        data = json.loads(path.read_text())
        return ({str(slug): int(i) for slug, i in data["stories"].items()},
                {int(v): int(a) for v, a in data["variants"].items()})
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def init_app(app):
    """Give the app its own list of known targets."""
    app.extensions[EXTENSION] = KnownTargets()


def known_targets():
    """The current app's list of known targets."""
    return current_app.extensions[EXTENSION]
