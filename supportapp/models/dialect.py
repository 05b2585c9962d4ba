"""INSERT … ON CONFLICT on both databases the app runs on (PostgreSQL and SQLite)."""
from sqlalchemy.dialects import postgresql, sqlite

from supportapp.extensions import db


def dialect_insert(model):
    """An INSERT for model that supports on_conflict_do_nothing / _do_update here."""
    name = db.session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(model.__table__)


def insert_ignore(model, values):
    """INSERT the row unless a unique key already holds it."""
    db.session.execute(dialect_insert(model).values(**values).on_conflict_do_nothing())
