"""At risk: recurring gifts with a renewal unpaid or a card about to expire, and the monthly
figures of failed renewals won back or lost; the same as CSV."""
from flask import Response, render_template, request, stream_with_context

from supportapp.blueprints.dashboard import bp
from supportapp.blueprints.dashboard.access import role_required
from supportapp.blueprints.dashboard.reporting import page_number
from supportapp.services.clock import current_time
from supportapp.services.exports import csv_lines
from supportapp.services.periods import ReportError
from supportapp.services.recovery_exports import (
    AT_RISK_HEADER,
    RECOVERY_HEADER,
    at_risk_rows,
    recovery_rows,
)
from supportapp.services.recovery_figures import (
    CARD_RISK_DAYS,
    expiring_cards,
    monthly_figures,
    parse_months,
    past_due,
)

PER_PAGE = 50


def requested_months():
    """The Months the query string asks for (`start`, `end`: YYYY-MM); raises ReportError."""
    return parse_months(request.args.get("start"), request.args.get("end"), current_time())


def _page_arg(name):
    raw = request.args.get(name, "1")
    return max(int(raw), 1) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1


def _pages(total):
    return max((total + PER_PAGE - 1) // PER_PAGE, 1)


@bp.get("/at-risk")
@role_required("viewer")
def at_risk():
    now = current_time()
    try:
        report, problem = monthly_figures(requested_months()), None
    except ReportError as error:
        report, problem = None, str(error)
    due_page, card_page = page_number(), _page_arg("cards_page")
    overdue, overdue_total = past_due(page=due_page, per_page=PER_PAGE)
    cards, cards_total = expiring_cards(now, page=card_page, per_page=PER_PAGE)
    return render_template(
        "dashboard/at_risk.html", report=report, problem=problem, now=now,
        overdue=overdue, overdue_total=overdue_total, overdue_page=due_page,
        overdue_pages=_pages(overdue_total), cards=cards, cards_total=cards_total,
        cards_page=card_page, cards_pages=_pages(cards_total), card_days=CARD_RISK_DAYS,
    ), 400 if problem else 200


def _csv(filename, lines):
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


@bp.get("/export/recovery.csv")
@role_required("viewer")
def export_recovery():
    try:
        months = requested_months()
    except ReportError:
        return at_risk()  # the page says what is wrong with the months, with a 400
    return _csv(f"recovery-{months.first.isoformat()[:7]}-{months.last.isoformat()[:7]}",
                csv_lines(RECOVERY_HEADER, recovery_rows(monthly_figures(months))))


@bp.get("/export/at-risk.csv")
@role_required("viewer")
def export_at_risk():
    now = current_time()
    return _csv(f"at-risk-{now.date().isoformat()}", csv_lines(AT_RISK_HEADER,
                                                               at_risk_rows(now)))
