"""The appeal audit log: one entry per save that changes something, with the exact diff, in
the same transaction as the change; its words for staff."""
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import Appeal, AppealChange, AppealVariant
from supportapp.services import appeals as appeals_service
from supportapp.services.appeal_audit import (
    Actor,
    command_line_actor,
    diff,
    list_changes,
    snapshot,
)
from supportapp.services.appeal_change_words import describe_appeal_change
from supportapp.services.appeals import AppealError, save_appeal, set_appeal_status

EDITOR = Actor("editor@newsroom.example", 7)
BODY = ("<p>The Harbour Ledger is an independent newsroom, and readers are what keep us at "
        "council meetings and school board hearings. If this work matters to you, give.</p>")


def _variant(name, **fields):
    values = {"heading": "Since you're here", "body": BODY, "cta_label": "Give",
              "preset_amounts": {"USD": {"monthly": [300, 700]}},
              "default_frequency": "monthly", "weight": 1, "is_control": False, **fields}
    return AppealVariant(name=name, **values)


@pytest.fixture
def appeal(app):
    appeal = Appeal(name="Winter drive", status="draft", target_sections=["local"],
                    excluded_sections=[])
    appeal.variants.extend([_variant("control", is_control=True), _variant("count")])
    save_appeal(appeal, EDITOR)
    return appeal


def _entries(appeal_id):
    db.session.expire_all()
    return db.session.scalars(select(AppealChange).where(AppealChange.appeal_id == appeal_id)
                              .order_by(AppealChange.id)).all()


def _reload(appeal_id):
    db.session.expire_all()
    return db.session.get(Appeal, appeal_id)


def test_creating_records_one_entry_with_every_value_set(appeal):
    """A new appeal: one "created" entry by its actor, each set value against nothing."""
    (entry,) = _entries(appeal.id)
    assert (entry.action, entry.actor, entry.staff_id) == ("created", EDITOR.label, 7)
    assert entry.diff["appeal"]["name"] == [None, "Winter drive"]
    assert entry.diff["appeal"]["target_sections"] == [None, ["local"]]
    assert "goal_label" not in entry.diff["appeal"]  # left empty: nothing to tell
    control, count = appeal.variants
    assert entry.diff["variants"][str(count.id)] == {
        "change": "added", "name": "count", "fields": {
            "name": [None, "count"], "heading": [None, "Since you're here"],
            "body": [None, BODY], "cta_label": [None, "Give"],
            "preset_amounts": [None, {"USD": {"monthly": [300, 700]}}],
            "default_frequency": [None, "monthly"], "weight": [None, 1],
            "is_control": [None, False]}}
    assert entry.diff["variants"][str(control.id)]["fields"]["is_control"] == [None, True]


def test_snapshot_holds_every_column_but_ids_and_timestamps(appeal):
    """Generic: a column added to either table later is in the snapshot with no code change."""
    taken = snapshot(appeal.id)
    assert set(taken["appeal"]) == {c.name for c in Appeal.__table__.columns} - {
        "id", "created_at", "updated_at"}
    for variant in appeal.variants:
        assert set(taken["variants"][str(variant.id)]) == {
            c.name for c in AppealVariant.__table__.columns} - {"id", "appeal_id"}
    assert snapshot(appeal.id + 1000) is None


def test_an_edit_records_exactly_what_changed(appeal):
    """Wording, weight, targeting, a variant removed and one added: one "edited" entry whose
    diff holds those fields and nothing else."""
    control, count = appeal.variants
    control.heading, control.weight = "Before you go", 3
    appeal.target_sections = ["local", "sport"]
    appeal.variants.remove(count)
    added = _variant("urgent", heading="Last call")
    appeal.variants.append(added)
    save_appeal(appeal, EDITOR)
    created, edited = _entries(appeal.id)
    assert edited.action == "edited"
    assert edited.diff["appeal"] == {"target_sections": [["local"], ["local", "sport"]]}
    variants = edited.diff["variants"]
    assert variants[str(control.id)] == {"change": "edited", "name": "control", "fields": {
        "heading": ["Since you're here", "Before you go"], "weight": [1, 3]}}
    assert variants[str(count.id)]["change"] == "removed"
    assert variants[str(count.id)]["fields"]["heading"] == ["Since you're here", None]
    assert variants[str(added.id)]["change"] == "added"
    assert variants[str(added.id)]["fields"]["heading"] == [None, "Last call"]
    assert set(variants) == {str(control.id), str(count.id), str(added.id)}


