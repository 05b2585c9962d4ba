"""insert_many(): many rows in one statement (unnest() arrays on PostgreSQL, executemany on
SQLite), with NULLs, aware datetimes and an ON CONFLICT clause, stored as the ORM would;
rows_with_keys(): exactly the rows of the keys asked for."""
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import String, cast, select

from supportapp.extensions import db
from supportapp.models import DailyFunnel, ReaderFunnel, TrackingDedup, TrackingInbox
from supportapp.models.dialect import insert_many, rows_with_keys

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def _funnel(reader, stage, seen):
    return {"day": date(2026, 11, 30), "reader_key": reader, "story_id": 1, "variant_id": 2,
            "appeal_id": 3, "stage": stage, "view_reported": stage > 1, "last_seen_at": seen}


def _upsert(stmt):
    return stmt.on_conflict_do_update(
        index_elements=["day", "reader_key", "story_id", "variant_id"],
        set_={"stage": stmt.excluded.stage, "last_seen_at": stmt.excluded.last_seen_at})


def test_rows_with_nulls_and_times_land_as_given(app):
    rows = [{"received_at": NOW + timedelta(seconds=i), "day": NOW.date(), "kind": "view",
             "story_id": i, "appeal_id": 1, "variant_id": 1,
             "reader_id": None if i % 2 else f"r{i}", "page_view": f"pv{i}" if i % 3 else None}
            for i in range(5)]
    insert_many(TrackingInbox.__table__, rows)
    insert_many(TrackingInbox.__table__, [])  # nothing to do
    db.session.commit()
    stored = db.session.scalars(select(TrackingInbox).order_by(TrackingInbox.story_id)).all()
    assert [(r.received_at, r.reader_id, r.page_view, r.story_id) for r in stored] == \
        [(row["received_at"], row["reader_id"], row["page_view"], row["story_id"])
         for row in rows]


def test_rows_are_stored_as_the_orm_stores_them(app):
    """The very text (SQLite) or value the ORM writes for dates and times, so that queries
    comparing them see one format."""
    row = {"received_at": NOW + timedelta(microseconds=250), "day": NOW.date(),
           "kind": "view", "story_id": 1, "appeal_id": 1, "variant_id": 1,
           "reader_id": "orm", "page_view": None}
    db.session.add(TrackingInbox(**row))
    db.session.flush()
    insert_many(TrackingInbox.__table__, [dict(row, reader_id="many"),
                                          dict(row, reader_id="more")])
    db.session.commit()
    as_text = select(TrackingInbox.reader_id, cast(TrackingInbox.received_at, String),
                     cast(TrackingInbox.day, String)).order_by(TrackingInbox.id)
    stored = db.session.execute(as_text).all()
    assert [who for who, _at, _day in stored] == ["orm", "many", "more"]
    assert len({(at, day) for _who, at, day in stored}) == 1


def test_on_conflict_updates_the_rows_already_there(app):
    insert_many(ReaderFunnel.__table__, [_funnel("a", 1, NOW), _funnel("b", 1, NOW)], _upsert)
    later = NOW + timedelta(minutes=5)
    insert_many(ReaderFunnel.__table__, [_funnel("b", 3, later), _funnel("c", 2, later)],
                _upsert)
    db.session.commit()
    stored = {r.reader_key: (r.stage, r.last_seen_at)
              for r in db.session.scalars(select(ReaderFunnel))}
    assert stored == {"a": (1, NOW), "b": (3, later), "c": (2, later)}


def test_columns_left_out_get_their_defaults(app):
    """Rows without the columns that have defaults: stored with the defaults, as the ORM
    would (SQLite's tuple path steps aside for such statements)."""
    day = date(2026, 11, 30)
    insert_many(DailyFunnel.__table__, [{"day": day, "story_id": s, "variant_id": 1}
                                        for s in (1, 2)])
    insert_many(ReaderFunnel.__table__, [_funnel("one", 2, NOW)])  # one row, every column
    db.session.commit()
    stored = db.session.scalars(select(DailyFunnel).order_by(DailyFunnel.story_id)).all()
    assert [(f.story_id, f.appeal_id, f.rendered, f.clicks, f.views_reported)
            for f in stored] == [(1, 0, 0, 0, 0), (2, 0, 0, 0, 0)]
    funnel = db.session.scalars(select(ReaderFunnel)).one()
    assert (funnel.reader_key, funnel.stage, funnel.view_reported, funnel.last_seen_at) == \
        ("one", 2, True, NOW)


def test_returning_names_only_the_rows_inserted(app):
    """With ON CONFLICT DO NOTHING, `returning` gives the keys that were new (the journal's
    dedup keys count only then)."""
    table = TrackingDedup.__table__

    def ignore(stmt):
        return stmt.on_conflict_do_nothing(index_elements=["key"])

    day = date(2026, 11, 30)
    first = insert_many(table, [{"key": k, "day": day} for k in ("a", "b")], ignore,
                        returning=table.c.key)
    again = insert_many(table, [{"key": k, "day": day} for k in ("b", "c", "d")], ignore,
                        returning=table.c.key)
    assert sorted(first) == ["a", "b"] and sorted(again) == ["c", "d"]
    assert insert_many(table, [], ignore, returning=table.c.key) == []


def test_rows_with_keys_finds_exactly_the_keys_asked_for(app):
    """Near misses (the same reader on another story, variant or day) are not found; keys
    with no row are simply absent; more keys than one chunk all come back."""
    rows = [_funnel(f"r{i}", 1 + i % 3, NOW + timedelta(seconds=i)) for i in range(12)]
    rows.append({**_funnel("r0", 4, NOW), "story_id": 9})
    rows.append({**_funnel("r1", 4, NOW), "variant_id": 9})
    rows.append({**_funnel("r2", 4, NOW), "day": date(2026, 11, 29)})
    insert_many(ReaderFunnel.__table__, rows)
    db.session.commit()
    names = ("day", "reader_key", "story_id", "variant_id")
    asked = [(date(2026, 11, 30), f"r{i}", 1, 2) for i in (0, 1, 2, 5, 11, 40)]
    found = rows_with_keys(ReaderFunnel.__table__, names, asked, ("stage", "last_seen_at"),
                           chunk=4)
    assert sorted(found) == sorted((date(2026, 11, 30), f"r{i}", 1, 2, 1 + i % 3,
                                    NOW + timedelta(seconds=i)) for i in (0, 1, 2, 5, 11))
    assert rows_with_keys(ReaderFunnel.__table__, names, [], ("stage",)) == []


def test_a_roll_up_builds_its_statements_once(app):
    """Statements are kept per table, columns and conflict rule: a second journal batch of
    the same shape builds nothing new (a closure as conflict rule would add one a call),
    and what the kept statements write is what fresh ones wrote."""
    from supportapp.caches import app_caches
    from supportapp.services.tracking import TrackedEvent, count_events

    def batch(first):
        return [TrackedEvent("rendered", 1, 1, 1, f"reader-{n}", page_view=f"pv-{n}")
                for n in range(first, first + 3)]

    assert count_events(batch(0), batch_key="journal|a|0") == 3
    kept = len(app_caches().statements)
    assert kept >= 4  # the batch key, the archive, the reader funnel, the daily funnel
    assert count_events(batch(3), batch_key="journal|b|0") == 3
    assert count_events(batch(3), batch_key="journal|b|0") == 0
    assert len(app_caches().statements) == kept
    assert db.session.scalar(select(DailyFunnel.rendered)) == 6
    assert len(db.session.scalars(select(ReaderFunnel.reader_key)).all()) == 6
