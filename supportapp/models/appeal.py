"""An appeal ("Since you're here…") and the wording variants that readers are split between."""
from flask import current_app, has_app_context
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from supportapp.config import DEFAULT_HOLDBACK_PERCENT
from supportapp.extensions import db
from supportapp.models.types import UTCDateTime, utcnow
from supportapp.services.giving import DEFAULT_FREQUENCY
from supportapp.services.html import sanitise_appeal_html

APPEAL_STATUSES = ("draft", "live", "paused", "ended")  # readers only ever see "live"
# "fixed": readers are split by the variants' weights; "bandit": by shares that Thompson
# sampling re-weighs (services/bandit_reweighting.py).
ALLOCATION_MODES = ("fixed", "bandit")


def configured_holdback_percent():
    """A new appeal's holdback: SUPPORTAPP_DEFAULT_HOLDBACK_PERCENT (5 unless set)."""
    if has_app_context():
        return current_app.config.get("DEFAULT_HOLDBACK_PERCENT", DEFAULT_HOLDBACK_PERCENT)
    return DEFAULT_HOLDBACK_PERCENT


class Appeal(db.Model):
    __tablename__ = "appeal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    starts_at = mapped_column(UTCDateTime(), nullable=True)
    ends_at = mapped_column(UTCDateTime(), nullable=True)
    # Insert after this many top-level paragraphs; None puts the appeal at the end.
    placement_paragraph: Mapped[int | None] = mapped_column(Integer, nullable=True)
    target_sections: Mapped[list] = mapped_column(JSON, default=list)
    excluded_sections: Mapped[list] = mapped_column(JSON, default=list)
    goal_amount_minor: Mapped[int | None] = mapped_column(Integer, nullable=True)
    goal_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    goal_label: Mapped[str] = mapped_column(String(300), default="")
    # The ticker stays hidden until this much (goal currency, minor units) is raised; 0: always.
    ticker_threshold_minor: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    allocation: Mapped[str] = mapped_column(String(10), default="fixed", server_default="fixed")
    # Under a bandit, every live variant keeps at least this share of readers (whole percent).
    floor_percent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Percent of readers (with a reader id) shown no appeal, to measure what it adds.
    holdback_percent: Mapped[int] = mapped_column(Integer, default=configured_holdback_percent,
                                                  server_default=str(DEFAULT_HOLDBACK_PERCENT))
    created_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)

    variants: Mapped[list["AppealVariant"]] = relationship(
        back_populates="appeal", cascade="all, delete-orphan", order_by="AppealVariant.id"
    )

    def __repr__(self):
        return f"<Appeal {self.id} {self.name!r} {self.status}>"


class AppealVariant(db.Model):
    __tablename__ = "appeal_variant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    heading: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    cta_label: Mapped[str] = mapped_column(String(100))
    # Plain text shown instead of the body while the appeal has no supporter; "": the body.
    no_supporters_line: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # {"USD": {"one_off": [500, 1000], "monthly": [300, 500], "annual": [...]}, ...} in minor units.
    preset_amounts: Mapped[dict] = mapped_column(JSON, default=dict)
    default_frequency: Mapped[str] = mapped_column(String(10), default=DEFAULT_FREQUENCY)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    is_control: Mapped[bool] = mapped_column(Boolean, default=False)

    appeal: Mapped[Appeal] = relationship(back_populates="variants")

    @validates("body")
    def _sanitise_body(self, _key, value):
        # Sanitised when written, like story bodies, so rendering stays cheap and safe.
        return sanitise_appeal_html(value or "")

    def __repr__(self):
        return f"<AppealVariant {self.id} {self.name!r}>"
