"""The appeal audit log: what an appeal and its variants were before and after each save,
who saved it, and when.

`save_appeal` (services/appeals.py) is the one way the app changes an appeal; it takes a
snapshot before, flushes, and records the difference in the same transaction, so a change
without its entry (or an entry without its change) cannot be committed.

Snapshots are generic: every column of `appeal` and `appeal_variant` except ids and
timestamps, read from the table definitions, so a column added later is audited with no
change here. Both snapshots are read from the database (the "before" one without flushing),
so each value is compared as stored.
"""
import getpass
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import inspect, select

from supportapp.extensions import db
from supportapp.models import Appeal, AppealChange, AppealVariant
from supportapp.services.clock import current_time

# Not what staff change, so never in a snapshot.
SKIPPED_COLUMNS = frozenset({"id", "appeal_id", "created_at", "updated_at"})
# Which status a save moves to, and the action it is logged as; anything else is "edited".
STATUS_ACTIONS = {"live": "started", "paused": "paused", "ended": "ended", "draft": "drafted"}
CHANGES_PER_PAGE = 20


@dataclass(frozen=True)
class Actor:
    """Who made a change: a staff account (its id and email), or words for anything else."""

    label: str
    staff_id: int | None = None


APP_ACTOR = Actor("the app")  # no one signed in: the seed command, a test, a background job


def staff_actor(staff):
    """The actor for a signed-in staff account; its email is copied, so the entry outlives
    the account."""
    return Actor(staff.email, staff.id)


def command_line_actor():
    """The actor for `flask appeals …`: "command line", with the OS user when known."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password file
        return Actor("command line")
    return Actor(f"command line (user {user})")


def _plain(value):
    """A column value as JSON keeps it, compared the same way before and after."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row_values(row, table):
    return {c.name: _plain(row[c.name]) for c in table.columns if c.name not in SKIPPED_COLUMNS}


def snapshot(appeal_id, lock=False):
    """The stored appeal and its variants as plain values, or None for no such appeal:
    {"appeal": {column: value}, "variants": {"<id>": {column: value}}}.

    Reads the database without flushing the session, so pending edits are not in it. With
    `lock`, the appeal's row stays locked until the transaction ends (PostgreSQL), so two
    saves at once are logged one after the other, each against what the other left."""
    if appeal_id is None:
        return None
    appeal_table, variant_table = Appeal.__table__, AppealVariant.__table__
    query = select(appeal_table).where(appeal_table.c.id == appeal_id)
    with db.session.no_autoflush:
        row = db.session.execute(
            query.with_for_update() if lock else query).mappings().first()
        if row is None:
            return None
        variants = db.session.execute(
            select(variant_table).where(variant_table.c.appeal_id == appeal_id)
            .order_by(variant_table.c.id)).mappings().all()
    return {"appeal": _row_values(row, appeal_table),
            "variants": {str(v["id"]): _row_values(v, variant_table) for v in variants}}


def snapshot_before_save(appeal):
    """The snapshot of an Appeal object as stored, before its pending edits are flushed;
    None for a new one. Its id comes from the identity map, so an expired object is not
    reloaded (a reload would flush the edits first)."""
    identity = inspect(appeal).identity
    return snapshot(identity[0], lock=True) if identity else None


def _is_empty(value):
    return value is None or value in ("", [], {})


def _field_changes(before, after):
    """Fields whose values differ; for something new or removed, only the fields it set."""
    whole = not before or not after
    return {name: [before.get(name), after.get(name)]
            for name in sorted(before.keys() | after.keys())
            if before.get(name) != after.get(name)
            and not (whole and _is_empty(before.get(name)) and _is_empty(after.get(name)))}


def _variant_changes(before, after):
    changes = {}
    for variant_id in sorted(before.keys() | after.keys(), key=int):
        old, new = before.get(variant_id), after.get(variant_id)
        fields = _field_changes(old or {}, new or {})
        if fields:
            change = "added" if old is None else "removed" if new is None else "edited"
            changes[variant_id] = {"change": change, "name": (new or old).get("name"),
                                   "fields": fields}
    return changes


def diff(before, after):
    """What changed between two snapshots (None before: a new appeal), {} when nothing did:
    {"appeal": {field: [before, after]}, "variants": {"<id>": {"change": "added" | "removed"
    | "edited", "name": ..., "fields": {field: [before, after]}}}}, empty parts left out."""
    before = before or {"appeal": {}, "variants": {}}
    changes = {"appeal": _field_changes(before["appeal"], after["appeal"]),
               "variants": _variant_changes(before["variants"], after["variants"])}
    return {part: value for part, value in changes.items() if value}


def _action(before, changes):
    if before is None:
        return "created"
    status = changes.get("appeal", {}).get("status")
    if status is None:
        return "edited"
    if status == ["paused", "live"]:
        return "resumed"
    return STATUS_ACTIONS.get(status[1], "edited")


def record_change(appeal_id, before, actor):
    """Add the entry for a flushed save of an appeal, given its snapshot from before the save
    (None for a new appeal); returns it, or None when nothing changed (a save that changes
    nothing leaves no entry). Not committed: the caller commits it with the change."""
    changes = diff(before, snapshot(appeal_id))
    if not changes:
        return None
    entry = AppealChange(appeal_id=appeal_id, at=current_time(), staff_id=actor.staff_id,
                         actor=actor.label, action=_action(before, changes), diff=changes)
    db.session.add(entry)
    return entry


def list_changes(appeal_id, page=1, per_page=CHANGES_PER_PAGE):
    """One page of an appeal's entries, newest first (a Flask-SQLAlchemy Pagination; a page
    past the last is empty)."""
    query = (select(AppealChange).where(AppealChange.appeal_id == appeal_id)
             .order_by(AppealChange.at.desc(), AppealChange.id.desc()))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)
