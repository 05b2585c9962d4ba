"""The staff dashboard under /dashboard: numbers and supporters for viewers, appeal editing,
user admin and the outbox for admins."""
from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.after_request
def no_store(response):
    # Staff pages and exports hold donors' details: no browser or proxy may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


# The page modules register their views on bp when imported.
from supportapp.blueprints.dashboard import (  # noqa: E402, F401
    appeals,
    at_risk,
    auth,
    contributions,
    emails,
    exports,
    overview,
    reporting,
    stories,
    supporters,
    users,
)
