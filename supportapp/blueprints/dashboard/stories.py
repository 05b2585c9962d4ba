"""Stories by conversion: a sortable table, and one story's funnel day by day."""
from flask import render_template

from supportapp.blueprints.dashboard import bp
from supportapp.blueprints.dashboard.access import role_required
from supportapp.blueprints.dashboard.reporting import current_period, page_number, sort_rows
from supportapp.services.credit_report import credit_figures
from supportapp.services.net_revenue import lifetime_values, money_by_story
from supportapp.services.report_sheets import stories_sheet
from supportapp.services.report_subjects import report_story
from supportapp.services.reports import stories_table, story_report
from supportapp.services.tracking import last_rollup

STORY_SORTS = ("title", "section", "rendered", "viewable", "clicks", "checkouts",
               "contributions", "recurring_won", "revenue", "rpm", "conversion_rate",
               "conversion_rate_shown", "beacons_missing_share")
STORIES_PER_PAGE = 50  # 1,000 rows of figures are neither read nor rendered quickly
DAILY_SERIES = (("viewable", "Viewable impressions"), ("clicks", "Clicks"),
                ("checkouts", "Checkouts"), ("contributions", "Contributions"))


@bp.get("/stories")
@role_required("viewer")
def stories():
    period = current_period()
    rows, sort = sort_rows(stories_table(period), STORY_SORTS, "-conversion_rate")
    pages = max((len(rows) + STORIES_PER_PAGE - 1) // STORIES_PER_PAGE, 1)
    page = min(page_number(), pages)
    shown = rows[(page - 1) * STORIES_PER_PAGE:page * STORIES_PER_PAGE]
    return render_template("dashboard/stories.html", period=period, sort=sort,
                           sorts=STORY_SORTS, page=page, pages=pages, total=len(rows),
                           **vars(stories_sheet(period, shown)))


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
    found = report_story(story_id)
    period = current_period()
    row, points = story_report(story_id, period)
    credits = credit_figures("story", period, story_id=story_id).get(story_id)
    return render_template("dashboard/story.html", period=period, story=found, row=row,
                           chart_data=funnel_chart(points), credits=credits,
                           money=money_by_story(period, [story_id]).get(story_id, {}),
                           lifetime=lifetime_values([story_id])[story_id],
                           as_of_time=last_rollup().finished_at)
