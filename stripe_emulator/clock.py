"""The emulator's time: Unix seconds, and billing-period arithmetic.

Like a Stripe test clock, the emulator's present can be moved forward
(`POST /_emulator/clock/advance`, see schedule.py), and everything it stamps
(`created`, period ends, `next_payment_attempt`) is in that time. It is the
wall clock plus an offset, so between moves time goes on as usual; while due
work runs, the clock is held at each item's own moment. Each emulator app
keeps its own clock (`state.clock`); `now()` reads the one of the emulator
handling the current request, and outside any request it is the wall clock.

Objects attached to one of Stripe's test clocks (test_clocks.py) live at that
clock's `frozen_time` instead: code working on them runs inside `frozen(...)`,
and `now()` then reads that clock.
"""

import calendar
import contextvars
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from flask import current_app, has_app_context

EXTENSION = "stripe_emulator"


class Clock:
    """The wall clock plus an offset that only ever grows."""

    def __init__(self, offset=0):
        self.offset = offset
        self._held = None  # while due work runs: the moment it is due

    def now(self):
        if self._held is not None:
            return self._held
        return int(time.time()) + self.offset

    def hold(self, at):
        """Stop at `at` (never earlier than now) until `release`; returns the moment held."""
        self._held = max(at, self.now())
        return self._held

    def release(self):
        """Let time run again from the moment held (or from now)."""
        moment = self.now()
        self._held = None
        self.offset = max(self.offset, moment - int(time.time()))

    def reset(self):
        self.offset, self._held = 0, None


class FrozenClock:
    """A Stripe test clock's time (its stored object's `frozen_time`), with the same
    hold/release steps as `Clock`, so that schedule.py can advance either."""

    def __init__(self, test_clock):
        self.test_clock = test_clock  # the stored object: releasing updates it
        self._held = None

    @property
    def id(self):
        return self.test_clock["id"]

    def now(self):
        return self.test_clock["frozen_time"] if self._held is None else self._held

    def hold(self, at):
        self._held = max(at, self.now())
        return self._held

    def release(self):
        self.test_clock["frozen_time"] = self.now()
        self._held = None


_frozen = contextvars.ContextVar("test_clock", default=None)


@contextmanager
def frozen(test_clock):
    """Run the block at a test clock's time (a FrozenClock, a stored test clock, or None
    for the emulator's own clock). Already on that clock: its held moment is kept."""
    clock = test_clock
    if test_clock is not None and not isinstance(test_clock, FrozenClock):
        clock = FrozenClock(test_clock)
    current = _frozen.get()
    if clock is None or (current is not None and current.id == clock.id):
        yield current
        return
    token = _frozen.set(clock)
    try:
        yield clock
    finally:
        _frozen.reset(token)


def now():
    """The present of the test clock being worked on, else of the emulator serving this
    request (the wall clock outside one)."""
    test_clock = _frozen.get()
    if test_clock is not None:
        return test_clock.now()
    if has_app_context():
        state = current_app.extensions.get(EXTENSION)
        if state is not None:
            return state.clock.now()
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
