"""Reading and writing stories."""
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select

from supportapp.extensions import db
from supportapp.models import Story

SLUG_PATTERN = r"[a-z0-9]+(?:-[a-z0-9]+)*"
SLUG_RE = re.compile(rf"^{SLUG_PATTERN}$")
MAX_SLUG_LENGTH = 200  # the width of Story.slug
DEFAULT_SECTION = "news"


class StoryError(ValueError):
    """A story record that cannot be stored; the message says which field and why."""


@dataclass
class StoryRecord:
    title: str
    body_html: str
    slug: str = ""
    standfirst: str = ""
    byline: str = ""
    section: str = DEFAULT_SECTION
    published_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    source_url: str | None = None
    appeal_disabled: bool = False


def slugify(text):
    """A URL-safe slug made of lower-case ASCII words joined by dashes."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:MAX_SLUG_LENGTH]


def validate_record(record):
    """Normalise a record in place and raise StoryError for anything that cannot be stored."""
    record.title = (record.title or "").strip()
    if not record.title:
        raise StoryError("missing required field 'title'")
    if not (record.body_html or "").strip():
        raise StoryError("missing required field 'body'")
    record.slug = (record.slug or "").strip()
    if record.slug and not SLUG_RE.match(record.slug):
        raise StoryError(f"slug {record.slug!r} must be lower-case letters, digits and dashes")
    record.section = slugify(record.section or DEFAULT_SECTION) or DEFAULT_SECTION
    if record.published_at.tzinfo is None:
        record.published_at = record.published_at.replace(tzinfo=UTC)
    return record


def _existing_story(record):
    if record.source_url:
        story = db.session.scalar(select(Story).where(Story.source_url == record.source_url))
        if story is not None:
            return story
    if record.slug:
        return db.session.scalar(select(Story).where(Story.slug == record.slug))
    return None


def free_slug(base):
    """A slug not yet taken: base, else base-2, base-3… (two stories may share a title)."""
    base = base or "story"
    slug, n = base, 2
    while db.session.scalar(select(Story.id).where(Story.slug == slug)) is not None:
        slug, n = f"{base}-{n}", n + 1
    return slug


def upsert_story(record):
    """Create or update the story keyed by source URL, else slug. Caller commits.

    A story found again keeps its slug unless the record names one, so its URL stays put.
    """
    record = validate_record(record)
    story = _existing_story(record)
    created = story is None
    if created:
        story = Story(slug=record.slug or free_slug(slugify(record.title)))
        db.session.add(story)
    elif record.slug:
        story.slug = record.slug
    for name in ("title", "standfirst", "byline", "section", "published_at", "body_html",
                 "appeal_disabled"):
        setattr(story, name, getattr(record, name))
    if record.source_url:
        story.source_url = record.source_url
    db.session.flush()
    return story, created


def latest_stories(limit=20, section=None):
    """The newest stories first, optionally within one section."""
    query = (
        select(Story)
        .where(Story.is_external.is_(False))
        .order_by(Story.published_at.desc(), Story.id.desc())
        .limit(limit)
    )
    if section is not None:
        query = query.where(Story.section == section)
    return db.session.scalars(query).all()


def find_story(slug):
    """The story with this slug, or None."""
    return db.session.scalar(select(Story).where(Story.slug == slug))


def list_sections():
    """Section slugs that have at least one story, with their story counts."""
    rows = db.session.execute(
        select(Story.section, func.count())
        .where(Story.is_external.is_(False))
        .group_by(Story.section)
        .order_by(Story.section)
    )
    return [(section, count) for section, count in rows]


def newest_change():
    """When a story was last added or edited (None without stories): what a page listing
    stories or sections can show as Last-Modified. Stories are never deleted."""
    return db.session.scalar(select(func.max(Story.updated_at)))
