"""Reading values out of Stripe payloads (plain dicts) without trusting their shape.

Every reader returns None for a value that is missing or not what it should be, so a
handler decides what is required and never crashes on an odd payload.
"""
import re
from datetime import UTC, datetime

_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,255}$")
_CURRENCY_RE = re.compile(r"^[A-Za-z]{3}$")
MAX_MINOR = 10**11  # far above any single payment Stripe accepts
LATEST_TIME = 4_102_444_800  # 2100-01-01


class PayloadError(ValueError):
    """A payload that lacks what its event type must carry; retrying will not fix it."""


def dig(obj, *path):
    """obj[path[0]][path[1]]..., or None as soon as a step does not exist."""
    for key in path:
        if isinstance(obj, dict) and isinstance(key, str):
            obj = obj.get(key)
        elif isinstance(obj, list) and isinstance(key, int) and -len(obj) <= key < len(obj):
            obj = obj[key]
        else:
            return None
    return obj


def stripe_id(value):
    """'cus_123' or {'id': 'cus_123', ...} -> 'cus_123'."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and _ID_RE.match(value) else None


def amount(value):
    """A non-negative whole number of minor units."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= MAX_MINOR else None


def currency(value):
    """'usd' -> 'USD'."""
    return value.upper() if isinstance(value, str) and _CURRENCY_RE.match(value) else None


def timestamp(value):
    """Unix seconds -> an aware UTC datetime."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < LATEST_TIME:
        return None
    return datetime.fromtimestamp(value, UTC)


def text(value, max_length):
    return value[:max_length] if isinstance(value, str) and value else None


def mapping(value):
    return value if isinstance(value, dict) else {}


def required(value, what):
    if value is None:
        raise PayloadError(f"missing or malformed {what}")
    return value


def event_time(event):
    """When Stripe created the event (now, if the event does not say)."""
    return timestamp(dig(event, "created")) or datetime.now(UTC)
