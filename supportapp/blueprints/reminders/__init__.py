""""Remind me later": the month chooser's form, the confirmation and the unsubscribe link."""
from flask import Blueprint

bp = Blueprint("reminders", __name__)

from supportapp.blueprints.reminders import routes  # noqa: E402, F401  (registers the views)
