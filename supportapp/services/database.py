"""Whether the database answers, asked before work that must not start without it."""
from sqlalchemy import text

from supportapp.extensions import db


def ping_database():
    """Raise SQLAlchemy's OperationalError (answered 503) unless the database answers now.

    Asked before calling Stripe, so that a reader is never sent to pay for a gift this app
    could not then record or count. Ends its own transaction.
    """
    try:
        db.session.execute(text("SELECT 1"))
    finally:
        db.session.rollback()
