"""INSERT … ON CONFLICT, and many rows at once, on both databases the app runs on
(PostgreSQL and SQLite)."""
import operator

from supportapp.extensions import db


def dialect_insert(target):
    """An INSERT for a model or Table that supports on_conflict_do_nothing / _do_update
    here."""
    # Imported here, not at the top: a SQLite worker never needs SQLAlchemy's PostgreSQL
    # dialect, about 1.5 MB. (SQLite's is loaded by the models' sqlite_autoincrement anyway.)
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(getattr(target, "__table__", target))


def insert_ignore(model, values):
    """INSERT the row unless a unique key already holds it."""
    db.session.execute(dialect_insert(model).values(**values).on_conflict_do_nothing())


def insert_many(table, rows, on_conflict=None, returning=None):
    """INSERT rows (dicts with the same keys) into table; on_conflict(stmt), when given,
    adds the ON CONFLICT clause. With a `returning` column, returns that column's values of
    the rows inserted (a list), else None.

    On PostgreSQL the rows go as one array per column through unnest(), one statement per
    call: psycopg's executemany spends about 100 µs of Python per row, which made a roll-up
    cost a tenth of the story pages it counted, and SQLAlchemy's batches of VALUES (with
    RETURNING) are long query texts that psycopg parses in Python. On SQLite, without
    `returning`, they go to the driver's executemany as tuples (_sqlite_executemany).
    """
    if not rows:
        return [] if returning is not None else None
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    names = tuple(rows[0])
    stmt = _built(("insert", table, names, on_conflict, returning, postgresql),
                  lambda: _insert(table, names, on_conflict, returning, postgresql))
    params = {name: [row[name] for row in rows] for name in names} if postgresql else rows
    if returning is None:
        if postgresql or not _sqlite_executemany(stmt, table, rows):
            _core().execute(stmt, params)
        return None
    return list(_core().execute(stmt, params).scalars())


def _built(key, build):
    """The statement (or plan) kept under key, built once per app.

    Building an INSERT (and SQLAlchemy's cache key for a new statement object) cost about
    0.3 ms a statement, a tenth of the Python of rolling up a one-second journal file. So
    on_conflict must be a function defined once (at a module's top level), not a closure
    made per call, or nothing is ever found again.
    """
    from supportapp.caches import app_caches

    return app_caches().statements.get(key, build)


def _insert(table, names, on_conflict, returning, postgresql):
    stmt = _unnest_insert(table, list(names)) if postgresql else dialect_insert(table)
    stmt = on_conflict(stmt) if on_conflict else stmt
    return stmt if returning is None else stmt.returning(returning)


def _sqlite_executemany(stmt, table, rows):
    """Run stmt for every row as one tuple each through SQLite's executemany; False (nothing
    done) when the statement needs more than the rows' own values (a column default) or has
    a single column.

    SQLAlchemy builds and converts a parameter dict per row in Python; a SQLite roll-up
    writes two rows per story page, and this path took 2 to 4 µs off the 35 µs it spent on
    each (`bench/rollup_cost.py --database sqlite --events 20000`). The conversions the
    columns' types make (dates and times to text, for one) are picked once per statement.
    """
    connection = _core()
    names = tuple(rows[0])
    plan = _built(("sqlite plan", stmt, table, names, connection.dialect),
                  lambda: _sqlite_plan(stmt, table, names, connection.dialect))
    if plan is None:
        return False
    sql, values_of, converters = plan
    params = [values_of(row) for row in rows]
    if converters:
        params = [_converted(values, converters) for values in params]
    connection.exec_driver_sql(sql, params)
    return True


def _sqlite_plan(stmt, table, names, dialect):
    """(SQL, the rows' values in its order, their converters), or None (see above)."""
    compiled = stmt.compile(dialect=dialect, column_keys=list(names))
    order = compiled.positiontup
    if len(order) < 2 or sorted(order) != sorted(names):
        return None  # (one column: itemgetter would give bare values, not tuples)
    # The dialect's own types: a generic DateTime converts nothing, and sqlite3 would then
    # write its own text for a datetime, not the text SQLAlchemy writes and compares with.
    converters = [(index, convert) for index, name in enumerate(order)
                  if (convert := _bind_processor(table.c[name].type, dialect)) is not None]
    return compiled.string, operator.itemgetter(*order), converters


def _bind_processor(column_type, dialect):
    return column_type.dialect_impl(dialect).bind_processor(dialect)


def _converted(values, converters):
    values = list(values)
    for index, convert in converters:
        values[index] = convert(values[index])
    return tuple(values)


def rows_as_dicts(stmt):
    """The rows a Core statement returns, as plain dicts, in the session's transaction."""
    result = _core().execute(stmt)
    names = tuple(result.keys())
    return [dict(zip(names, row, strict=True)) for row in result]


def _core():
    # The session's connection, so its transaction, without Session.execute's ORM result
    # handling, which only adds work to Core statements on tables.
    return db.session.connection()


def _array_param(table, name):
    """The parameter `name` as an array of table's column `name`, cast so PostgreSQL knows
    its type (for unnest())."""
    from sqlalchemy import bindparam, cast
    from sqlalchemy.dialects.postgresql import ARRAY

    array = ARRAY(table.c[name].type)
    return cast(bindparam(name, type_=array), array)


def _unnest_insert(table, names):
    from sqlalchemy import func, select
    from sqlalchemy.dialects.postgresql import insert

    # Set-returning functions side by side in a select list advance in lockstep.
    columns = [func.unnest(_array_param(table, name)).label(name) for name in names]
    return insert(table).from_select(names, select(*columns))


def rows_with_keys(table, key_names, keys, other_names, chunk=500):
    """The rows of table whose key (the key_names columns) is one of keys (tuples), as a list
    of tuples: the key's values, then the other_names columns'.

    On PostgreSQL the keys go as arrays through unnest(), joined on the key: an index lookup
    per key. An IN list on one key column, filtered on the others, had the planner scan a
    whole day's rows against the 500-value list, row by row (1.8 s of a 2.4 s roll-up of
    20,000 events). SQLite looks up each chunk with an IN list per key column, which its
    indexes serve, and drops the near misses here: row values, `(a, b) IN (VALUES …)`, cost
    it 30 times more.
    """
    keys = list(keys)
    if not keys:
        return []
    columns = [table.c[name] for name in (*key_names, *other_names)]
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = _built(("unnest join", table, tuple(key_names), tuple(other_names)),
                      lambda: _unnest_join(table, key_names, columns))
        params = {name: [key[i] for key in keys] for i, name in enumerate(key_names)}
        return [tuple(row) for row in _core().execute(stmt, params)]
    from sqlalchemy import select

    found, width = [], len(key_names)
    for start in range(0, len(keys), chunk):
        part = keys[start:start + chunk]
        wanted = set(part)
        stmt = select(*columns).where(*[table.c[name].in_({key[i] for key in part})
                                        for i, name in enumerate(key_names)])
        found.extend(tuple(row) for row in _core().execute(stmt)
                     if tuple(row[:width]) in wanted)
    return found


def _unnest_join(table, key_names, columns):
    from sqlalchemy import and_, func, select

    arrays = [_array_param(table, name) for name in key_names]
    wanted = func.unnest(*arrays).table_valued(*key_names).render_derived(name="wanted")
    on = and_(*[table.c[name] == wanted.c[name] for name in key_names])
    return select(*columns).select_from(wanted.join(table, on))
