"""The overview: money raised and supporters won in a period, with a chart over time."""
from flask import render_template

from supportapp.blueprints.dashboard import bp
from supportapp.blueprints.dashboard.access import role_required
from supportapp.blueprints.dashboard.reporting import current_period
from supportapp.services.revenue import overview as overview_report


def daily_chart(daily):
    """Chart data for charts.js: one dataset per currency, amounts in minor units."""
    currencies = sorted({code for _day, amounts in daily for code in amounts})
    return {
        "type": "money",
        "labels": [day.isoformat() for day, _amounts in daily],
        "datasets": [{"label": code, "currency": code,
                      "data": [amounts.get(code, 0) for _day, amounts in daily]}
                     for code in currencies],
    }


@bp.get("/")
@role_required("viewer")
def overview():
    period = current_period()
    numbers = overview_report(period)
    return render_template("dashboard/overview.html", period=period, numbers=numbers,
                           chart_data=daily_chart(numbers.daily))
