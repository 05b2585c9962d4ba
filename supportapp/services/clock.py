"""The time scheduled work runs at: the wall clock, unless a test or a demo moves it.

Follow-ups, notices and reminders are due at dates stored in the database; the worker asks
`current_time()` which of them are due. Keeping the clock on the app (not in a module
global) lets a test move one app's time forward, e.g. a month, without touching another's.
"""
from datetime import UTC, datetime

from flask import current_app

EXTENSION = "supportapp.clock"


def init_app(app):
    """Give the app the wall clock."""
    app.extensions[EXTENSION] = _WallClock()


class _WallClock:
    """UTC now, plus an offset that only tests and demos set."""

    def __init__(self):
        self.offset = None

    def now(self):
        moment = datetime.now(UTC)
        return moment + self.offset if self.offset else moment


def current_time(app=None):
    """The app's present moment: a timezone-aware UTC datetime."""
    return (app or current_app).extensions[EXTENSION].now()


def move_clock(delta, app=None):
    """Move the app's present by `delta` (a timedelta) from where it is now; a test's or a
    demo's tool, never the app's own."""
    clock = (app or current_app).extensions[EXTENSION]
    clock.offset = (clock.offset or delta * 0) + delta