@pytest.mark.parametrize("steps", [
    [("live", "started"), ("paused", "paused"), ("live", "resumed"), ("ended", "ended")],
])
def test_each_status_change_is_one_entry(appeal, steps):
    """Start, pause, resume and end: one entry each, naming the action and the status."""
    before = "draft"
    for status, action in steps:
        set_appeal_status(appeal.id, status, EDITOR)
        entry = _entries(appeal.id)[-1]
        assert entry.action == action
        assert entry.diff == {"appeal": {"status": [before, status]}}
        before = status
    assert len(_entries(appeal.id)) == 1 + len(steps)


def test_a_save_that_changes_nothing_records_nothing(appeal):
    """The same values saved again, or a status set to what it is, leave no entry."""
    appeal = _reload(appeal.id)
    appeal.name = "Winter drive"
    appeal.target_sections = ["local"]
    save_appeal(appeal, EDITOR)
    set_appeal_status(appeal.id, "draft", EDITOR)
    assert len(_entries(appeal.id)) == 1


def test_a_refused_edit_records_nothing(appeal):
    """Validation refuses the save: neither the change nor an entry is kept."""
    appeal = _reload(appeal.id)
    for variant in appeal.variants:
        variant.weight = 0
    appeal.name = "Renamed"
    with pytest.raises(AppealError):
        save_appeal(appeal, EDITOR)
    db.session.rollback()
    assert len(_entries(appeal.id)) == 1 and _reload(appeal.id).name == "Winter drive"


def test_no_change_is_kept_when_its_entry_cannot_be_written(appeal, monkeypatch):
    """The change and its entry commit together: an entry that fails takes the change with it."""
    def broken(*_args):
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(appeals_service, "record_change", broken)
    appeal = _reload(appeal.id)
    appeal.name = "Renamed"
    with pytest.raises(RuntimeError):
        save_appeal(appeal, EDITOR)
    db.session.rollback()
    assert _reload(appeal.id).name == "Winter drive"


def test_the_command_line_records_its_actor(appeal, runner, monkeypatch):
    """`flask appeals activate|end` log "command line" with the OS user, and no account."""
    monkeypatch.setenv("LOGNAME", "night-editor")  # getpass reads it first
    assert runner.invoke(args=["appeals", "activate", str(appeal.id)]).exit_code == 0
    assert runner.invoke(args=["appeals", "end", str(appeal.id)]).exit_code == 0
    started, ended = _entries(appeal.id)[1:]
    assert (started.action, ended.action) == ("started", "ended")
    assert ended.actor == "command line (user night-editor)" and ended.staff_id is None
    assert ended.diff == {"appeal": {"status": ["live", "ended"]}}
    assert command_line_actor().label == "command line (user night-editor)"


def test_listing_is_newest_first_and_paginated(appeal):
    """Pages of entries, newest first; a page past the end is empty."""
    for n in range(4):
        appeal.name = f"Name {n}"
        save_appeal(appeal, EDITOR)
    first = list_changes(appeal.id, page=1, per_page=3)
    assert [e.diff["appeal"]["name"][1] for e in first.items] == ["Name 3", "Name 2", "Name 1"]
    assert first.pages == 2 and first.total == 5
    assert [e.action for e in list_changes(appeal.id, 2, 3).items] == ["edited", "created"]
    assert list_changes(appeal.id, 3, 3).items == []


def test_diff_matches_variants_by_id():
    """A variant renamed keeps its id, so it shows as edited, not removed and added."""
    before = {"appeal": {"name": "A"}, "variants": {"1": {"name": "x"}, "2": {"name": "y"}}}
    after = {"appeal": {"name": "A"}, "variants": {"1": {"name": "z"}, "3": {"name": "y"}}}
    assert diff(before, after) == {"variants": {
        "1": {"change": "edited", "name": "z", "fields": {"name": ["x", "z"]}},
        "2": {"change": "removed", "name": "y", "fields": {"name": ["y", None]}},
        "3": {"change": "added", "name": "y", "fields": {"name": [None, "y"]}}}}
    assert diff(after, after) == {}


