"""The migrations build exactly the schema that the models describe."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from supportapp.extensions import db


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
