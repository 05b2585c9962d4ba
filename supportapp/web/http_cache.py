"""Conditional requests and Cache-Control for reader pages (story, section and front pages).

A view says what its page is with mark_page(); the rest happens here, after the page is built:
- with the appeal: "private, no-store", no ETag, never a 304. The page differs per reader (the
  variant, placeholders from their cookies) and counts a view, so nobody may keep it.
- without it: a strong ETag (a hash of the bytes), Last-Modified, and a 304 to a matching
  If-None-Match (or, without one, If-Modified-Since). The 304 carries the same Set-Cookie
  headers the 200 would have, so the reader's cookies move on exactly as with the full page.
  A shared cache may keep it ("public, max-age=PUBLIC_PAGE_MAX_AGE") only when the response
  sets no cookie; otherwise "private, no-cache" (the browser keeps it and asks with its ETag).
A last check at the WSGI level turns any "public" response that sets a cookie private, whoever
set the cookie (the session is saved after every after_request function has run).
"""
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app, g, request, session

from supportapp.caches import app_caches
from supportapp.services.content_stamp import content_stamp
from supportapp.services.stories import newest_change

WITH_APPEAL = "private, no-store"
PRIVATE_REVALIDATE = "private, no-cache"


@dataclass(frozen=True)
class PageCaching:
    appeal_shown: bool
    depends_on_cookies: bool


def mark_page(appeal_shown=False, depends_on_cookies=False):
    """Called by a view: this response is a reader page, with or without the appeal, and its
    bytes may depend on the reader's cookies (then it varies on Cookie)."""
    g.page_caching = PageCaching(bool(appeal_shown), bool(depends_on_cookies))


def init_app(app):
    app.extensions["started_at"] = datetime.now(UTC).replace(microsecond=0)
    app.after_request(finish_page)
    app.wsgi_app = NoSharedCookies(app.wsgi_app)


def finish_page(response):
    """Validators, 304 and Cache-Control for a page the view marked (others are left alone)."""
    caching = g.pop("page_caching", None)
    if caching is None or request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    if caching.depends_on_cookies:
        response.vary.add("Cookie")
    if caching.appeal_shown:
        response.headers["Cache-Control"] = WITH_APPEAL
        return response
    if session.modified:  # a one-off message (flash) was shown: nothing to revalidate against
        response.headers["Cache-Control"] = PRIVATE_REVALIDATE
        return response
    response.add_etag()
    response.last_modified = last_modified()
    if sets_cookie(response):
        response.headers["Cache-Control"] = PRIVATE_REVALIDATE
    else:
        response.headers["Cache-Control"] = (
            f"public, max-age={current_app.config['PUBLIC_PAGE_MAX_AGE']}")
    return response.make_conditional(request)


def sets_cookie(response):
    """True when the response sets a cookie now or the session will when it is saved."""
    return bool(response.headers.getlist("Set-Cookie")) or session.modified or session.permanent


def last_modified():
    """No page without the appeal changes except when a story is added or edited (the lists,
    the sections, the story) or the app restarts (templates, settings, static files)."""
    started = current_app.extensions["started_at"]
    # Kept per content stamp, which every story edit changes: no query per page.
    changed = app_caches().newest_story_change.get(content_stamp(), newest_change)
    return max(started, changed.replace(tzinfo=UTC)) if changed else started


class NoSharedCookies:
    """WSGI middleware: a response that sets a cookie is never kept by a shared cache."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            names = {name.lower() for name, _value in headers}
            if "set-cookie" in names and "cache-control" in names:
                headers = [private_if_public(name, value) for name, value in headers]
            return start_response(status, headers, exc_info)
        return self.app(environ, start)


def private_if_public(name, value):
    if name.lower() != "cache-control" or "public" not in value.lower():
        return name, value
    return name, PRIVATE_REVALIDATE
