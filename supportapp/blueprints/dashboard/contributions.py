"""Contributions: a searchable, filterable list, and recurring supports with their status."""
from flask import render_template, request
from sqlalchemy import select

from supportapp.blueprints.dashboard import bp
from supportapp.blueprints.dashboard.access import role_required
from supportapp.blueprints.dashboard.reporting import current_period, page_number
from supportapp.config import SUPPORTED_CURRENCIES
from supportapp.extensions import db
from supportapp.models import Story
from supportapp.models.contribution import CONTRIBUTION_STATUSES
from supportapp.services.giving import FREQUENCIES
from supportapp.services.revenue import contributions_list, recurring_supports_list

PER_PAGE = 50
# Stripe's subscription statuses.
RECURRING_STATUSES = ("active", "trialing", "past_due", "unpaid", "paused", "canceled",
                      "incomplete", "incomplete_expired")


def _choice(name, allowed):
    value = request.args.get(name) or None
    return value if value in allowed else None


def contribution_filters():
    """The list's filters from the query string; anything unknown is ignored."""
    return {
        "status": _choice("status", CONTRIBUTION_STATUSES),
        "frequency": _choice("frequency", FREQUENCIES),
        "currency": _choice("currency", SUPPORTED_CURRENCIES),
        "story": (request.args.get("story") or "").strip()[:200] or None,
        "search": (request.args.get("q") or "").strip()[:320] or None,
    }


def stories_by_id(ids):
    """{story id: Story} for the stories these rows name."""
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {s.id: s for s in db.session.scalars(select(Story).where(Story.id.in_(ids)))}


def _pages(total):
    return max((total + PER_PAGE - 1) // PER_PAGE, 1)


@bp.get("/contributions")
@role_required("viewer")
def contributions():
    period, filters, page = current_period(), contribution_filters(), page_number()
    rows, total = contributions_list(period, **filters, page=page, per_page=PER_PAGE)
    return render_template(
        "dashboard/contributions.html", period=period, filters=filters, rows=rows, total=total,
        page=page, pages=_pages(total), stories=stories_by_id(r.story_id for r in rows),
        statuses=CONTRIBUTION_STATUSES, frequencies=FREQUENCIES)


@bp.get("/contributions/recurring")
@role_required("viewer")
def recurring():
    status, page = _choice("status", RECURRING_STATUSES), page_number()
    rows, total = recurring_supports_list(status=status, page=page)
    return render_template(
        "dashboard/recurring.html", rows=rows, total=total, status=status, page=page,
        pages=_pages(total), statuses=RECURRING_STATUSES,
        stories=stories_by_id(r.story_id for r in rows))
