"""Stories on other sites that carry the appeal through the embed script."""
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from supportapp.extensions import db
from supportapp.models import Story
from supportapp.services.stories import SLUG_RE, find_story, free_slug, slugify

MAX_REFERENCE_LENGTH = 2000


class EmbedError(Exception):
    """A story reference that cannot be served; status is 400 or 404."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


def origin_of(url):
    """'https://News.example.org:443/a?b' -> 'https://news.example.org:443'."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def canonical_url(url):
    """The story URL without query or fragment, so tracking parameters do not split a story."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EmbedError(400, "story must be a slug or an http(s) URL")
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", "", ""))


def resolve_embed_story(reference, allowed_origins, title=None):
    """The Story a page refers to by slug or URL; a URL on an allowed site is registered."""
    reference = (reference or "").strip()
    if not reference:
        raise EmbedError(400, "missing 'story' parameter")
    if len(reference) > MAX_REFERENCE_LENGTH:
        raise EmbedError(400, "'story' is too long")
    if "://" not in reference:
        if not SLUG_RE.match(reference):
            raise EmbedError(400, "'story' is neither a slug nor a URL")
        story = find_story(reference)
        if story is None:
            raise EmbedError(404, "unknown story")
        return story
    url = canonical_url(reference)
    story = db.session.scalar(select(Story).where(Story.source_url == url))
    if story is not None:
        return story
    if origin_of(url) not in allowed_origins:
        raise EmbedError(404, "unknown story, and its site is not allowed to embed the appeal")
    return _register_external_story(url, title)


def _register_external_story(url, title):
    path = urlsplit(url).path.strip("/")
    base = slugify(path.split("/")[-1] if path else urlsplit(url).hostname) or "story"
    story = Story(
        slug=free_slug(base[:180]), title=(title or "").strip()[:300] or base.replace("-", " "),
        section="news", published_at=datetime.now(UTC), body_html="", source_url=url,
        is_external=True,
    )
    db.session.add(story)
    try:
        db.session.commit()
    except IntegrityError:
        # Two first page views of the same story at once: the other request registered it.
        db.session.rollback()
        story = db.session.scalar(select(Story).where(Story.source_url == url))
    return story

