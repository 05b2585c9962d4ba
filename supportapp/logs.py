"""Logging that stays readable through an outage: one line per kind of failure per interval.

While the database is down every request fails the same way; a traceback per request per
worker (hundreds a minute) would bury everything else. The times are kept per app, in
`app.extensions`, so each app (and each test) has its own.
"""
import time

EXTENSION = "supportapp.log_throttle"
DEFAULT_INTERVAL_SECONDS = 60


def log_throttled(app, logger, kind, message, *args, interval=DEFAULT_INTERVAL_SECONDS):
    """Log `message` at WARNING unless a line of this `kind` was logged within `interval`;
    returns True when it logged. The line says how many were held back since the last."""
    seen = app.extensions.setdefault(EXTENSION, {})
    now = time.monotonic()
    last, held = seen.get(kind, (None, 0))
    if last is not None and now - last < interval:
        seen[kind] = (last, held + 1)
        return False
    seen[kind] = (now, 0)
    suffix = f" ({held} more since the last such line)" if held else ""
    logger.warning(message + suffix, *args)
    return True
