"""Reader and page view ids sort by the second they were made in, on both databases, and
are otherwise random."""
import time
from datetime import UTC, date, datetime

from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import ReaderFunnel
from supportapp.services.beacon import new_page_view_id, valid_page_view_id
from supportapp.services.ordered_ids import PREFIX_LENGTH, ordered_id
from supportapp.services.reader_cookies import new_reader_id, valid_reader_id

# Seconds across the places a careless prefix breaks: a digit carried into a letter (9 -> a),
# a new leading digit (0x0fffffff -> 0x10000000), today, and the last second that fits.
MOMENTS = (0, 9, 10, 0x0FFFFFFF, 0x10000000, 1_796_000_000, 0xFFFFFFFF)


def test_ids_made_later_sort_later_as_text():
    ids = [ordered_id(16, now) for now in MOMENTS]
    assert sorted(ids) == ids
    assert [int(i[:PREFIX_LENGTH], 16) for i in ids] == list(MOMENTS)


def test_ids_of_the_same_second_differ_in_their_random_part():
    ids = {ordered_id(16, 1_796_000_000) for _ in range(200)}
    assert len(ids) == 200
    assert len({i[PREFIX_LENGTH:] for i in ids}) == 200


def test_the_app_s_ids_pass_its_own_checks_and_carry_the_time():
    before = int(time.time())
    reader, page_view = new_reader_id(), new_page_view_id()
    after = int(time.time())
    for made in (reader, page_view):
        assert before <= int(made[:PREFIX_LENGTH], 16) <= after
    assert valid_reader_id(reader) == reader
    assert valid_page_view_id(page_view) == page_view
    assert len(reader) == PREFIX_LENGTH + 22 and len(page_view) == PREFIX_LENGTH + 16


def test_the_database_keeps_them_in_the_order_they_were_made(app):
    # What the reader funnel's indexes rely on: the database's collation (PostgreSQL's may
    # be a locale's, not bytes) orders them by time too, so new readers go to the end.
    made = [ordered_id(16, now) for now in MOMENTS]
    db.session.add_all(ReaderFunnel(day=date(2026, 12, 2), reader_key=key, story_id=1,
                                    variant_id=1, appeal_id=1, stage=1, view_reported=False,
                                    last_seen_at=datetime.now(UTC))
                       for key in reversed(made))
    db.session.flush()
    stored = db.session.scalars(select(ReaderFunnel.reader_key)
                                .order_by(ReaderFunnel.reader_key)).all()
    db.session.rollback()
    assert stored == made
