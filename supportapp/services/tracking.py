"""Recording appeal events durably and rolling them up into daily counts."""
import atexit
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from supportapp.extensions import db
from supportapp.models.tracking import DailyFunnel, TrackingDedup, TrackingEvent, TrackingInbox

FUNNEL_COLUMN = {"rendered": "rendered", "view": "viewable", "click": "clicks",
                 "checkout": "checkouts"}
ROLLUP_BATCH = 5000


@dataclass(frozen=True)
class TrackedEvent:
    kind: str
    story_id: int = 0
    appeal_id: int = 0
    variant_id: int = 0
    reader_id: str | None = None
    # Set for events counted once per key (e.g. a view once per reader, story, variant, day).
    dedup_key: str | None = None


def _dialect_insert(model):
    name = db.session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(model)


def _new_dedup_keys(keys, day):
    """Insert keys; return those that were not there yet (only they count)."""
    if not keys:
        return set()
    stmt = (_dialect_insert(TrackingDedup).values([{"key": k, "day": day} for k in keys])
            .on_conflict_do_nothing(index_elements=["key"]).returning(TrackingDedup.key))
    return set(db.session.scalars(stmt))


def _inbox_row(event, now):
    return {"received_at": now, "day": now.date(), "kind": event.kind,
            "story_id": event.story_id, "appeal_id": event.appeal_id,
            "variant_id": event.variant_id, "reader_id": event.reader_id}


def record_events(events, now=None):
    """Store events in the inbox in one transaction; returns how many were new.

    Once this returns, the events are committed: a process that dies afterwards loses none.
    """
    now = now or datetime.now(UTC)
    day = now.date()
    keys = {e.dedup_key for e in events if e.dedup_key}
    fresh = _new_dedup_keys(keys, day)
    rows = []
    for event in events:
        if event.dedup_key and event.dedup_key not in fresh:
            continue
        fresh.discard(event.dedup_key)  # a key repeated within one batch counts once
        rows.append(_inbox_row(event, now))
    if rows:
        db.session.execute(insert(TrackingInbox), rows)
    db.session.commit()
    return len(rows)


def _take_inbox_batch(limit):
    ids = select(TrackingInbox.id).order_by(TrackingInbox.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        # Several processes may roll up at once; each takes rows no other has locked.
        ids = ids.with_for_update(skip_locked=True)
    stmt = delete(TrackingInbox).where(TrackingInbox.id.in_(ids.scalar_subquery())).returning(
        *[getattr(TrackingInbox, c.name) for c in TrackingInbox.__table__.columns])
    return [row._asdict() for row in db.session.execute(stmt)]


def _add_to_funnels(rows):
    totals = Counter()
    appeals = {}
    for row in rows:
        key = (row["day"], row["story_id"], row["variant_id"])
        totals[key + (FUNNEL_COLUMN[row["kind"]],)] += 1
        appeals[key] = row["appeal_id"]
    for key, appeal_id in appeals.items():
        counts = {col: totals[key + (col,)] for col in FUNNEL_COLUMN.values()}
        stmt = _dialect_insert(DailyFunnel).values(
            day=key[0], story_id=key[1], variant_id=key[2], appeal_id=appeal_id, **counts)
        excluded = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=["day", "story_id", "variant_id"],
            set_={col: getattr(DailyFunnel, col) + getattr(excluded, col) for col in counts})
        db.session.execute(stmt)


def roll_up(batch=ROLLUP_BATCH, now=None):
    """Move every inbox event into the archive and the daily funnels; returns how many moved.

    Each batch is one transaction: rows leave the inbox exactly when they are counted.
    """
    rendered_buffer.flush()  # this process's latest renders, so reports include them
    moved = 0
    while True:
        rows = _take_inbox_batch(batch)
        if not rows:
            break
        db.session.execute(insert(TrackingEvent), rows)
        _add_to_funnels(rows)
        db.session.commit()
        moved += len(rows)
        if len(rows) < batch:
            break
    _forget_old_dedup_keys(now or datetime.now(UTC))
    return moved


def _forget_old_dedup_keys(now):
    # Keys only matter within their day; keep yesterday's for readers near midnight.
    cutoff = (now - timedelta(days=2)).date()
    db.session.execute(delete(TrackingDedup).where(TrackingDedup.day < cutoff))
    db.session.commit()


def record_rendered(story_id, appeal_id, variant_id, reader_id, buffer_seconds=0):
    """Count one appeal put into a page (server-side; every render counts).

    With buffer_seconds > 0 the count waits in this process's buffer for at most that long,
    so story pages do not pay for a database write each (see RenderedBuffer).
    """
    event = TrackedEvent("rendered", story_id, appeal_id, variant_id, reader_id)
    if buffer_seconds <= 0:
        record_events([event])
    else:
        rendered_buffer.add(event, buffer_seconds)


def record_checkout_started(session_id, story_id, appeal_id, variant_id, reader_id):
    """Count a Checkout Session started from a story (once per session, however often asked)."""
    record_events([TrackedEvent("checkout", story_id or 0, appeal_id or 0, variant_id or 0,
                                reader_id, dedup_key=f"checkout|{session_id}")])


class RenderedBuffer:
    """Rendered counts held briefly in memory, then written to the inbox in one statement.

    Rendered is the one count that happens on every story page view, so it is batched: a
    background thread writes the buffer every few seconds, and a full buffer or the process's
    normal exit writes it at once. A process killed outright (SIGKILL, out of memory) loses
    at most those few seconds of rendered counts; views, clicks, checkouts and payments are
    never buffered.
    """

    MAX_EVENTS = 2000

    def __init__(self):
        self._lock = threading.Lock()
        self._rows = []
        self._owner = None  # the pid whose flusher thread runs: a forked worker starts its own
        self._app = None

    def add(self, event, interval):
        row = _inbox_row(event, datetime.now(UTC))
        with self._lock:
            self._rows.append(row)
            self._app = current_app._get_current_object()
            if self._owner != os.getpid():
                if self._owner is not None:
                    self._rows = [row]  # forked: the parent's rows are the parent's to write
                self._start(interval)
            full = len(self._rows) >= self.MAX_EVENTS
        if full:
            self.flush()

    def _start(self, interval):
        self._owner = os.getpid()
        threading.Thread(target=self._run, args=(interval,), daemon=True,
                         name="rendered-buffer").start()

    def _run(self, interval):
        while True:
            time.sleep(interval)
            self.flush()

    def flush(self):
        """Write what is buffered; safe to call from any thread, at any time."""
        with self._lock:
            rows, self._rows = self._rows, []
            app = self._app
        if not rows or app is None:
            return 0
        try:
            with app.app_context():
                # A connection of its own: never commits, or expires, a request's session.
                with db.engine.begin() as conn:
                    conn.execute(insert(TrackingInbox), rows)
        except SQLAlchemyError:
            app.logger.exception("rendered counts not written; keeping %d for later", len(rows))
            with self._lock:
                self._rows = (rows + self._rows)[-self.MAX_EVENTS * 10:]
            return 0
        return len(rows)


rendered_buffer = RenderedBuffer()
atexit.register(rendered_buffer.flush)
