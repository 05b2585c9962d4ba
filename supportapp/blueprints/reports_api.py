"""JSON reports for staff tools: `Authorization: Bearer <token>` from `flask users token create`.

Read-only GETs, so CSRF does not apply; a missing or wrong token answers 401 in JSON.
Money is integers in minor units per currency code, like everywhere in the app.
"""

from flask import Blueprint, g, jsonify, request

from supportapp.blueprints.dashboard.at_risk import requested_months
from supportapp.blueprints.dashboard.reporting import current_period
from supportapp.routing import database_id
from supportapp.services.clock import current_time
from supportapp.services.periods import ReportError
from supportapp.services.recovery_exports import (
    expiring_card_record,
    past_due_record,
    recovery_record,
)
from supportapp.services.recovery_figures import expiring_cards, monthly_figures, past_due
from supportapp.services.report_sheets import (
    stories_sheet,
    story_records,
    variant_records,
    variants_sheet,
)
from supportapp.services.report_subjects import report_appeal
from supportapp.services.reports import stories_table
from supportapp.services.staff import staff_for_token

bp = Blueprint("reports_api", __name__, url_prefix="/api/reports")

AT_RISK_PER_PAGE = 500
# conversions: readers with a new gift, at most the checkouts (the rates' numerator);
# new_gifts and contributions count payments.
FUNNEL = ("rendered", "viewable", "clicks", "checkouts", "views_reported", "contributions",
          "new_gifts", "conversions", "revenue", "conversion_rate", "conversion_rate_shown",
          "beacons_missing_share", "reminder_signups", "reminders_sent", "reminder_gifts")
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


def _period(period):
    return {"start": period.start.isoformat(), "end": period.end.isoformat(),
            "label": period.label}


def _as_of(finished):
    # The funnel counts are those of the last roll-up (None: none has run yet).
    return finished.isoformat() if finished else None


@bp.get("/stories")
def stories():
    period = current_period()
    sheet = stories_sheet(period, stories_table(period))
    return jsonify(period=_period(period), as_of=_as_of(sheet.as_of_time),
                   stories=story_records(sheet, STORY_FIELDS))


@bp.get("/variants")
def variants():
    appeal = report_appeal(request.args.get("appeal", type=database_id))
    period = current_period()
    sheet = variants_sheet(appeal.id, period, current_time().date())
    return jsonify(period=_period(period), appeal=appeal.id, as_of=_as_of(sheet.as_of_time),
                   variants=variant_records(sheet, VARIANT_FIELDS))


@bp.get("/recovery")
def recovery():
    """Failed renewals per month and currency (`start`, `end`: YYYY-MM; the last 12 months
    by default): failed, recovered, recovered_late, lost, open, money_recovered (minor)."""
    return jsonify(recovery_record(monthly_figures(requested_months())))


def _page():
    raw = request.args.get("page", "1")
    if not (raw.isascii() and raw.isdigit() and 0 < len(raw) < 7 and int(raw) > 0):
        raise ReportError("page must be a whole number from 1")
    return int(raw)


@bp.get("/at-risk")
def at_risk():
    """Gifts past due and cards expiring soon, AT_RISK_PER_PAGE of each per `page`."""
    page, now = _page(), current_time()
    overdue, overdue_total = past_due(page, AT_RISK_PER_PAGE)
    cards, cards_total = expiring_cards(now, page, AT_RISK_PER_PAGE)
    return jsonify(
        page=page, per_page=AT_RISK_PER_PAGE,
        past_due={"total": overdue_total, "rows": [past_due_record(r) for r in overdue]},
        cards_expiring={"total": cards_total,
                        "rows": [expiring_card_record(r) for r in cards]})
