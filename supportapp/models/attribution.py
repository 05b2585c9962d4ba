"""Which story, appeal variant and reader won a gift: columns shared by payments and supports."""
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column


class AttributedToAppeal:
    """Mixin: the story, appeal, variant and reader a gift is credited to (kept if they go)."""

    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("story.id", ondelete="SET NULL"), index=True, nullable=True)
    appeal_id: Mapped[int | None] = mapped_column(
        ForeignKey("appeal.id", ondelete="SET NULL"), index=True, nullable=True)
    variant_id: Mapped[int | None] = mapped_column(
        ForeignKey("appeal_variant.id", ondelete="SET NULL"), index=True, nullable=True)
    reader_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CreditedGift:
    """Mixin: whether a gift was direct or influenced, and the story, appeal and variant
    credited with it (services/gift_attribution.py)."""

    # "direct" (given from the appeal on a story), "influenced" (the
    # reader saw it on a story within the window, then gave another way) or "held_back" (the
    # reader was in the appeal's holdback: credited to the appeal with no variant); None:
    # no appeal seen. The credited_* columns name the story, appeal and variant credited.
    attribution_kind: Mapped[str | None] = mapped_column(String(12), nullable=True)
    credited_story_id: Mapped[int | None] = mapped_column(
        ForeignKey("story.id", ondelete="SET NULL"), index=True, nullable=True)
    credited_appeal_id: Mapped[int | None] = mapped_column(
        ForeignKey("appeal.id", ondelete="SET NULL"), index=True, nullable=True)
    credited_variant_id: Mapped[int | None] = mapped_column(
        ForeignKey("appeal_variant.id", ondelete="SET NULL"), index=True, nullable=True)


class WonByReminder:
    """Mixin: the "Remind me later" email whose link the gift was made from, if any (its
    link carries a signed reference; the checkout's metadata keeps it)."""

    reminder_id: Mapped[int | None] = mapped_column(
        ForeignKey("reminder.id", ondelete="SET NULL"), index=True, nullable=True)
