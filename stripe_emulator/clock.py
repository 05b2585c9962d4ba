"""Time helpers: Unix seconds and billing-period arithmetic."""

import calendar
import time
from datetime import UTC, datetime, timedelta


def now():
    return int(time.time())


def add_interval(timestamp, interval, count, anchor_day=None):
    """The end of a billing period that starts at `timestamp`.

    Months and years keep the anchor's day of month, clamped to the month's
    length (Jan 31 -> Feb 28 -> Mar 31), as Stripe's billing cycle does.
    """
    start = datetime.fromtimestamp(timestamp, UTC)
    if interval == "day":
        return int((start + timedelta(days=count)).timestamp())
    if interval == "week":
        return int((start + timedelta(weeks=count)).timestamp())
    months = count * (12 if interval == "year" else 1)
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(anchor_day or start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())
