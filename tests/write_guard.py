"""A check that no call to Stripe is made while a database write transaction is open.

A network call inside a write transaction holds SQLite's only write lock (or PostgreSQL's row
locks) for as long as Stripe takes to answer. Every test runs with this check in front of the
Stripe SDK and of the in-memory fake, so a call made in the wrong place fails the test.
"""
from flask import has_app_context


class NetworkInWriteTransaction(AssertionError):
    """Stripe was called while this thread's session held uncommitted writes."""


def holds_write_transaction():
    """True when the current app context's session has written and not yet committed."""
    if not has_app_context():
        return False
    from supportapp.extensions import db

    if db.session().get_transaction() is None:
        return False
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        # pysqlite opens its transaction (BEGIN) only before a write.
        return connection.connection.dbapi_connection.in_transaction
    return connection.exec_driver_sql(
        "SELECT txid_current_if_assigned()").scalar() is not None


def assert_no_write_transaction(what):
    if holds_write_transaction():
        raise NetworkInWriteTransaction(f"Stripe {what} called inside a write transaction")
