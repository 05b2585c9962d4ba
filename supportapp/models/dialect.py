"""INSERT … ON CONFLICT on both databases the app runs on (PostgreSQL and SQLite)."""
from supportapp.extensions import db


def dialect_insert(model):
    """An INSERT for model that supports on_conflict_do_nothing / _do_update here."""
    return dialect_insert_table(model.__table__)


def insert_ignore(model, values):
    """INSERT the row unless a unique key already holds it."""
    db.session.execute(dialect_insert(model).values(**values).on_conflict_do_nothing())


def insert_many(table, rows, on_conflict=None):
    """INSERT rows (dicts with the same keys) into table; on_conflict(stmt), when given,
    adds the ON CONFLICT clause.

    On PostgreSQL the rows go as one array per column through unnest(), one statement per
    call: psycopg's executemany spends about 100 µs of Python per row, which made a roll-up
    cost a tenth of the story pages it counted. SQLite's executemany runs in C.
    """
    if not rows:
        return
    if db.session.get_bind().dialect.name != "postgresql":
        stmt = dialect_insert_table(table)
        db.session.execute(on_conflict(stmt) if on_conflict else stmt, rows)
        return
    from sqlalchemy import bindparam, cast, func, select
    from sqlalchemy.dialects.postgresql import ARRAY, insert

    names = list(rows[0])
    # Set-returning functions side by side in a select list advance in lockstep.
    arrays = select(*[func.unnest(cast(bindparam(name, type_=ARRAY(table.c[name].type)),
                                       ARRAY(table.c[name].type))).label(name)
                      for name in names])
    stmt = insert(table).from_select(names, arrays)
    db.session.execute(on_conflict(stmt) if on_conflict else stmt,
                       {name: [row[name] for row in rows] for name in names})


def dialect_insert_table(table):
    """dialect_insert() for a Table rather than a model."""
    # Imported here, not at the top: a SQLite worker never needs SQLAlchemy's PostgreSQL
    # dialect, about 1.5 MB. (SQLite's is loaded by the models' sqlite_autoincrement anyway.)
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)
