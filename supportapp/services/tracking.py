"""Recording appeal events durably and rolling them up into daily counts."""
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import delete, insert, select

from supportapp.extensions import db
from supportapp.models.dialect import dialect_insert, insert_many, rows_as_dicts
from supportapp.models.tracking import (
    DailyFunnel,
    RollupState,
    TrackingDedup,
    TrackingEvent,
    TrackingInbox,
)
from supportapp.services.clock import current_time
from supportapp.services.reader_funnel import VIEWS_REPORTED, fold_stages, is_staged

# What each kind adds on its own: offers always; the stages only for events of no reader
# key, which cannot be joined (the others go through reader_funnel.fold_stages).
FUNNEL_COLUMN = {"rendered": "rendered", "view": "viewable", "click": "clicks",
                 "checkout": "checkouts", "offer": "offers_shown", "offer_yes": "offers_accepted",
                 "holdback": "rendered"}
DAILY_COLUMNS = (*dict.fromkeys(FUNNEL_COLUMN.values()), VIEWS_REPORTED)
ROLLUP_BATCH = 5000


class TrackedEvent(NamedTuple):
    """One event to count. A named tuple, not a frozen dataclass: a beacon or a story page
    makes one per request, and a tuple is built in C (a frozen dataclass sets each field
    through object.__setattr__)."""

    kind: str
    story_id: int = 0
    appeal_id: int = 0
    variant_id: int = 0
    reader_id: str | None = None
    # Set for events counted once per key (e.g. a view once per reader, story, variant, day).
    dedup_key: str | None = None
    page_view: str | None = None  # the page's id: the reader's key when reader_id is None
    at: datetime | None = None  # when it was received, if not now (events from the journal)


def _new_dedup_keys(keys, day):
    """Insert keys; return those that were not there yet (only they count)."""
    if not keys:
        return set()
    # One statement, compiled once by SQLAlchemy (a VALUES list of its own per batch cost
    # more than the rest of a load).
    inserted = insert_many(
        TrackingDedup.__table__, [{"key": k, "day": day} for k in keys], _skip_known_keys,
        returning=TrackingDedup.__table__.c.key)
    return set(inserted)


def _skip_known_keys(stmt):
    return stmt.on_conflict_do_nothing(index_elements=["key"])


def _inbox_row(event, now):
    now = event.at or now
    return {"received_at": now, "day": now.date(), "kind": event.kind,
            "story_id": event.story_id, "appeal_id": event.appeal_id,
            "variant_id": event.variant_id, "reader_id": event.reader_id,
            "page_view": event.page_view}


def _fresh_rows(events, now, batch_key):
    """Rows (as the inbox and archive hold them) of the events not counted yet, or None when
    the batch_key has been recorded before: it and the events' dedup keys are noted in the
    caller's transaction."""
    if batch_key:
        return _fresh_chunk_rows([(batch_key, events)], now)
    return _rows_of_fresh_keys(events, now)


def _fresh_chunk_rows(chunks, now):
    """_fresh_rows for (key, events) chunks: the rows of the chunks whose key is new, or None
    when every key has been recorded before."""
    fresh_chunks = _new_dedup_keys({key for key, _events in chunks}, now.date())
    if not fresh_chunks:
        return None
    events = [event for key, part in chunks if key in fresh_chunks for event in part]
    return _rows_of_fresh_keys(events, now)


def _rows_of_fresh_keys(events, now):
    keys = {e.dedup_key for e in events if e.dedup_key}
    fresh = _new_dedup_keys(keys, now.date())
    rows = []
    for event in events:
        if event.dedup_key and event.dedup_key not in fresh:
            continue
        fresh.discard(event.dedup_key)  # a key repeated within one batch counts once
        rows.append(_inbox_row(event, now))
    return rows


def record_events(events, now=None, batch_key=None):
    """Store events in the inbox in one transaction; returns how many were new.

    Once this returns, the events are committed: a process that dies afterwards loses none.
    A batch_key makes the whole batch count once, however often it is recorded.
    """
    rows = _fresh_rows(events, now or datetime.now(UTC), batch_key)
    if rows is None:
        db.session.rollback()
        return 0
    if rows:
        # Core, not the ORM's bulk path, which costs several times more per row here.
        insert_many(TrackingInbox.__table__, rows)
    db.session.commit()
    return len(rows)


