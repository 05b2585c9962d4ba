"""The traffic shares a bandit appeal's variants get, as last re-weighted and as fixed for a day."""
from sqlalchemy import JSON, Date, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from supportapp.extensions import db
from supportapp.models.types import UTCDateTime


class BanditAllocation(db.Model):
    """One row per appeal under a bandit; shares are {variant id (text): basis points}.

    `shares` are the newest (re-weighted at most hourly, at `computed_at`); `day_shares` are
    the shares that held when UTC day `day` began, which readers with an id see all that day.
    """

    __tablename__ = "bandit_allocation"

    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id", ondelete="CASCADE"),
                                           primary_key=True)
    shares: Mapped[dict] = mapped_column(JSON, default=dict)
    computed_at = mapped_column(UTCDateTime(), nullable=False)
    day = mapped_column(Date, nullable=True)
    day_shares: Mapped[dict] = mapped_column(JSON, default=dict)
    impressions: Mapped[int] = mapped_column(Integer, default=0)  # viewable, as of computed_at

    def __repr__(self):
        return f"<BanditAllocation appeal={self.appeal_id} {self.shares}>"
