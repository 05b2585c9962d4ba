"""The migrations build exactly the schema that the models describe, and move data right."""
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from supportapp.extensions import db
from tests.conftest import make_app


def test_models_match_migrations(app):
    """After `db upgrade`, autogenerate finds no difference between models and database."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_upgrade_creates_every_model_table(app):
    """Every table the models declare exists after the migrations ran."""
    from sqlalchemy import inspect

    tables = set(inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables
    assert "alembic_version" in tables


OLD_CONTROL_BODY = (
    "<p>The Harbour Ledger is an independent newsroom, and readers are what keep us at "
    "council meetings, school board hearings and the water's edge in Port Alder. "
    "{supporter_count} of your neighbours already chip in so our reporting stays free for "
    "everyone. If this work matters to you, a contribution of any size helps.</p>")


@pytest.fixture
def empty_database(database_url, tmp_path):
    """A database of the run's backend with no tables: a file, or a PostgreSQL schema."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    import psycopg

    raw = re.sub(r"^postgresql\+psycopg://", "postgresql://", database_url)
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS migration_steps CASCADE")
        conn.execute("CREATE SCHEMA migration_steps")
    try:
        yield f"{database_url}?options=-csearch_path%3Dmigration_steps"
    finally:
        with psycopg.connect(raw, autocommit=True) as conn:
            conn.execute("DROP SCHEMA migration_steps CASCADE")


def _insert_old_appeal(conn):
    appeal = sa.table("appeal", *(sa.column(c) for c in ("id", "name", "status",
                                                         "goal_label")),
                      sa.column("target_sections", sa.JSON),
                      sa.column("excluded_sections", sa.JSON),
                      sa.column("created_at", sa.DateTime(timezone=True)),
                      sa.column("updated_at", sa.DateTime(timezone=True)))
    now = datetime.now(UTC)
    conn.execute(appeal.insert(), [{
        "id": 1, "name": "Autumn", "status": "live", "target_sections": [],
        "excluded_sections": [], "goal_label": "Our goal: $25,000 from readers by year end",
        "created_at": now, "updated_at": now}])
    variant = sa.table("appeal_variant", *(sa.column(c) for c in (
        "id", "appeal_id", "name", "heading", "body", "cta_label", "default_frequency",
        "weight", "is_control")), sa.column("preset_amounts", sa.JSON))
    rows = [
        (1, "You've read {article_count} stories this month", OLD_CONTROL_BODY, "Give"),
        (2, "{supporter_count} readers and {article_count} articles",
         "<p>Join {supporter_count} supporters. {supporter_count} of them.</p>", "Give"),
        (3, "Since you're here", "<p>{article_count}</p>", "Read {article_count} stories"),
    ]
    conn.execute(variant.insert(), [
        {"id": i, "appeal_id": 1, "name": f"v{i}", "heading": heading, "body": body,
         "cta_label": cta, "preset_amounts": {}, "default_frequency": "monthly", "weight": 1,
         "is_control": i == 1} for i, heading, body, cta in rows])


def _copy(conn, columns="heading, body, cta_label"):
    return [tuple(r) for r in conn.execute(sa.text(
        f"SELECT {columns} FROM appeal_variant ORDER BY id"))]


def test_0006_rewrites_old_copy_and_back(empty_database):
    """Upgrading drops the noun after each count placeholder, turns the old demo copy into the
    new seed's (with its line for no supporters) and dollars into US$; downgrading puts the
    nouns back. On SQLite and PostgreSQL."""
    from flask_migrate import downgrade, upgrade

    app = make_app(empty_database)
    with app.app_context():
        upgrade(revision="0005_staff")
        with db.engine.begin() as conn:
            _insert_old_appeal(conn)
        upgrade(revision="0006_appeal_copy")
        with db.engine.connect() as conn:
            (control, second, third) = _copy(conn, "heading, body, cta_label, "
                                                   "no_supporters_line")
            label, threshold = conn.execute(sa.text(
                "SELECT goal_label, ticker_threshold_minor FROM appeal")).one()
        assert control[0] == "You've read {article_count} this month"
        assert "so far we count {supporter_count} among your neighbours" in control[1]
        assert control[3].startswith("The Harbour Ledger is an independent newsroom")
        assert second == ("{supporter_count} and {article_count}",
                          "<p>Join {supporter_count}. {supporter_count} of them.</p>", "Give", "")
        assert third == ("Since you're here", "<p>{article_count}</p>", "Read {article_count}",
                         "")
        assert (label, threshold) == ("Our goal: US$25,000 from readers by year end", 0)

        downgrade(revision="0005_staff")
        with db.engine.connect() as conn:
            control, second, third = _copy(conn)
        assert control[0] == "You've read {article_count} stories this month"
        assert "we count {supporter_count} supporters among" in control[1]
        assert second[0] == "{supporter_count} supporters and {article_count} stories"
        assert third == ("Since you're here", "<p>{article_count} stories</p>",
                         "Read {article_count} stories")
        db.engine.dispose()


def _add_event(conn, table, event_id=None):
    """Insert one event row (with event_id, else numbered by the table); returns its id."""
    columns = "received_at, day, kind, story_id, appeal_id, variant_id"
    values = ":at, :day, 'rendered', 1, 1, 1"
    if event_id is not None:
        columns, values = f"id, {columns}", f":id, {values}"
    now = datetime.now(UTC)
    return conn.execute(sa.text(f"INSERT INTO {table} ({columns}) VALUES ({values}) "
                                "RETURNING id"),
                        {"id": event_id, "at": now, "day": now.date()}).scalar_one()


def test_0022_numbers_archive_rows_past_the_old_ones_and_back(empty_database):
    """Upgrading lets the archive number its rows itself, past those it was given (inbox
    ids); downgrading starts the inbox's numbers past every archive row, so rows moved with
    their inbox ids, as before, never collide. On SQLite and PostgreSQL."""
    from flask_migrate import downgrade, upgrade

    app = make_app(empty_database)
    with app.app_context():
        upgrade(revision="0021_content_version")
        with db.engine.begin() as conn:
            assert _add_event(conn, "tracking_event", event_id=41) == 41
        upgrade(revision="0022_archive_ids")
        with db.engine.begin() as conn:
            assert _add_event(conn, "tracking_event") == 42
            assert _add_event(conn, "tracking_event") == 43
        downgrade(revision="0021_content_version")
        with db.engine.begin() as conn:
            assert _add_event(conn, "tracking_inbox") > 43
        db.engine.dispose()
