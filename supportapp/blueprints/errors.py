"""Error pages in the site's look, and JSON errors under /api/."""
from flask import current_app, render_template, request
from flask.globals import request_ctx
from werkzeug.exceptions import HTTPException, InternalServerError

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have access to this page.",
    404: "We could not find that page.",
    405: "That method is not allowed here.",
    413: "That request is too large.",
    415: "This page only accepts a form.",
    429: "Too many requests. Please wait a moment and try again.",
    500: "Something went wrong on our side.",
}


def _wants_json():
    return request.path.startswith("/api/") or request.path.startswith("/stripe/")


def _bind_urls_without_host():
    # A request refused before routing (a malformed Host, or one not in TRUSTED_HOSTS) has no
    # URL adapter, and the page's links need one; bound to no host of the request's, they
    # come out as plain paths.
    if request_ctx.url_adapter is None:
        request_ctx.url_adapter = current_app.url_map.bind(
            current_app.config.get("SERVER_NAME") or "localhost",
            script_name=request.script_root or None)


def render_error(error):
    if not isinstance(error, HTTPException):
        error = InternalServerError()
    code = error.code or 500
    message = MESSAGES.get(code, error.name)
    if _wants_json():
        return {"error": {"status": code, "message": error.description or message}}, code
    _bind_urls_without_host()
    return render_template("errors/error.html", code=code, title=error.name,
                           message=message), code


def register(app):
    """Route every HTTP error (and any unexpected exception) through render_error."""
    app.register_error_handler(HTTPException, render_error)

    @app.errorhandler(Exception)
    def unexpected(error):  # pragma: no cover - exercised only by real bugs
        app.logger.exception("unhandled error on %s", request.path)
        return render_error(InternalServerError())
