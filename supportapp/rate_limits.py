"""Charging a rate limit inside a view, before the work it protects.

Flask-Limiter's decorators count a request either before the view (every request, valid or
not) or after the response (`deduct_when`), when simultaneous requests have all got through
already. Some limits must count only attempts that passed validation, yet count them before
the expensive call (Stripe): `charge` hits the limiter's own storage (memory or Redis), whose
increments are atomic, so a burst of simultaneous requests cannot all slip under the limit.
"""
import time

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

from supportapp.extensions import limiter

EXTENSION = "supportapp.parsed_limits"


def parsed_limits(limit_value):
    """parse_many(limit_value), parsed once per app: the beacon charges its limit on every
    request. Keyed by the text itself, so a changed setting is parsed afresh."""
    parsed = current_app.extensions.setdefault(EXTENSION, {})
    items = parsed.get(limit_value)
    if items is None:
        items = parsed[limit_value] = tuple(parse_many(limit_value))
    return items


def charge(limit_value, scope, key=None):
    """Count one attempt against each limit in `limit_value` (Flask-Limiter syntax, e.g.
    "10 per minute;50 per hour") for `key` (default: the client address); raise a 429 with
    Retry-After when one of them is used up."""
    if not limiter.enabled:
        return
    # Keyed like Flask-Limiter's own limits, so RATELIMIT_KEY_PREFIX separates apps sharing
    # one Redis.
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    identifiers = (prefix, scope, key or get_remote_address())
    for item in parsed_limits(limit_value):
        if not limiter.limiter.hit(item, *identifiers):
            reset_at = limiter.limiter.get_window_stats(item, *identifiers).reset_time
            raise TooManyRequests(retry_after=max(1, int(reset_at - time.time())))
