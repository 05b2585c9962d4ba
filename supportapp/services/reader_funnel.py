"""Each reader's furthest funnel stage per story, variant and day, and what it adds to the
daily funnel.

A later stage implies the earlier ones: a click means the appeal was viewable and shown, a
checkout means it was clicked. Beacons get lost (blockers, a click within the viewability
second, a closed tab) and arrive twice or out of order, so counting each kind on its own
gave more clicks than views and conversions over 100%. Here every event of a reader (the
reader id, else "pv:<page view id>") only raises that reader's stage for the day, and the
daily funnel receives exactly the stages newly reached: any order, duplicates or gaps of
the same events give the same totals.

Events with neither a reader id nor a page view id (journals and clients from before page
views were recorded) cannot be joined to anything: they count on their own, as before.
"""
from collections import Counter, defaultdict

from sqlalchemy import text

from supportapp.extensions import db
from supportapp.models.dialect import insert_many, rows_with_keys
from supportapp.models.tracking import ReaderFunnel

HOLDBACK = "holdback"
STAGES = {"rendered": 1, HOLDBACK: 1, "view": 2, "click": 3, "checkout": 4}
# The DailyFunnel column counting readers who reached each stage (1 to 4).
STAGE_COLUMNS = ("rendered", "viewable", "clicks", "checkouts")
VIEWS_REPORTED = "views_reported"
PAGE_VIEW_PREFIX = "pv:"
WRITE_CHUNK = 1000
# Held while a batch's stages are read and written, so two roll-ups (PostgreSQL lets them
# run side by side) never both count the same reader's step. Any constant of our own.
ROLLUP_LOCK_ID = 0x5EADF0
KEY_NAMES = ("day", "reader_key", "story_id", "variant_id")


def reader_key(reader_id, page_view):
    """What a reader's events join on: the reader id, else "pv:<page view id>", else None."""
    if reader_id:
        return reader_id
    return f"{PAGE_VIEW_PREFIX}{page_view}" if page_view else None


def is_staged(row):
    """True for an event row (inbox or archive) that moves its reader's stage: a stage kind
    with a reader key, for an appeal variant, or a holdback (variant 0: "held back, saw no
    appeal")."""
    kind = row["kind"]
    if kind not in STAGES or reader_key(row["reader_id"], row.get("page_view")) is None:
        return False
    return (row["variant_id"] == 0) == (kind == HOLDBACK)


def _fold_batch(rows):
    batch = {}
    for row in rows:
        key = (row["day"], reader_key(row["reader_id"], row.get("page_view")),
               row["story_id"], row["variant_id"])
        stage, view = STAGES[row["kind"]], row["kind"] == "view"
        seen = batch.get(key)
        if seen is None:
            batch[key] = [row["appeal_id"], stage, view, row["received_at"]]
            continue
        seen[0] = seen[0] or row["appeal_id"]
        seen[1], seen[2] = max(seen[1], stage), seen[2] or view
        seen[3] = max(seen[3], row["received_at"])
    return batch


def _stored(keys):
    """{key: (stage, view_reported, last_seen_at)} of the rows already stored for keys."""
    rows = rows_with_keys(ReaderFunnel.__table__, KEY_NAMES, keys,
                          ("stage", "view_reported", "last_seen_at"))
    return {(day, who, story, variant): (stage, bool(view), seen)
            for day, who, story, variant, stage, view, seen in rows}


def _lock_stages():
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": ROLLUP_LOCK_ID})
    # SQLite: the caller's transaction has already written (the inbox, or a journal
    # batch's key and archive rows), so it holds the lock.


def _add_steps(counts, old_stage, old_view, new_stage, new_view):
    # Into the day's Counter directly: a Counter per reader, then update(), was 8% of a
    # roll-up's Python.
    for stage in range(old_stage, new_stage):
        counts[STAGE_COLUMNS[stage]] += 1
    if new_view and not old_view:
        counts[VIEWS_REPORTED] += 1


def _upsert(stmt):
    return stmt.on_conflict_do_update(
        index_elements=list(KEY_NAMES),
        set_={name: getattr(stmt.excluded, name)
              for name in ("appeal_id", "stage", "view_reported", "last_seen_at")})


def _write(values):
    for start in range(0, len(values), WRITE_CHUNK):
        insert_many(ReaderFunnel.__table__, values[start:start + WRITE_CHUNK], _upsert)


def fold_stages(rows):
    """Raise the stored stages by the staged rows of one roll-up or journal batch (is_staged),
    in the caller's transaction; returns (increments, appeal ids), both keyed by
    (day, story_id, variant_id): the DailyFunnel counts each newly reached stage adds."""
    batch = _fold_batch(rows)
    increments, appeals = defaultdict(Counter), {}
    if not batch:
        return increments, appeals
    _lock_stages()
    stored = _stored(batch)
    values = []
    for key, (appeal_id, stage, view, seen) in sorted(batch.items()):
        old_stage, old_view, old_seen = stored.get(key, (0, False, seen))
        new_stage, new_view = max(old_stage, stage), old_view or view
        day, who, story_id, variant_id = key
        _add_steps(increments[(day, story_id, variant_id)],
                   old_stage, old_view, new_stage, new_view)
        appeals[(day, story_id, variant_id)] = appeal_id
        values.append({"day": day, "reader_key": who, "story_id": story_id,
                       "variant_id": variant_id, "appeal_id": appeal_id, "stage": new_stage,
                       "view_reported": new_view, "last_seen_at": max(old_seen, seen)})
    _write(values)
    return increments, appeals