def count_events(events, batch_key, now=None):
    """Archive events and add them to the daily funnels in one transaction, as a roll-up
    does, without the inbox; returns how many were new.

    For a batch kept durable elsewhere until this returns (a journal file's): the
    batch_key makes it count once, however often it is loaded. Going into the inbox and
    out again cost each journal event a seventh of the Python that counting it takes, and
    PostgreSQL an insert and a delete more.
    """
    return count_chunks([(batch_key, events)], now)


def count_chunks(chunks, now=None):
    """count_events for several (batch_key, events) chunks in one transaction: each chunk
    counts once, however often it is loaded, whichever chunks share its transaction.

    A journal file's chunks go together: with one-second files (about 1,100 story pages
    each) a second transaction for a file's last hundred events took PostgreSQL's roll-up
    from 24.5 to 30.6 µs of CPU per event; SQLite's was the same either way.
    """
    rows = _fresh_chunk_rows(chunks, now or datetime.now(UTC))
    if rows is None:
        db.session.rollback()
        return 0
    if rows:
        insert_many(TrackingEvent.__table__, rows)  # the archive numbers its rows itself
        _add_to_funnels(rows)
        _funnels_changed()
    db.session.commit()
    return len(rows)


def _oldest_inbox_ids(limit):
    ids = select(TrackingInbox.id).order_by(TrackingInbox.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        # Several processes may roll up at once; each takes rows no other has locked.
        ids = ids.with_for_update(skip_locked=True)
    return ids.scalar_subquery()


def _take_inbox_batch(limit):
    # Core, not the ORM's bulk delete: no identity map to synchronise, rows as plain dicts.
    inbox = TrackingInbox.__table__
    stmt = delete(inbox).where(inbox.c.id.in_(_oldest_inbox_ids(limit))).returning(*inbox.c)
    return rows_as_dicts(stmt)


def _move_inbox_batch(limit):
    """Up to `limit` of the oldest inbox rows, moved into the archive; returned as dicts."""
    inbox, archive = TrackingInbox.__table__, TrackingEvent.__table__
    names = [column.name for column in inbox.c if column.name != "id"]  # the archive's own
    if db.session.get_bind().dialect.name == "postgresql":
        # One statement: the rows go from the inbox to the archive inside PostgreSQL, and
        # come back only for the funnels (sending them back as arrays, after the ORM's
        # result handling, was a fifth of a roll-up's Python).
        moved = (delete(inbox).where(inbox.c.id.in_(_oldest_inbox_ids(limit)))
                 .returning(*inbox.c).cte("moved"))
        archived = insert(archive).from_select(
            names, select(*[moved.c[name] for name in names])).cte("archived")
        return rows_as_dicts(select(*moved.c).add_cte(archived))
    # SQLite copies the rows in SQL rather than back through SQLAlchemy's parameter handling,
    # a third of a roll-up's Python. The copy takes the write lock, so no other roll-up can
    # change which rows are the oldest before the delete takes the same ones.
    copy = insert(archive).from_select(names, select(*[inbox.c[name] for name in names])
                                       .where(inbox.c.id.in_(_oldest_inbox_ids(limit))))
    db.session.execute(copy)
    return _take_inbox_batch(limit)


def _add_to_funnels(rows):
    staged, alone = [], []
    for row in rows:
        (staged if is_staged(row) else alone).append(row)
    totals, appeals = fold_stages(staged)
    for row in alone:
        key = (row["day"], row["story_id"], row["variant_id"])
        totals[key][FUNNEL_COLUMN[row["kind"]]] += 1
        appeals[key] = row["appeal_id"]
    # One statement for all of a batch's stories and variants: a statement each cost a
    # batch of beacons across 60 story x variant pairs a third of its Python.
    values = [{"day": key[0], "story_id": key[1], "variant_id": key[2], "appeal_id": appeal_id,
               **{col: totals[key][col] for col in DAILY_COLUMNS}}
              for key, appeal_id in sorted(appeals.items())]
    insert_many(DailyFunnel.__table__, values, _add_counts)


def _add_counts(stmt):
    excluded = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["day", "story_id", "variant_id"],
        set_={col: stmt.table.c[col] + excluded[col] for col in DAILY_COLUMNS})


