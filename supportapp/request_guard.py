"""What a request may carry before any view sees it: forms of bounded size, and no NULs.

Views that read their own body (the beacon, Stripe's webhook) say so with `reads_own_body`;
every other view that takes a body takes an HTML form. Size limits are Flask's settings
(MAX_CONTENT_LENGTH, MAX_FORM_PARTS, MAX_FORM_MEMORY_SIZE, see config.py); Werkzeug applies
MAX_FORM_PARTS to multipart bodies only, so url-encoded ones are counted here.
"""
from flask import abort, current_app, request

FORM_MIMETYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def reads_own_body(view):
    """Mark a view that parses its request body itself, so the form rules do not apply."""
    view.reads_own_body = True
    return view


def _unreadable(multidict):
    """A field without a name (from a malformed multipart part) or with a NUL in its value."""
    return any(key is None or any("\x00" in value for value in values if isinstance(value, str))
               for key, values in multidict.lists())


def _check_form():
    if request.mimetype and request.mimetype not in FORM_MIMETYPES:
        abort(415, "Send an HTML form (application/x-www-form-urlencoded or "
                   "multipart/form-data).")
    if request.mimetype == FORM_MIMETYPES[0]:
        body = request.get_data(cache=True)  # 413 past MAX_CONTENT_LENGTH; kept for request.form
        if body.count(b"&") >= current_app.config["MAX_FORM_PARTS"]:
            abort(413, "Too many form fields.")
    if _unreadable(request.form):
        abort(400, "A form field has no name or contains a NUL character.")


def _check_host():
    try:
        request.url  # noqa: B018 - decodes the Host's "xn--" labels, which may be invalid
    except UnicodeError:
        abort(400, "The Host header is not a valid host name.")


def check_request():
    """Before every view: 400 for a Host that cannot be decoded, a NUL character (which
    PostgreSQL cannot store or compare) or a nameless field; 415 for a body that is not a
    form; 413 for a form with too many fields."""
    _check_host()
    if _unreadable(request.args):
        abort(400, "The query string contains a NUL character.")
    view = current_app.view_functions.get(request.endpoint)
    if request.method in BODY_METHODS and view and not getattr(view, "reads_own_body", False):
        _check_form()


def register(app):
    # Ahead of the extensions' own hooks, so CSRF never parses a form these rules refuse.
    app.before_request(check_request)
