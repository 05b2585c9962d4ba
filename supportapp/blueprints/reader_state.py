"""Reading the reader's first-party cookies into a ReaderContext, and writing them back."""
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import current_app
from werkzeug.http import dump_cookie

from supportapp.caches import app_caches
from supportapp.services import reader_cookies as rc
from supportapp.services.appeal_placement import AppealSettings, ReaderContext
from supportapp.services.contributions import subscription_is_active
from supportapp.services.currency import currency_for_languages, normalise_currency
from supportapp.services.supporter import (
    SUPPORTER_COOKIE,
    is_quiet_supporter,
    read_supporter_token,
)

TWO_YEARS = 2 * 365 * 24 * 3600


def appeal_settings():
    config = current_app.config
    return AppealSettings(
        max_views=config["APPEAL_MAX_VIEWS"],
        view_window_days=config["APPEAL_VIEW_WINDOW_DAYS"],
    )


def wants_no_tracking(request):
    """Global Privacy Control or Do Not Track: no reader id is set or used."""
    # The WSGI environ, not request.headers: on every story page and beacon, and its header
    # lookup costs several times a dict's.
    environ = request.environ
    return environ.get("HTTP_SEC_GPC") == "1" or environ.get("HTTP_DNT") == "1"


@dataclass
class ReaderState:
    context: ReaderContext
    cookies: dict = field(default_factory=dict)  # name -> (value, max_age)
    views_cookie: str = ""


def read_reader_state(request, story_id, settings, subscription_is_active=None):
    """The reader as their cookies describe them, noting this story as read."""
    today = datetime.now(UTC).date()
    cookies = {}
    reader_id = None
    if not wants_no_tracking(request):
        reader_id = rc.valid_reader_id(request.cookies.get(rc.READER_ID_COOKIE))
        if reader_id is None:
            reader_id = rc.new_reader_id()
        cookies[rc.READER_ID_COOKIE] = (reader_id, TWO_YEARS)
    reads, article_count = rc.record_read(request.cookies.get(rc.READS_COOKIE), story_id, today,
                                          settings.view_window_days)
    cookies[rc.READS_COOKIE] = (reads, settings.view_window_days * 86400)
    views_value = request.cookies.get(rc.VIEWS_COOKIE)
    claim = read_supporter_token(current_app.config["SECRET_KEY"],
                                 request.cookies.get(SUPPORTER_COOKIE))
    context = ReaderContext(
        reader_id=reader_id,
        article_count=article_count,
        recent_views=len(rc.recent_views(views_value, today, settings.view_window_days)),
        dismissed=bool(request.cookies.get(rc.DISMISS_COOKIE)),
        quiet_supporter=is_quiet_supporter(claim, subscription_is_active),
        currency=reader_currency(request),
    )
    return ReaderState(context, cookies, views_value or "")


def reader_on_a_page(request):
    """The reader as their cookies describe them on a page that is not a story (no read or
    view is noted, no cookie is set)."""
    today = datetime.now(UTC).date()
    claim = read_supporter_token(current_app.config["SECRET_KEY"],
                                 request.cookies.get(SUPPORTER_COOKIE))
    reader_id = None if wants_no_tracking(request) else rc.valid_reader_id(
        request.cookies.get(rc.READER_ID_COOKIE))
    window = current_app.config["APPEAL_VIEW_WINDOW_DAYS"]
    return ReaderContext(
        reader_id=reader_id,
        article_count=rc.stories_read(request.cookies.get(rc.READS_COOKIE), today, window),
        quiet_supporter=is_quiet_supporter(claim, subscription_is_active),
        currency=reader_currency(request),
    )


def reader_currency(request):
    chosen = request.args.get("currency")
    if chosen:
        return normalise_currency(chosen)
    # The same header always gives the same currency: worked out once per header.
    return app_caches().currencies.get(
        request.headers.get("Accept-Language", ""),
        lambda: currency_for_languages([lang for lang, _q in request.accept_languages]))


def note_appeal_view(state, settings):
    """Count one more appeal view toward the frequency cap."""
    today = datetime.now(UTC).date()
    value = rc.record_view(state.views_cookie, today, settings.view_window_days)
    state.cookies[rc.VIEWS_COOKIE] = (value, settings.view_window_days * 86400)


def remember_dismissal(response):
    """Set the "Maybe later" cookie, HttpOnly like the reader's others."""
    days = current_app.config["APPEAL_DISMISS_DAYS"]
    response.set_cookie(rc.DISMISS_COOKIE, "1", max_age=days * 86400, httponly=True,
                        samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def write_reader_cookies(response, state):
    """Set the reader's first-party cookies on the response."""
    secure = current_app.config["SESSION_COOKIE_SECURE"]
    for name, (value, max_age) in state.cookies.items():
        response.headers.add("Set-Cookie", _cookie_header(name, value, max_age, secure))
    return response


def _cookie_header(name, value, max_age, secure):
    def header():
        return dump_cookie(name, value, max_age=max_age, httponly=True, samesite="Lax",
                           secure=secure)

    if name == rc.READER_ID_COOKIE:  # one per reader: nothing to share
        return header()
    # Within a second (its Expires), most readers' other cookies are the same few values
    # (a first read or view today); werkzeug takes 4 µs to write each.
    key = (name, value, max_age, secure, int(time.time()))
    return app_caches().cookie_headers.get(key, header)
