"""What the number pages share: the period from the query string, sorting, Stripe links."""
from datetime import UTC, datetime

from flask import current_app, render_template, request, url_for

from supportapp.blueprints.dashboard import bp
from supportapp.config import SUPPORTED_CURRENCIES, TEST_KEY_PREFIXES
from supportapp.services.periods import ReportError, parse_period

PERIOD_CHOICES = (("today", "Today"), ("7d", "7 days"), ("30d", "30 days"), ("90d", "90 days"),
                  ("custom", "Custom"))
STRIPE_DASHBOARD = "https://dashboard.stripe.com"
STRIPE_PATHS = {"payment": "payments", "subscription": "subscriptions", "customer": "customers"}


def today():
    return datetime.now(UTC).date()


def current_period():
    """The Period the query string asks for (30 days by default); raises ReportError."""
    args = request.args
    return parse_period(args.get("period") or None, args.get("start"), args.get("end"), today())


def as_of_label(finished_at):
    """"14:05 UTC" for a time today, "2026-11-29 14:05 UTC" for an earlier one."""
    if finished_at.date() == today():
        return f"{finished_at:%H:%M} UTC"
    return f"{finished_at:%Y-%m-%d %H:%M} UTC"


def period_args():
    """The period part of the query string, to carry into links and exports."""
    return {k: request.args[k] for k in ("period", "start", "end") if request.args.get(k)}


def page_number():
    raw = request.args.get("page", "1")
    return max(int(raw), 1) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1


def _sort_value(row, key):
    value = getattr(row, key)
    if isinstance(value, dict):
        # Money in several currencies is not one number: order by USD, then EUR, and so on.
        return tuple(value.get(code, 0) for code in SUPPORTED_CURRENCIES)
    if value is None:
        return -1
    return value.lower() if isinstance(value, str) else value


def sort_rows(rows, allowed, default):
    """Rows sorted by the `sort` query parameter if it is one of `allowed`; `-` means descending.

    Returns (rows, sort) where sort is the key actually used, e.g. "-viewable".
    """
    sort = request.args.get("sort") or default
    key = sort.removeprefix("-")
    if key not in allowed:
        sort, key = default, default.removeprefix("-")
    return sorted(rows, key=lambda r: _sort_value(r, key), reverse=sort.startswith("-")), sort


def stripe_url(kind, object_id):
    """A link to the object in the Stripe Dashboard, in test or live mode like the key."""
    if not object_id or kind not in STRIPE_PATHS:
        return None
    live = not current_app.config.get("STRIPE_SECRET_KEY", "").startswith(TEST_KEY_PREFIXES)
    mode = "" if live else "/test"
    return f"{STRIPE_DASHBOARD}{mode}/{STRIPE_PATHS[kind]}/{object_id}"


def query_url(**changes):
    """This page's URL with some query parameters changed (None drops one)."""
    args = {**request.args.to_dict(), **changes}
    args = {k: v for k, v in args.items() if v not in (None, "")}
    return url_for(request.endpoint, **(request.view_args or {}), **args)


@bp.context_processor
def _dashboard_helpers():
    return {"stripe_url": stripe_url, "period_choices": PERIOD_CHOICES,
            "period_args": period_args, "query_url": query_url, "as_of_label": as_of_label}


@bp.errorhandler(ReportError)
def period_error(error):
    """A report request that makes no sense (its period, an unknown appeal or story): say
    why on the page, with the period picker to fix it."""
    return render_template("dashboard/period_error.html", message=str(error)), 400
