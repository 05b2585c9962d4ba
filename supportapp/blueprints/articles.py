"""Reader-facing pages: the front page, section pages and story pages."""
from datetime import UTC, datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
)

from supportapp.blueprints.reader_state import (
    appeal_settings,
    note_appeal_view,
    read_reader_state,
    remember_dismissal,
    write_reader_cookies,
)
from supportapp.extensions import csrf
from supportapp.models.story import section_display_name
from supportapp.security import safe_local_path
from supportapp.services.appeal_placement import place_appeal
from supportapp.services.contributions import subscription_is_active
from supportapp.services.stories import latest_stories
from supportapp.web.appeal_html import shown_appeal
from supportapp.web.http_cache import mark_page
from supportapp.web.story_page import served_story, story_page_html

bp = Blueprint("articles", __name__)


@bp.get("/")
def home():
    stories = latest_stories(limit=current_app.config["STORIES_PER_PAGE"])
    mark_page()
    return render_template("articles/home.html", stories=stories)


@bp.get("/sections/<slug:section>")
def section(section):
    stories = latest_stories(limit=current_app.config["STORIES_PER_PAGE"], section=section)
    if not stories:
        abort(404)
    mark_page()
    return render_template(
        "articles/section.html", stories=stories, section_name=section_display_name(section)
    )


@bp.post("/appeal/later")
@csrf.exempt  # from story pages, which hold no session; all it can do is hide the appeal
def later():
    """"Maybe later": the appeal stays away for APPEAL_DISMISS_DAYS (an HttpOnly cookie).
    The appeal's script asks with via=script and gets 204; without it, back to the story."""
    if request.form.get("via") == "script":
        response = make_response("", 204)
    else:
        response = redirect(safe_local_path(request.form.get("next"), "/"), 303)
    return remember_dismissal(response)


@bp.get("/stories/<slug:slug>")
def story(slug):
    found = served_story(slug)
    if found is None or found.is_external:
        abort(404)
    settings = appeal_settings()
    state = read_reader_state(request, found.id, settings, subscription_is_active)
    placement = place_appeal(found, state.context, datetime.now(UTC), settings)
    html, placement = shown_appeal(found, placement, state.context.reader_id)
    if placement is not None:
        note_appeal_view(state, settings)
    page = story_page_html(found, html, placement)
    mark_page(appeal_shown=placement is not None, depends_on_cookies=True)
    return write_reader_cookies(make_response(page), state)
