"""Stories by conversion: a sortable table, and one story's funnel day by day."""
from flask import render_template

from supportapp.blueprints.dashboard import bp
from supportapp.blueprints.dashboard.access import role_required
from supportapp.blueprints.dashboard.reporting import current_period, sort_rows
from supportapp.extensions import db
from supportapp.models import Story
from supportapp.services.credit_report import credit_figures
from supportapp.services.net_revenue import lifetime_values, money_by_story
from supportapp.services.reports import stories_table, story_report

STORY_SORTS = ("title", "section", "rendered", "viewable", "clicks", "checkouts",
               "contributions", "recurring_won", "revenue", "rpm", "conversion_rate",
               "conversion_rate_shown", "beacons_missing_share")
DAILY_SERIES = (("viewable", "Viewable impressions"), ("clicks", "Clicks"),
                ("checkouts", "Checkouts"), ("contributions", "Contributions"))


@bp.get("/stories")
@role_required("viewer")
def stories():
    period = current_period()
    rows, sort = sort_rows(stories_table(period), STORY_SORTS, "-conversion_rate")
    ids = [row.story_id for row in rows]
    return render_template("dashboard/stories.html", period=period, rows=rows, sort=sort,
                           sorts=STORY_SORTS, money=money_by_story(period, ids),
                           lifetime=lifetime_values(ids), credits=credit_figures("story", period))


def funnel_chart(points):
    """Chart data for charts.js: counts per day for each funnel step."""
    return {
        "type": "count",
        "labels": [p.day.isoformat() for p in points],
        "datasets": [{"label": label, "data": [getattr(p, key) for p in points]}
                     for key, label in DAILY_SERIES],
    }


@bp.get("/stories/<id:story_id>")
@role_required("viewer")
def story(story_id):
    found = db.get_or_404(Story, story_id)
    period = current_period()
    row, points = story_report(story_id, period)
    credits = credit_figures("story", period, story_id=story_id).get(story_id)
    return render_template("dashboard/story.html", period=period, story=found, row=row,
                           chart_data=funnel_chart(points), credits=credits,
                           money=money_by_story(period, [story_id]).get(story_id, {}),
                           lifetime=lifetime_values([story_id])[story_id])
