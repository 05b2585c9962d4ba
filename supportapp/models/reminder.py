"""A reader's "Remind me later": one email, in a month they chose, asking again.

Left from the appeal's offer (via the month chooser on /support) with the reader's consent.
`month` is the first day of the chosen month: the reminder is due from then, a date in the
database, so a worker that was down catches up. `sent_at` is set in the same transaction
that writes the email into the outbox, so it goes once. One reminder per address and month.
"""
from datetime import date

from sqlalchemy import Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from supportapp.extensions import db
from supportapp.models.attribution import AttributedToAppeal
from supportapp.models.types import UTCDateTime, utcnow


class Reminder(AttributedToAppeal, db.Model):
    __tablename__ = "reminder"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stripped and lower-cased, so that one address asks once per month whatever its case;
    # after an erasure, its keyed digest (services/supporter_email.py).
    email: Mapped[str] = mapped_column(String(320))  # looked up through the unique key
    month: Mapped[date] = mapped_column(Date)  # the first day of the month to remind in
    created_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    sent_at = mapped_column(UTCDateTime(), nullable=True)
    unsubscribed_at = mapped_column(UTCDateTime(), nullable=True)
    # Not sent: the address gave after asking, so the reminder had nothing left to ask.
    skipped_at = mapped_column(UTCDateTime(), nullable=True)

    # AUTOINCREMENT: SQLite would otherwise give a deleted reminder's id to a new one, and
    # an old unsubscribe link would name it.
    __table_args__ = (
        UniqueConstraint("email", "month"),
        Index("ix_reminder_month_due", "month", "sent_at"),
        {"sqlite_autoincrement": True},
    )

    def __repr__(self):
        return f"<Reminder {self.id} {self.month:%Y-%m}>"