def _entry(changes, action="edited"):
    from datetime import UTC, datetime

    return SimpleNamespace(diff=changes, at=datetime(2026, 11, 30, 3, 5, tzinfo=UTC),
                           actor="editor@newsroom.example", action=action)


def test_words_name_fields_and_format_values():
    """Field names and codes read as words; amounts as money in the goal's currency; a column
    added later (floor_percent) still reads as words."""
    described = describe_appeal_change(_entry({
        "appeal": {"status": ["draft", "live"], "goal_amount_minor": [None, 500000],
                   "goal_currency": [None, "EUR"], "floor_percent": [5, 10],
                   "starts_at": [None, "2026-12-01T09:30:00+00:00"]},
        "variants": {"4": {"change": "edited", "name": "count", "fields": {
            "default_frequency": ["monthly", "one_off"], "is_control": [True, False],
            "preset_amounts": [{"USD": {"monthly": [300]}}, {}]}}}}, action="started"),
        currency="USD")
    assert (described.action, described.at) == ("Started", "2026-11-30 03:05 UTC")
    appeal_group, variant_group = described.groups
    rows = {f.field: (f.before, f.after) for f in appeal_group.fields}
    assert rows == {"Status": ("Draft", "Live"), "Funding goal": ("none", "€5,000"),
                    "Goal currency": ("none", "EUR"), "Floor share per variant (%)": ("5", "10"),
                    "Starts": ("none", "2026-12-01 09:30 UTC")}
    assert variant_group.heading == "Variant “count” (changed)"
    assert {f.field: (f.before, f.after) for f in variant_group.fields} == {
        "Frequency chosen first": ("Monthly", "One-off"), "Control": ("yes", "no"),
        "Suggested amounts": ("USD monthly: $3", "none")}
    unknown = describe_appeal_change(_entry({"appeal": {"bandit_window": [1, 2]}}))
    assert unknown.groups[0].fields[0].field == "Bandit window"


def test_long_wording_is_a_word_diff_with_context():
    """A long body shows only the words removed and added, with unchanged text around them
    shortened, and the rest left out."""
    after = BODY.replace("school board hearings", "planning hearings")
    described = describe_appeal_change(_entry({"variants": {"1": {
        "change": "edited", "name": "control", "fields": {"body": [BODY, after]}}}}))
    (change,) = described.groups[0].fields
    kinds = [kind for kind, _text in change.wording]
    assert [t for k, t in change.wording if k == "removed"] == ["school board"]
    assert [t for k, t in change.wording if k == "added"] == ["planning"]
    assert kinds.count("gap") == 2  # the start and the end of the body are left out
    shown = "".join(t for k, t in change.wording if k in ("same", "removed"))
    assert "council meetings and " in shown and "<p>The Harbour" not in shown
    short = describe_appeal_change(_entry({"appeal": {"name": ["A", "B"]}}))
    assert short.groups[0].fields[0].wording == ()


def test_two_saves_at_once_are_logged_one_after_the_other(app, appeal):
    """PostgreSQL: a save that starts while another transaction holds the appeal waits for
    it, and logs its change against what that transaction committed (not a stale "before")."""
    import threading
    import time

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes one writer at a time; the row lock is PostgreSQL's")
    table = Appeal.__table__
    errors = []

    def save_mine():
        with app.app_context():
            try:
                mine = db.session.get(Appeal, appeal.id)
                mine.name = "Mine"
                save_appeal(mine, EDITOR)
            except Exception as exc:  # reported to the test below
                errors.append(exc)
            finally:
                db.session.remove()

    with db.engine.connect() as other:
        other.execute(select(table).where(table.c.id == appeal.id).with_for_update())
        saver = threading.Thread(target=save_mine)
        saver.start()
        deadline = time.monotonic() + 10
        while not _waiting_for_a_lock():
            assert time.monotonic() < deadline, "the save never waited for the lock"
            time.sleep(0.05)
        other.execute(table.update().where(table.c.id == appeal.id).values(name="Other"))
        other.commit()
    saver.join(10)
    assert not saver.is_alive() and errors == []
    assert _entries(appeal.id)[-1].diff == {"appeal": {"name": ["Other", "Mine"]}}


def _waiting_for_a_lock():
    from sqlalchemy import text

    # Its own connection: a transaction sees one snapshot of pg_stat_activity throughout.
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity "
                                 "WHERE wait_event_type = 'Lock'")).scalar() > 0
