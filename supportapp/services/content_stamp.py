"""The content stamp: one number that changes whenever what readers see of a story, the
sections or an appeal changes, so every process can keep built pages until it does.

Why a stamp row rather than max(updated_at): deletions and appeal variants have no
timestamp to compare, and one primary-key read is the cheapest query there is. The stamp is
changed by a session hook in the same transaction as the change (any ORM write to a story,
an appeal, a variant or a bandit allocation), so it can neither run ahead of nor lag behind
what it stamps: whoever sees the change sees the new stamp, in every process.
Appeals that start or end by their schedule need no stamp: which appeal runs is decided per
request from the cached live appeals and the time (services/appeals.appeal_for_section).

Each process reads the stamp at most once per CONTENT_STAMP_SECONDS (1 by default; 0 reads
it on every request): the one query a story page would otherwise make costs a third of the
page's work, and a second is well within the appeal cache time readers already allowed.
The process that makes a change forgets its copy when the change commits, so it shows
there on the very next request.
"""
import random

from flask import current_app, has_app_context, has_request_context, request
from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from supportapp.caches import app_caches
from supportapp.extensions import db
from supportapp.models import Appeal, AppealVariant, BanditAllocation, ContentVersion, Story

WATCHED = (Story, Appeal, AppealVariant, BanditAllocation)
WATCHED_TABLES = frozenset(model.__table__.name for model in WATCHED)
_ROW = 1
_REQUEST_KEY = "supportapp_content_stamp"
_CHANGED = "supportapp_content_changed"  # in Session.info: this transaction bumped the stamp
_READ = select(ContentVersion.stamp).where(ContentVersion.id == _ROW)  # built once: immutable


def content_stamp():
    """The current stamp (0 before any change): read at most once per request, and kept
    across requests for CONTENT_STAMP_SECONDS."""
    # Kept in the request's environ, not on `g`: an app context (and so `g`) can outlive a
    # request, as in tests that hold one open.
    if has_request_context() and _REQUEST_KEY in request.environ:
        return request.environ[_REQUEST_KEY]
    if current_app.config["CONTENT_STAMP_SECONDS"] > 0:
        stamp = app_caches().content_stamp.get("stamp", _read_stamp)
    else:
        stamp = _read_stamp()
    if has_request_context():
        request.environ[_REQUEST_KEY] = stamp
    return stamp


def _read_stamp():
    return db.session.execute(_READ).scalar() or 0


def _bump(session):
    """A new stamp in the session's transaction (the row made if missing)."""
    connection = session.connection()
    stamp = random.getrandbits(62) + 1
    changed = connection.execute(
        update(ContentVersion.__table__).where(ContentVersion.__table__.c.id == _ROW)
        .values(stamp=stamp))
    if changed.rowcount == 0:
        connection.execute(insert(ContentVersion.__table__).values(id=_ROW, stamp=stamp))
    session.info[_CHANGED] = True
    if has_request_context():
        request.environ.pop(_REQUEST_KEY, None)  # this request reads its own change from now on


def _touches_content(session):
    if any(isinstance(obj, WATCHED) for obj in (*session.new, *session.deleted)):
        return True
    return any(isinstance(obj, WATCHED) and session.is_modified(obj) for obj in session.dirty)


@event.listens_for(Session, "after_flush")
def _after_flush(session, _flush_context):
    if _touches_content(session):
        _bump(session)


@event.listens_for(Session, "do_orm_execute")
def _after_bulk_write(state):
    # UPDATE/DELETE/INSERT statements run through the session bypass the flush.
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in WATCHED_TABLES:
        _bump(state.session)


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    if session.info.pop(_CHANGED, False) and has_app_context():
        app_caches().content_stamp.clear()  # this process sees its own change at once


@event.listens_for(Session, "after_rollback")
def _after_rollback(session):
    session.info.pop(_CHANGED, None)
