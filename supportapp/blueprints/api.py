"""JSON for other sites: the appeal for a story, the script that embeds it, and the API's
OpenAPI description."""
from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify, request, send_from_directory

from supportapp.api_description import api_description
from supportapp.blueprints.reader_state import appeal_settings, reader_currency
from supportapp.extensions import limiter
from supportapp.services.appeal_placement import ReaderContext, place_appeal
from supportapp.services.embed import EmbedError, resolve_embed_story
from supportapp.services.reader_cookies import valid_reader_id
from supportapp.web.appeal_html import shown_appeal

bp = Blueprint("api", __name__)


def _small_int(name):
    raw = request.args.get(name, "0")
    # isascii: "²" is a digit to isdigit() but not to int(); the length keeps int() cheap.
    return min(int(raw), 10_000) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 0


def _embed_reader():
    # Embedded pages keep reader state in their own storage and pass it along.
    return ReaderContext(
        reader_id=valid_reader_id(request.args.get("reader")),
        article_count=_small_int("reads"),
        recent_views=_small_int("views"),
        currency=reader_currency(request),
    )


@bp.get("/api/appeal")
@limiter.limit(lambda: current_app.config["EMBED_RATE_LIMIT"])
def appeal():
    try:
        story = resolve_embed_story(request.args.get("story"), current_app.config["EMBED_ORIGINS"],
                                    title=request.args.get("title"))
    except EmbedError as exc:
        return {"error": {"status": exc.status, "message": exc.message}}, exc.status
    reader = _embed_reader()
    placement = place_appeal(story, reader, datetime.now(UTC), appeal_settings())
    html, placement = shown_appeal(story, placement, reader.reader_id, embed=True)
    return jsonify(story=story.slug, html=html,
                   window_days=current_app.config["APPEAL_VIEW_WINDOW_DAYS"],
                   appeal_id=placement.appeal_id if placement else None,
                   variant_id=placement.variant_id if placement else None)


@bp.get("/api/openapi.json")
def openapi():
    """What /api/events, /api/appeal and /api/reports/* take and answer (OpenAPI 3.1)."""
    response = jsonify(api_description())
    response.headers["Access-Control-Allow-Origin"] = "*"  # public, and no cookies involved
    return response


@bp.get("/embed.js")
def embed_script():
    response = send_from_directory(current_app.static_folder, "js/embed.js",
                                   mimetype="text/javascript", max_age=3600)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.after_request
def allow_listed_origins(response):
    """CORS for the appeal JSON, only for origins the newsroom listed."""
    origin = (request.headers.get("Origin") or "").rstrip("/").lower()
    if request.path == "/api/appeal":
        response.vary.add("Origin")
        if origin and origin in current_app.config["EMBED_ORIGINS"]:
            response.headers["Access-Control-Allow-Origin"] = origin
    return response
