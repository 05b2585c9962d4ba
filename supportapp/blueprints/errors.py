"""Error pages in the site's look, and JSON errors under /api/."""
from flask import current_app, g, render_template, request
from flask.globals import request_ctx
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from supportapp.logs import log_throttled

# The database cannot be reached (down, restarting, out of connections): worth a retry.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError)
RETRY_AFTER_SECONDS = 30

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have access to this page.",
    404: "We could not find that page.",
    405: "That method is not allowed here.",
    413: "That request is too large.",
    415: "This page only accepts a form.",
    429: "Too many requests. Please wait a moment and try again.",
    500: "Something went wrong on our side.",
    503: "This page is unavailable for a moment. Please try again in a minute.",
}


def _wants_json():
    return request.path.startswith("/api/") or request.path.startswith("/stripe/")


def _kept_headers(error):
    # Retry-After (429, 503) and Allow (405) tell clients what to do next.
    return {k: v for k, v in error.get_headers() if k in ("Retry-After", "Allow")}


def _bind_urls_without_host():
    # A request refused before routing (a malformed Host, or one not in TRUSTED_HOSTS) has no
    # URL adapter, and the page's links need one; bound to no host of the request's, they
    # come out as plain paths.
    if request_ctx.url_adapter is None:
        request_ctx.url_adapter = current_app.url_map.bind(
            current_app.config.get("SERVER_NAME") or "localhost",
            script_name=request.script_root or None)


def render_error(error, nav=True):
    if not isinstance(error, HTTPException):
        error = InternalServerError()
    code = error.code or 500
    message = MESSAGES.get(code, error.name)
    if _wants_json():
        return ({"error": {"status": code, "message": error.description or message}}, code,
                _kept_headers(error))
    _bind_urls_without_host()
    extra = {} if nav else {"nav_sections": lambda: ()}  # no second try at a database that is down
    return render_template("errors/error.html", code=code, title=error.name,
                           message=message, **extra), code, _kept_headers(error)


def database_unavailable(error):
    """503 with Retry-After while the database cannot be reached; one log line a minute."""
    cause = type(getattr(error, "orig", None) or error)
    log_throttled(current_app, current_app.logger, f"database:{cause.__name__}",
                  "database unavailable (%s.%s); answering 503", cause.__module__,
                  cause.__name__)
    from supportapp.extensions import db, login_manager

    db.session.rollback()
    # Rendering would otherwise ask the database for the signed-in staff member again
    # (Flask-Login's template context), fail the same way and turn the 503 into a 500.
    g._login_user = login_manager.anonymous_user()
    return render_error(ServiceUnavailable(retry_after=RETRY_AFTER_SECONDS), nav=False)


def register(app):
    """Route every HTTP error (and any unexpected exception) through render_error."""
    app.register_error_handler(HTTPException, render_error)
    for error in DATABASE_UNAVAILABLE:
        app.register_error_handler(error, database_unavailable)

    @app.errorhandler(Exception)
    def unexpected(error):  # pragma: no cover - exercised only by real bugs
        app.logger.exception("unhandled error on %s", request.path)
        return render_error(InternalServerError())
