"""Error pages in the site's look, and JSON errors under /api/."""
from flask import render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have access to this page.",
    404: "We could not find that page.",
    405: "That method is not allowed here.",
    413: "That request is too large.",
    429: "Too many requests. Please wait a moment and try again.",
    500: "Something went wrong on our side.",
}


def _wants_json():
    return request.path.startswith("/api/") or request.path.startswith("/stripe/")


def render_error(error):
    if not isinstance(error, HTTPException):
        error = InternalServerError()
    code = error.code or 500
    message = MESSAGES.get(code, error.name)
    if _wants_json():
        return {"error": {"status": code, "message": error.description or message}}, code
    return render_template("errors/error.html", code=code, title=error.name,
                           message=message), code


def register(app):
    """Route every HTTP error (and any unexpected exception) through render_error."""
    app.register_error_handler(HTTPException, render_error)

    @app.errorhandler(Exception)
    def unexpected(error):  # pragma: no cover - exercised only by real bugs
        app.logger.exception("unhandled error on %s", request.path)
        return render_error(InternalServerError())
