"""The staff dashboard under /dashboard: numbers for viewers, appeal editing, user admin."""
from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

# The page modules register their views on bp when imported.
from supportapp.blueprints.dashboard import (  # noqa: E402, F401
    appeals,
    auth,
    contributions,
    exports,
    overview,
    reporting,
    stories,
    users,
)
