"""A published story, as the newsroom wrote it (body sanitised on write)."""
from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, validates

from supportapp.extensions import db
from supportapp.models.types import UTCDateTime, utcnow
from supportapp.services.html import sanitise_story_html


class Story(db.Model):
    __tablename__ = "story"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True, index=True)
    title: Mapped[str] = mapped_column(String(300))
    standfirst: Mapped[str] = mapped_column(Text, default="")
    byline: Mapped[str] = mapped_column(String(200), default="")
    section: Mapped[str] = mapped_column(String(100), index=True)
    published_at = mapped_column(UTCDateTime(), index=True, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, default="")
    source_url: Mapped[str | None] = mapped_column(String(1000), unique=True, nullable=True)
    appeal_disabled: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # Registered by the embed script for a page on another site: not listed on our pages.
    is_external: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    created_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)

    @validates("body_html")
    def _sanitise_body(self, _key, value):
        # Sanitised on every write, so pages never need to clean it again.
        return sanitise_story_html(value or "")

    @property
    def section_name(self):
        return section_display_name(self.section)

    def __repr__(self):
        return f"<Story {self.slug}>"


def section_display_name(slug):
    """`local-government` -> `Local government`."""
    words = slug.replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]
