"""Story pages built once and reused for every reader until the content stamp changes.

Everything on a story page but the appeal block is the same for every reader: the
masthead with its sections, the story, the footer. It is rendered once per story, content
stamp (services/content_stamp.py) and appeal position, and kept as the HTML before and
after the appeal's place; a request adds only its reader's own block (web/appeal_html.py,
itself cached per wording) between the two. Nothing a reader's cookies say is ever part of
what is kept, so one reader's values cannot reach another's page.
"""
from dataclasses import dataclass
from datetime import datetime

from flask import render_template, session
from markupsafe import Markup
from sqlalchemy import select

from supportapp.caches import app_caches
from supportapp.extensions import db
from supportapp.models import Story
from supportapp.services.content_stamp import content_stamp
from supportapp.services.injection import inject_appeal

# Where the appeal goes, in the HTML rendered once; a comment, so a story cannot contain it
# (bodies are sanitised on write, and the sanitiser drops comments).
APPEAL_SLOT = "<!--supportapp:appeal-->"


# eq=False: hashed by identity, so the pages built from one are kept until the next stamp
# hands out a fresh view.
@dataclass(frozen=True, eq=False)
class StoryView:
    """A story as served to readers: plain values, safe to share between requests."""

    id: int
    slug: str
    title: str
    standfirst: str
    byline: str
    section: str
    section_name: str
    published_at: datetime
    body_html: str
    is_external: bool
    appeal_disabled: bool


def _load(slug):
    story = db.session.scalar(select(Story).where(Story.slug == slug))
    if story is None:
        return None
    return StoryView(story.id, story.slug, story.title, story.standfirst or "",
                     story.byline or "", story.section, story.section_name,
                     story.published_at, story.body_html or "", story.is_external,
                     story.appeal_disabled)


def served_story(slug):
    """The story with this slug as readers see it (a StoryView), or None.

    Kept per content stamp: while nothing changed, one primary-key read of the stamp and no
    ORM query.
    """
    return app_caches().stories.get((slug, content_stamp()), lambda: _load(slug))


def _render(story, body, with_appeal):
    return render_template("articles/story.html", story=story, body=Markup(body),
                           placement=with_appeal)


def _around_appeal(story, after_paragraph):
    body = inject_appeal(story.body_html, APPEAL_SLOT, after_paragraph,
                         app_caches().insertion_offsets)
    head, _slot, tail = _render(story, body, True).partition(APPEAL_SLOT)
    return head, tail


def story_page_html(story, appeal_html, placement):
    """The page for one reader: the kept page of `story` (a StoryView), with `appeal_html`
    (this reader's block, from shown_appeal) at the placement's paragraph, or none."""
    if "_flashes" in session:
        # A message for this reader alone: rendered for them, never kept.
        if placement is None:
            return _render(story, story.body_html, False)
        return _render(story, inject_appeal(story.body_html, appeal_html,
                                            placement.after_paragraph), True)
    pages = app_caches().story_pages
    # Keyed apart: after_paragraph may itself be None (the appeal at the story's end).
    if placement is None:
        return pages.get(("plain", story), lambda: _render(story, story.body_html, False))
    head, tail = pages.get(("around", story, placement.after_paragraph),
                           lambda: _around_appeal(story, placement.after_paragraph))
    return head + appeal_html + tail
