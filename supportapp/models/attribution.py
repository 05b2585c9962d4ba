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


class WonByReminder:
    """Mixin: the "Remind me later" email whose link the gift was made from, if any (its
    link carries a signed reference; the checkout's metadata keeps it)."""

    reminder_id: Mapped[int | None] = mapped_column(
        ForeignKey("reminder.id", ondelete="SET NULL"), index=True, nullable=True)
