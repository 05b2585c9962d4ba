"""The holdback: which readers see no appeal, and what the story page counts for them."""
import random
from dataclasses import replace

import pytest
from sqlalchemy import event, select

from supportapp.extensions import db
from supportapp.models import Appeal, AppealVariant, TrackingEvent
from supportapp.services.appeal_placement import (
    AppealSettings,
    HeldBack,
    Placement,
    ReaderContext,
    place_appeal,
    support_page_placement,
)
from supportapp.services.appeals import (
    AppealError,
    AppealView,
    VariantView,
    assign_arm,
    choose_variant,
    held_back,
    save_appeal,
    validate_appeal,
)
from supportapp.services.clock import current_time
from supportapp.services.reader_cookies import READER_ID_COOKIE
from supportapp.services.tracking import roll_up

READERS = 20_000


def _view(*weights, holdback=5, appeal_id=7):
    variants = tuple(
        VariantView(i + 1, f"v{i}", "H", "<p>B</p>", "Give", {}, "monthly", w, i == 0)
        for i, w in enumerate(weights))
    return AppealView(appeal_id, "A", None, (), (), None, None, "", None, None, variants,
                      holdback_percent=holdback)


def _readers(count=READERS, seed=99):
    rng = random.Random(seed)
    return [f"{rng.getrandbits(128):032x}" for _ in range(count)]


@pytest.mark.parametrize("percent", [0, 5, 20, 50])
def test_holdback_share_within_tolerance(percent):
    """Over 20,000 readers the held-back share is within 0.75 points of the setting (the
    binomial standard deviation at 50% is 0.35 points)."""
    readers = _readers()
    share = sum(held_back(_view(1, 1, holdback=percent), r) for r in readers) / READERS * 100
    assert abs(share - percent) <= 0.75, share
    if percent == 0:
        assert share == 0


def test_holdback_is_stable_and_per_appeal():
    readers = _readers(2000)
    first = [held_back(_view(1, 1, holdback=10), r) for r in readers]
    assert [held_back(_view(1, 1, holdback=10), r) for r in readers] == first
    other = [held_back(_view(1, 1, holdback=10, appeal_id=8), r) for r in readers]
    assert other != first  # another appeal holds back other readers


def test_holdback_untouched_by_weights():
    """Changing or re-weighting the variants never moves a reader in or out of the holdback;
    raising the share only adds readers to it."""
    readers = _readers(5000)
    sets = [{r for r in readers if assign_arm(_view(*weights, holdback=10), r) is None}
            for weights in ((1, 1), (90, 10), (1, 2, 7), (10_000,))]
    assert all(s == sets[0] for s in sets) and sets[0]
    wider = {r for r in readers if held_back(_view(1, 1, holdback=20), r)}
    assert sets[0] < wider


def test_variants_split_the_other_readers_by_weight():
    """Among readers not held back, each variant's share stays within 2 points of its weight,
    and each keeps the variant it had with no holdback."""
    appeal = _view(80, 20, holdback=20)
    shown = [r for r in _readers() if assign_arm(appeal, r) is not None]
    first = sum(assign_arm(appeal, r).id == 1 for r in shown) / len(shown) * 100
    assert abs(first - 80) <= 2
    no_holdback = replace(appeal, holdback_percent=0)
    assert all(assign_arm(appeal, r) is choose_variant(no_holdback, r) for r in shown[:500])


def test_reader_without_id_never_held_back():
    appeal = _view(1, 1, holdback=50)
    rng = random.Random(3)
    assert all(assign_arm(appeal, None, rng) is not None for _ in range(200))


def _appeal(holdback=5, status="draft"):
    appeal = Appeal(name="Drive", status=status, target_sections=[], excluded_sections=[],
                    holdback_percent=holdback)
    appeal.variants.append(AppealVariant(
        name="v", heading="H", body="<p>B</p>", cta_label="Give", preset_amounts={},
        default_frequency="monthly", weight=1, is_control=True))
    return appeal


@pytest.mark.parametrize("bad", [-1, 51, 100, 5.5, "5"])
def test_validation_refuses_holdback_outside_0_to_50(bad):
    with pytest.raises(AppealError, match="holdback must be a whole percent from 0 to 50"):
        validate_appeal(_appeal(holdback=bad), 100_000)


@pytest.mark.parametrize("good", [0, 1, 50])
def test_validation_takes_holdback_from_0_to_50(good):
    assert validate_appeal(_appeal(holdback=good), 100_000) == []


@pytest.fixture
def half_held(app, make_story):
    """A live appeal holding back half its readers, a story, a held and a shown reader."""
    appeal = _appeal(holdback=50, status="live")
    save_appeal(appeal)
    story = make_story(slug="harbour")
    view = _view(1, holdback=50, appeal_id=appeal.id)
    readers = _readers(200)
    held = next(r for r in readers if held_back(view, r))
    shown = next(r for r in readers if not held_back(view, r))
    return appeal, story, held, shown


def _queries(client, url):
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return response, statements


def test_place_appeal_holds_back_the_reader(half_held):
    appeal, story, held, shown = half_held
    now, settings = current_time(), AppealSettings()
    assert place_appeal(story, ReaderContext(reader_id=held), now, settings) == HeldBack(appeal.id)
    assert isinstance(place_appeal(story, ReaderContext(reader_id=shown), now, settings),
                      Placement)
    # /support shows the plain form to the held-back reader: no appeal's wording anywhere.
    assert support_page_placement(ReaderContext(reader_id=held), now) is None
    assert support_page_placement(ReaderContext(reader_id=shown), now) is not None


def test_story_page_counts_held_back_reader_without_extra_queries(half_held, client):
    """The held-back reader's page has no appeal and records a "holdback" event (variant 0);
    deciding it asks the database nothing more than showing the appeal does."""
    appeal, story, held, shown = half_held
    # Warm the caches the first views fill: the page around the appeal and the plain page
    # are each rendered once, then kept.
    for reader in (shown, held):
        client.set_cookie(READER_ID_COOKIE, reader)
        client.get(f"/stories/{story.slug}")
    client.set_cookie(READER_ID_COOKIE, shown)
    page, shown_queries = _queries(client, f"/stories/{story.slug}")
    assert b'data-appeal=' in page.data
    client.set_cookie(READER_ID_COOKIE, held)
    page, held_queries = _queries(client, f"/stories/{story.slug}")
    assert b'data-appeal=' not in page.data
    assert len(held_queries) <= len(shown_queries)
    roll_up()
    kinds = db.session.execute(select(TrackingEvent.kind, TrackingEvent.variant_id,
                                      TrackingEvent.appeal_id, TrackingEvent.reader_id)
                               .where(TrackingEvent.reader_id.in_([held, shown]))).all()
    assert ("holdback", 0, appeal.id, held) in kinds
    assert not [k for k in kinds if k[3] == held and k[0] != "holdback"]
