"""The app's caches, with a real one-second time-to-live: each app has its own."""
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from supportapp.caches import app_caches
from supportapp.extensions import db
from supportapp.models import Appeal, AppealVariant, Contribution, Story
from supportapp.services.appeal_placement import AppealSettings, ReaderContext, place_appeal
from supportapp.services.appeals import appeal_for_section, clear_appeal_cache, save_appeal
from supportapp.services.known_targets import known_targets
from tests.conftest import make_app

TTL = 1
PAST_TTL = TTL + 0.3
SECTION = "local-government"


@pytest.fixture
def ttl_app(database_url, app):
    """Another app on the test database whose caches keep answers for TTL seconds."""
    apps = []

    def _make():
        made = make_app(database_url, APPEAL_CACHE_SECONDS=TTL,
                        APPEAL_PROGRESS_CACHE_SECONDS=TTL, TRACKING_LOOKUP_SECONDS=TTL)
        apps.append(made)
        return made

    yield _make
    for made in apps:
        with made.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def live_appeal(app, make_story):
    """A live appeal with one variant, a funding goal and a story it shows in."""
    appeal = Appeal(name="Drive", status="live", target_sections=[], excluded_sections=[],
                    goal_amount_minor=100_000, goal_currency="USD", goal_label="Our goal")
    appeal.variants.append(AppealVariant(
        name="c", heading="Old heading", body="<p>Raised {goal_raised}</p>", cta_label="Give",
        preset_amounts={}, default_frequency="one_off", weight=1, is_control=True))
    save_appeal(appeal)
    return appeal, make_story(slug="cached-story")


def _in(app, fn, *args):
    with app.app_context():
        return fn(*args)


def _live_id():
    found = appeal_for_section(SECTION, datetime.now(UTC))
    return found.id if found else None


def _behind_the_cache(statement):
    # Straight through a connection: a write through the session changes the content stamp,
    # which every cache sees at once (tests/test_story_page_cache.py); SQL run past the app
    # is caught by the time-to-live alone.
    with db.engine.begin() as connection:
        connection.execute(statement)


def _pause_behind_the_cache(appeal_id):
    _behind_the_cache(update(Appeal).where(Appeal.id == appeal_id).values(status="paused"))


def _new_heading_behind_the_cache(appeal_id):
    _behind_the_cache(update(AppealVariant).where(AppealVariant.appeal_id == appeal_id)
                      .values(heading="New heading"))


def _placement(story_id):
    story = db.session.get(Story, story_id)
    return place_appeal(story, ReaderContext(), datetime.now(UTC), AppealSettings())


def _paid(appeal_id, amount, n):
    db.session.add(Contribution(amount_minor=amount, currency="USD", appeal_id=appeal_id,
                                status="paid", paid_at=datetime.now(UTC),
                                stripe_payment_intent_id=f"pi_cached_{n}"))
    db.session.commit()


def test_live_appeals_kept_for_their_ttl(ttl_app, live_appeal):
    """A paused appeal keeps showing until the live-appeal cache expires, then it is gone."""
    first = ttl_app()
    appeal, _story = live_appeal
    assert _in(first, _live_id) == appeal.id
    _pause_behind_the_cache(appeal.id)
    assert _in(first, _live_id) == appeal.id
    assert _in(ttl_app(), _live_id) is None  # another app has a cache of its own
    time.sleep(PAST_TTL)
    assert _in(first, _live_id) is None


def test_clear_appeal_cache_clears_the_current_app_only(ttl_app, live_appeal):
    """clear_appeal_cache() (after a save) forgets this app's live appeals, not another's."""
    first, second = ttl_app(), ttl_app()
    appeal, _story = live_appeal
    assert _in(first, _live_id) == _in(second, _live_id) == appeal.id
    _pause_behind_the_cache(appeal.id)
    _in(first, clear_appeal_cache)
    assert _in(first, _live_id) is None
    assert _in(second, _live_id) == appeal.id


def test_goal_progress_kept_for_its_ttl(ttl_app, live_appeal):
    """The ticker shows the total as it was until its cache expires, then the new total."""
    first = ttl_app()
    appeal, story = live_appeal
    _paid(appeal.id, 2500, 1)
    assert _in(first, _placement, story.id).goal.raised_minor == 2500
    _paid(appeal.id, 1000, 2)
    assert _in(first, _placement, story.id).goal.raised_minor == 2500
    assert _in(ttl_app(), _placement, story.id).goal.raised_minor == 3500
    time.sleep(PAST_TTL)
    assert _in(first, _placement, story.id).goal.raised_minor == 3500


