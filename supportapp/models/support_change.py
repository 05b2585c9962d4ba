"""Something a supporter changed about their support, kept for them and for staff.

Written by the "manage my support" page (an amount or frequency changed, a pause, a resume,
a cancellation with its reason, a card update, an erasure), in the same transaction as the
confirmation email it sends.
"""
from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from supportapp.extensions import db
from supportapp.models.types import UTCDateTime, utcnow

SUPPORT_CHANGE_KINDS = ("amount_changed", "frequency_changed", "paused", "resumed",
                        "cancelled", "card_updated", "history_downloaded", "erased")


class SupportChange(db.Model):
    __tablename__ = "support_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The supporter's email when the change was made (kept as a digest after an erasure).
    email: Mapped[str] = mapped_column(String(320), index=True)
    recurring_support_id: Mapped[int | None] = mapped_column(
        ForeignKey("recurring_support.id"), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(30))
    # What changed, in plain values: {"from": 500, "to": 800, "currency": "USD"},
    # {"months": 2}, {"reason": "too_expensive"}; never card data.
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False, index=True)

    def __repr__(self):
        return f"<SupportChange {self.id} {self.kind}>"
