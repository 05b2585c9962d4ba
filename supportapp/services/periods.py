"""Report periods: today, the last 7, 30 or 90 days, or a custom range of UTC days."""
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

PERIODS = {"today": 1, "7d": 7, "30d": 30, "90d": 90}
MAX_PERIOD_DAYS = 3 * 366
# Reports cover days from EARLIEST_DAY up to a year ahead of today: nothing the app records
# lies outside, and far-off dates (9999-12-31) would overflow the date arithmetic below.
EARLIEST_DAY = date(2000, 1, 1)
MAX_DAYS_AHEAD = 366


class ReportError(ValueError):
    """A report request that makes no sense; the message says why."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def label(self):
        if self.start == self.end:
            return self.start.isoformat()
        return f"{self.start.isoformat()} to {self.end.isoformat()}"

    @property
    def bounds(self):
        """[start, end) as aware datetimes, for timestamp columns."""
        return (datetime.combine(self.start, time(), UTC),
                datetime.combine(self.end + timedelta(days=1), time(), UTC))


def _parse_day(value, name, today):
    try:
        day = date.fromisoformat((value or "").strip())
    except ValueError as exc:
        raise ReportError(f"{name} must be a date like 2026-11-01") from exc
    latest = today + timedelta(days=MAX_DAYS_AHEAD)
    if not EARLIEST_DAY <= day <= latest:
        raise ReportError(f"{name} must be a date from {EARLIEST_DAY.isoformat()} "
                          f"to {latest.isoformat()}")
    return day


def parse_period(name, start, end, today):
    """today / 7d / 30d / 90d (ending today) or custom start..end; 30d by default."""
    name = name or "30d"
    if name in PERIODS:
        return Period(today - timedelta(days=PERIODS[name] - 1), today)
    if name != "custom":
        raise ReportError(f"unknown period {name!r}: use today, 7d, 30d, 90d or custom")
    period = Period(_parse_day(start, "start", today), _parse_day(end, "end", today))
    if period.end < period.start:
        raise ReportError("the end date comes before the start date")
    if (period.end - period.start).days >= MAX_PERIOD_DAYS:
        raise ReportError("a period can be at most three years long")
    return period


def period_days(period):
    """Every day of the period, in order."""
    return [period.start + timedelta(days=n) for n in range((period.end - period.start).days + 1)]
