"""/support/manage: a supporter signs in with an emailed link and manages their gifts."""
from flask import Blueprint

bp = Blueprint("support_manage", __name__, url_prefix="/support/manage")

from supportapp.blueprints.support_manage import routes  # noqa: E402, F401  (registers the views)
