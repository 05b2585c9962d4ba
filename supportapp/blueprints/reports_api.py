"""JSON reports for staff tools: `Authorization: Bearer <token>` from `flask users token create`.

Read-only GETs, so CSRF does not apply; a missing or wrong token answers 401 in JSON.
Money is integers in minor units per currency code, like everywhere in the app.
"""
from flask import Blueprint, abort, g, jsonify, request

from supportapp.blueprints.dashboard.reporting import current_period
from supportapp.extensions import db
from supportapp.models import Appeal
from supportapp.routing import database_id
from supportapp.services.periods import ReportError
from supportapp.services.reports import stories_table, variants_table
from supportapp.services.staff import staff_for_token

bp = Blueprint("reports_api", __name__, url_prefix="/api/reports")

FUNNEL = ("rendered", "viewable", "clicks", "checkouts", "contributions", "revenue",
          "conversion_rate", "reminder_signups", "reminders_sent", "reminder_gifts")
STORY_FIELDS = ("story_id", "slug", "title", "section", *FUNNEL, "recurring_won", "rpm")
VARIANT_FIELDS = ("variant_id", "name", "is_control", *FUNNEL, "annualised_per_thousand",
                  "ci_low", "ci_high", "chance_beats_control", "offers_shown",
                  "offers_accepted")


def _error(status, message):
    return jsonify(error={"status": status, "message": message}), status


@bp.before_request
def require_token():
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    staff = staff_for_token(token.strip()) if scheme.lower() == "bearer" else None
    if staff is None:
        response, status = _error(401, "send a staff API token: Authorization: Bearer <token>")
        response.headers["WWW-Authenticate"] = 'Bearer realm="reports"'
        return response, status
    g.api_staff = staff
    return None


@bp.after_request
def no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(ReportError)
def bad_period(error):
    return _error(400, str(error))


def _row(row, fields):
    return {name: getattr(row, name) for name in fields}


def _period(period):
    return {"start": period.start.isoformat(), "end": period.end.isoformat(),
            "label": period.label}


@bp.get("/stories")
def stories():
    period = current_period()
    return jsonify(period=_period(period),
                   stories=[_row(r, STORY_FIELDS) for r in stories_table(period)])


@bp.get("/variants")
def variants():
    appeal_id = request.args.get("appeal", type=database_id)
    if appeal_id is None:
        return _error(400, "say which appeal: ?appeal=ID")
    if db.session.get(Appeal, appeal_id) is None:
        abort(404)
    period = current_period()
    return jsonify(period=_period(period), appeal=appeal_id,
                   variants=[_row(r, VARIANT_FIELDS) for r in variants_table(appeal_id, period)])
