"""The contribution form, the hand-off to Stripe Checkout, the thank-you page, the portal."""
from flask import Blueprint

bp = Blueprint("contribute", __name__)

from supportapp.blueprints.contribute import routes  # noqa: E402, F401  (registers the views)
