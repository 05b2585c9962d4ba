"""Appeal tracking: raw events (an archive, and an inbox for some) and daily rollups.

An event reaches the archive and the daily rollups in one transaction, so it is counted
exactly once, and reports read rollups, never raw events. The event journal's batches go
there directly (services/tracking.count_events, once per batch key); events recorded one
request at a time wait in the inbox, which `roll_up` moves on.
"""
from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from supportapp.extensions import db
from supportapp.models.types import UTCDateTime

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL wants room past 2**31 events.
EventId = BigInteger().with_variant(Integer(), "sqlite")
# "offer": the one-off -> monthly offer was shown; "offer_yes": the reader took it.
# "holdback": the reader was held back and saw no appeal (variant 0; it implies nothing else).
EVENT_KINDS = ("rendered", "view", "click", "checkout", "offer", "offer_yes", "holdback")


class _EventColumns:
    received_at = mapped_column(UTCDateTime(), nullable=False)
    day = mapped_column(Date, nullable=False)
    kind: Mapped[str] = mapped_column(String(10))
    story_id: Mapped[int] = mapped_column(Integer)  # 0: not from a story
    appeal_id: Mapped[int] = mapped_column(Integer)  # 0: no appeal
    variant_id: Mapped[int] = mapped_column(Integer)  # 0: no variant
    reader_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The page view id the server put into the page: the reader's key when there is no
    # reader id (Do Not Track, embeds without storage), shared by rendered and the beacons.
    page_view: Mapped[str | None] = mapped_column(String(64), nullable=True)


class TrackingInbox(_EventColumns, db.Model):
    """Events accepted and durable, not yet in the rollups."""

    __tablename__ = "tracking_inbox"
    # AUTOINCREMENT: SQLite would otherwise reuse the ids of rows moved to the archive.
    __table_args__ = {"sqlite_autoincrement": True}
    id = mapped_column(EventId, primary_key=True, autoincrement=True)


class TrackingEvent(_EventColumns, db.Model):
    """Every raw event ever counted, kept for audits and re-computation; reports never scan it.
    A replayed view or click is kept too: the reader funnel, not a key, makes it count once."""

    __tablename__ = "tracking_event"
    # Its own numbers (migration 0022): journal batches come without an inbox id.
    id = mapped_column(EventId, primary_key=True, autoincrement=True)
    __table_args__ = (Index("ix_tracking_event_day", "day"),)


class TrackingDedup(db.Model):
    """Keys of events already counted (an offer once per reader, story, variant and day, a
    checkout once per session, a journal batch once); views and clicks need none."""

    __tablename__ = "tracking_dedup"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    day = mapped_column(Date, nullable=False, index=True)


class DailyFunnel(db.Model):
    """Counts per day, story and variant: what every report reads."""

    __tablename__ = "daily_funnel"
    day = mapped_column(Date, primary_key=True)
    story_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    variant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appeal_id: Mapped[int] = mapped_column(Integer, default=0)
    rendered: Mapped[int] = mapped_column(Integer, default=0)
    viewable: Mapped[int] = mapped_column(Integer, default=0)
    clicks: Mapped[int] = mapped_column(Integer, default=0)
    checkouts: Mapped[int] = mapped_column(Integer, default=0)
    offers_shown: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    offers_accepted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Readers (or page views) whose viewable beacon arrived; `viewable` also counts those
    # whose later click or checkout implied it (services/reader_funnel.py).
    views_reported: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    __table_args__ = (
        Index("ix_daily_funnel_story_day", "story_id", "day"),
        Index("ix_daily_funnel_appeal_day", "appeal_id", "day"),
    )


class ReaderFunnel(db.Model):
    """How far one reader (or page view) went with one story's appeal variant on one day.

    `reader_key` is the reader id, or "pv:<page view id>" without one. A later stage implies
    the earlier ones; roll_up adds to DailyFunnel only what a row's stage newly reached, so
    duplicated, missing and out-of-order beacons count as the in-order stream would.
    variant_id 0: the reader was held back and saw no appeal.
    """

    __tablename__ = "reader_funnel"
    day = mapped_column(Date, primary_key=True)
    reader_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    story_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    variant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appeal_id: Mapped[int] = mapped_column(Integer)
    stage: Mapped[int] = mapped_column(Integer)  # see services/reader_funnel.STAGES
    view_reported: Mapped[bool] = mapped_column(Boolean)  # a viewable beacon arrived
    last_seen_at = mapped_column(UTCDateTime(), nullable=False)
    __table_args__ = (Index("ix_reader_funnel_reader_day", "reader_key", "day"),)


class RollupState(db.Model):
    """One row (id 1): when the last roll-up finished, and how often one has moved events.

    Reports read it to say "as of HH:MM UTC"; `version` grows whenever a roll-up changes the
    daily funnels, so what is computed from them can be cached until it moves.
    """

    __tablename__ = "rollup_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    finished_at = mapped_column(UTCDateTime(), nullable=False)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