def test_placements_kept_until_the_live_appeals_turn_over(ttl_app, live_appeal):
    """The same Placement is reused within the TTL, a new one (new copy) comes after it."""
    first = ttl_app()
    appeal, story = live_appeal
    placement = _in(first, _placement, story.id)
    _new_heading_behind_the_cache(appeal.id)
    assert _in(first, _placement, story.id) is placement
    other = _in(ttl_app(), _placement, story.id)
    assert other is not placement and other.heading == "New heading"
    time.sleep(PAST_TTL)
    fresh = _in(first, _placement, story.id)
    assert placement.heading == "Old heading" and fresh.heading == "New heading"


def test_story_page_keeps_its_appeal_html_for_the_ttl(ttl_app, live_appeal):
    """Story pages serve the cached appeal block and offset until the TTL, in their app only."""
    first, second = ttl_app(), ttl_app()
    appeal, story = live_appeal
    page = first.test_client().get(f"/stories/{story.slug}").get_data(as_text=True)
    assert "Old heading" in page
    _new_heading_behind_the_cache(appeal.id)
    assert "Old heading" in first.test_client().get(f"/stories/{story.slug}").get_data(True)
    with first.app_context():
        caches = app_caches()
        assert (len(caches.fragments), len(caches.insertion_offsets)) == (1, 1)
    with second.app_context():
        caches = app_caches()
        assert (len(caches.fragments), len(caches.insertion_offsets)) == (0, 0)
    assert "New heading" in second.test_client().get(f"/stories/{story.slug}").get_data(True)
    time.sleep(PAST_TTL)
    assert "New heading" in first.test_client().get(f"/stories/{story.slug}").get_data(True)


def _lookup(slug, variant_id):
    return known_targets().lookup(slug, variant_id, TTL)


def test_known_targets_kept_for_their_ttl(ttl_app, live_appeal):
    """A renamed story's old slug still counts until the beacon's list expires."""
    first = ttl_app()
    appeal, story = live_appeal
    slug, story_id, variant_id = story.slug, story.id, appeal.variants[0].id
    assert _in(first, _lookup, slug, variant_id) == (story_id, appeal.id)
    db.session.execute(update(Story).where(Story.id == story_id).values(slug="renamed-story"))
    db.session.commit()
    assert _in(first, _lookup, slug, variant_id) == (story_id, appeal.id)
    assert _in(ttl_app(), _lookup, slug, variant_id) == (None, appeal.id)
    time.sleep(PAST_TTL)
    assert _in(first, _lookup, slug, variant_id) == (None, appeal.id)
    assert _in(first, _lookup, "renamed-story", variant_id) == (story_id, appeal.id)


def test_a_memo_keeps_answers_for_its_ttl_and_at_most_maxsize():
    """Memo itself, with a real time-to-live: a kept answer is not computed again until it
    expires; when full, the answer kept longest goes first; a ttl of 0 keeps nothing."""
    from supportapp.caches import Memo

    calls = []

    def answer(key):
        return lambda: calls.append(key) or f"answer {key} #{len(calls)}"

    memo = Memo(2, TTL)
    assert memo.get("a", answer("a")) == "answer a #1"
    assert memo.get("a", answer("a")) == "answer a #1"
    memo.get("b", answer("b"))
    memo.get("c", answer("c"))  # full: "a" goes
    assert len(memo) == 2
    assert memo.get("b", answer("b")) == "answer b #2"
    assert memo.get("a", answer("a")) == "answer a #4"  # computed again
    time.sleep(PAST_TTL)
    assert len(memo) == 0
    assert memo.get("a", answer("a")) == "answer a #5"
    memo.clear()
    assert memo.get("a", answer("a")) == "answer a #6"

    untimed, nothing = Memo(1), Memo(5, 0)
    untimed.get("x", answer("x"))
    assert untimed.get("x", answer("x")) == "answer x #7"
    assert nothing.get("y", answer("y")) == "answer y #8"
    assert nothing.get("y", answer("y")) == "answer y #9" and len(nothing) == 0