def roll_up(batch=ROLLUP_BATCH, now=None, stop=None):
    """Count every waiting event into the archive and the daily funnels: the journals'
    (count_events), then the inbox's; returns how many were counted.

    Each batch is one transaction: rows leave the inbox exactly when they are counted. A set
    `stop` (threading.Event) ends it between batches; the rest waits for the next roll-up.
    Then records when it finished (reports say "as of" that time).
    """
    moved = _drain_journal()  # what beacons and pages handed to journals
    while stop is None or not stop.is_set():
        rows = _move_inbox_batch(batch)
        if not rows:
            break
        _add_to_funnels(rows)
        db.session.commit()
        moved += len(rows)
        if len(rows) < batch:
            break
    _forget_old_dedup_keys(now or datetime.now(UTC))
    _record_rollup(moved)
    return moved


def _record_rollup(moved):
    _advance_rollup_state(1 if moved else 0, finished=True)
    db.session.commit()


def _funnels_changed():
    # What is computed from the funnels is cached by their version (RollupState). The time
    # stays the last roll-up's; only before the first one is there none to keep.
    _advance_rollup_state(1, finished=False)


def _advance_rollup_state(step, finished):
    # An upsert: concurrent roll-ups and loads (PostgreSQL) each add their own step.
    stmt = dialect_insert(RollupState).values(id=1, finished_at=current_time(), version=step)
    changes = {"version": RollupState.version + stmt.excluded.version}
    if finished:
        changes["finished_at"] = stmt.excluded.finished_at
    db.session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=changes))


@dataclass(frozen=True)
class RollupMark:
    finished_at: datetime | None  # None: no roll-up has run yet
    version: int  # grows whenever the daily funnels change (roll-ups, journal loads)


def last_rollup():
    """When the last roll-up finished and the funnels' data version (reads only)."""
    row = db.session.execute(select(RollupState.finished_at, RollupState.version)
                             .where(RollupState.id == 1)).first()
    return RollupMark(*row) if row else RollupMark(None, 0)


def roll_up_if_due(stop=None, seconds=None):
    """Roll up unless one finished (in any process) within half of `seconds` (default
    TRACKING_ROLLUP_SECONDS); returns how many events moved, or None when not due. For the
    app's thread, which looks every half interval, so the funnels are never older than it."""
    seconds = seconds or current_app.config["TRACKING_ROLLUP_SECONDS"] or 60
    finished = last_rollup().finished_at
    db.session.rollback()  # end the read: the roll-up's own transactions follow
    if finished is not None and current_time() - finished < timedelta(seconds=seconds / 2):
        return None
    return roll_up(stop=stop)


def roll_up_often(stop=None):
    """The worker's roll-up job: roll_up_if_due at TRACKING_WORKER_ROLLUP_SECONDS.

    A few seconds' events at a time: on a two-core server, a minute's burst (36,000 story
    pages' events at 600/s) took the CPU the web workers needed for two seconds, and their
    p99 went from 17 to 200 ms; spread out, the same work fits beside them.
    """
    return roll_up_if_due(stop, current_app.config["TRACKING_WORKER_ROLLUP_SECONDS"])


def _drain_journal():
    from supportapp.services.event_journal import app_journal, journal_directory

    app = current_app._get_current_object()
    if app.config["TRACKING_JOURNAL_SECONDS"] > 0:
        return app_journal(app).drain(journal_directory(app))
    return 0


def _forget_old_dedup_keys(now):
    # Keys only matter within their day; keep yesterday's for readers near midnight.
    cutoff = (now - timedelta(days=2)).date()
    db.session.execute(delete(TrackingDedup).where(TrackingDedup.day < cutoff))
    db.session.commit()


def checkout_started_event(session_id, story_id, appeal_id, variant_id, reader_id,
                           page_view=None):
    """The event that counts a Checkout Session started from a story (once per session,
    however often it is recorded)."""
    return TrackedEvent("checkout", story_id or 0, appeal_id or 0, variant_id or 0, reader_id,
                        dedup_key=f"checkout|{session_id}", page_view=page_view)

