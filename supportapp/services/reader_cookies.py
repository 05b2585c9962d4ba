"""First-party reader state kept in the reader's own cookies, never on the server.

Values are short, plain and tolerant: a tampered or garbled cookie reads as empty.
"""
import re
from datetime import date

from supportapp.services.ordered_ids import ordered_id

READER_ID_COOKIE = "sa_rid"
READS_COOKIE = "sa_reads"
VIEWS_COOKIE = "sa_views"
DISMISS_COOKIE = "sa_later"  # set by POST /appeal/later ("Maybe later") for APPEAL_DISMISS_DAYS
READER_ID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
READS_KEPT = 60  # stories remembered; enough for "stories this month" without growing
VIEWS_KEPT = 30
EPOCH = date(1970, 1, 1)


def day_number(today):
    """Days since 1970-01-01: short to store, easy to compare."""
    return (today - EPOCH).days


def new_reader_id():
    """A random first-party reader id that says nothing about the reader but the second it
    was made in (services/ordered_ids.py: it keeps the reader funnel's indexes cheap)."""
    return ordered_id(16)


def valid_reader_id(value):
    """The reader id if well-formed, else None (for any value, e.g. a beacon's JSON number)."""
    return value if isinstance(value, str) and READER_ID_RE.match(value) else None


def _small_number(text):
    # isascii: "²" is a digit to isdigit() but not to int(); the length keeps int() cheap.
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


def _numbers(value, limit=200):
    numbers = (_small_number(part) for part in (value or "").split("-")[:limit])
    return [n for n in numbers if n is not None]


def _reads(value, now, window_days):
    reads = {}
    for item in (value or "").split("-")[:READS_KEPT * 2]:
        story, _, day = item.partition(".")
        story, day = _small_number(story), _small_number(day)
        if story is not None and day is not None and now - day < window_days:
            reads[story] = max(day, reads.get(story, 0))
    return reads


def stories_read(value, today, window_days=30):
    """Distinct stories read within the window, as the reads cookie says."""
    return len(_reads(value, day_number(today), window_days))


def record_read(value, story_id, today, window_days=30):
    """Note that the reader opened story_id today.

    Returns (new cookie value, distinct stories read within the window, this one included).
    """
    now = day_number(today)
    reads = _reads(value, now, window_days)
    reads[story_id] = now
    newest = sorted(reads.items(), key=lambda kv: kv[1], reverse=True)[:READS_KEPT]
    return "-".join(f"{s}.{d}" for s, d in newest), len(newest)


def recent_views(value, today, window_days=30):
    """Days (as day numbers) on which the appeal was shown within the window."""
    now = day_number(today)
    return [d for d in _numbers(value) if 0 <= now - d < window_days]


def record_view(value, today, window_days=30):
    """The views cookie after one more appeal view today."""
    views = recent_views(value, today, window_days) + [day_number(today)]
    return "-".join(str(d) for d in views[-VIEWS_KEPT:])
