"""Reader-facing pages: the front page, section pages and story pages."""
from flask import Blueprint, abort, current_app, render_template

from supportapp.models.story import section_display_name
from supportapp.services.stories import find_story, latest_stories

bp = Blueprint("articles", __name__)


@bp.get("/")
def home():
    stories = latest_stories(limit=current_app.config["STORIES_PER_PAGE"])
    return render_template("articles/home.html", stories=stories)


@bp.get("/sections/<section>")
def section(section):
    stories = latest_stories(limit=current_app.config["STORIES_PER_PAGE"], section=section)
    if not stories:
        abort(404)
    return render_template(
        "articles/section.html", stories=stories, section_name=section_display_name(section)
    )


@bp.get("/stories/<slug>")
def story(slug):
    found = find_story(slug)
    if found is None:
        abort(404)
    return render_template("articles/story.html", story=found)
