"""The app's clock: the wall clock until a test moves it, and each app has its own."""
from datetime import UTC, datetime, timedelta

from supportapp.services.clock import current_time, move_clock
from tests.conftest import make_app


def test_wall_clock_until_moved_then_moved_by_the_sum(app):
    before = datetime.now(UTC)
    assert before <= current_time(app) <= datetime.now(UTC)
    move_clock(timedelta(days=31), app)
    move_clock(timedelta(days=1), app)
    moved = current_time(app) - datetime.now(UTC)
    assert timedelta(days=32) - timedelta(seconds=5) < moved <= timedelta(days=32)
    assert current_time(app).tzinfo is not None


def test_each_app_keeps_its_own_time(app, database_url):
    other = make_app(database_url)
    move_clock(timedelta(days=90), app)
    assert current_time(other) - datetime.now(UTC) < timedelta(seconds=5)
