"""INSERT … ON CONFLICT on both databases the app runs on (PostgreSQL and SQLite)."""
from supportapp.extensions import db


def dialect_insert(model):
    """An INSERT for model that supports on_conflict_do_nothing / _do_update here."""
    # Imported here, not at the top: a SQLite worker never needs SQLAlchemy's PostgreSQL
    # dialect, about 1.5 MB. (SQLite's is loaded by the models' sqlite_autoincrement anyway.)
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model.__table__)


def insert_ignore(model, values):
    """INSERT the row unless a unique key already holds it."""
    db.session.execute(dialect_insert(model).values(**values).on_conflict_do_nothing())
