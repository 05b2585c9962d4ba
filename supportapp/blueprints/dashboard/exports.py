"""CSV downloads of the stories table, an appeal's variants and the contributions list."""
from flask import Response, request, stream_with_context

from supportapp.blueprints.dashboard import bp
from supportapp.blueprints.dashboard.access import role_required
from supportapp.blueprints.dashboard.contributions import contribution_filters, stories_by_id
from supportapp.blueprints.dashboard.reporting import current_period
from supportapp.routing import database_id
from supportapp.services.exports import (
    CONTRIBUTION_HEADER,
    STORY_HEADER,
    VARIANT_HEADER,
    contribution_row,
    csv_lines,
    story_rows,
    variant_rows,
)
from supportapp.services.report_subjects import report_appeal
from supportapp.services.reports import stories_table, variants_table
from supportapp.services.revenue import contributions_list

CHUNK = 1000


def _csv(name, period, lines):
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{name}-{period.start.isoformat()}-{period.end.isoformat()}.csv"')
    return response


@bp.get("/export/stories.csv")
@role_required("viewer")
def export_stories():
    period = current_period()
    return _csv("stories", period,
                csv_lines(STORY_HEADER, story_rows(stories_table(period), period)))


@bp.get("/export/variants.csv")
@role_required("viewer")
def export_variants():
    appeal_id = report_appeal(request.args.get("appeal", type=database_id)).id
    period = current_period()
    rows = variant_rows(variants_table(appeal_id, period), period, appeal_id)
    return _csv(f"appeal-{appeal_id}-variants", period, csv_lines(VARIANT_HEADER, rows))


def _contribution_rows(period, filters):
    """Every contribution the filters match, read a chunk at a time."""
    page = 1
    while True:
        rows, total = contributions_list(period, **filters, page=page, per_page=CHUNK)
        slugs = {sid: story.slug for sid, story in stories_by_id(r.story_id for r in rows).items()}
        for row in rows:
            yield contribution_row(row, slugs.get(row.story_id, ""))
        if not rows or page * CHUNK >= total:
            return
        page += 1


@bp.get("/export/contributions.csv")
@role_required("viewer")
def export_contributions():
    period = current_period()
    rows = _contribution_rows(period, contribution_filters())
    return _csv("contributions", period, csv_lines(CONTRIBUTION_HEADER, rows))
