"""One change to an appeal or its variants, kept for staff: who, when, what, before and after.

Written by `services.appeal_audit` in the same transaction as the change itself. The log
outlives what it points at: `appeal_id` and `staff_id` carry no foreign key (an appeal or an
account removed by hand leaves its history readable), and the actor's words are copied.
The app never updates or deletes a row.
"""
from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from supportapp.extensions import db
from supportapp.models.types import UTCDateTime

APPEAL_CHANGE_ACTIONS = ("created", "edited", "started", "resumed", "paused", "ended",
                         "drafted")


class AppealChange(db.Model):
    __tablename__ = "appeal_change"
    __table_args__ = (Index("ix_appeal_change_appeal_id_at", "appeal_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appeal_id: Mapped[int] = mapped_column(Integer)
    at = mapped_column(UTCDateTime(), nullable=False)
    # The signed-in account, if any; None for the command line or the app itself.
    staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Who, as staff read it: the account's email, or "command line (user alice)".
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(20))
    # {"appeal": {field: [before, after]},
    #  "variants": {"12": {"change": "added"|"removed"|"edited", "name": ...,
    #                      "fields": {field: [before, after]}}}}
    diff: Mapped[dict] = mapped_column(JSON, default=dict)

    def __repr__(self):
        return f"<AppealChange {self.id} appeal {self.appeal_id} {self.action}>"
