"""Variant assignment, appeal validation and safe copy."""
import random
import uuid

import pytest

from supportapp.models import Appeal, AppealVariant
from supportapp.services.appeal_copy import render_body, render_heading, unknown_placeholders
from supportapp.services.appeals import (
    AppealError,
    AppealView,
    VariantView,
    choose_variant,
    validate_appeal,
)


def _view(*weights, appeal_id=7):
    variants = tuple(
        VariantView(i + 1, f"v{i}", "H", "<p>B</p>", "Give", {}, "monthly", w, i == 0)
        for i, w in enumerate(weights)
    )
    return AppealView(appeal_id, "A", None, (), (), None, None, "", None, None, variants)


def test_assignment_is_deterministic_per_reader():
    """The same reader always sees the same variant; the appeal id is part of the hash."""
    appeal = _view(50, 50)
    readers = [uuid.uuid4().hex for _ in range(200)]
    first = [choose_variant(appeal, r).id for r in readers]
    assert [choose_variant(appeal, r).id for r in readers] == first
    other = [choose_variant(_view(50, 50, appeal_id=8), r).id for r in readers]
    assert other != first  # another appeal reshuffles readers


@pytest.mark.parametrize("weights", [(50, 50), (80, 20), (1, 1, 2), (10, 0, 90)])
def test_weight_split_within_two_points(weights):
    """Over 10,000 simulated readers each variant's share is within 2 points of its weight."""
    appeal = _view(*weights)
    rng = random.Random(1234)
    readers = [f"{rng.getrandbits(128):032x}" for _ in range(10_000)]
    counts = {}
    for reader in readers:
        variant = choose_variant(appeal, reader)
        counts[variant.id] = counts.get(variant.id, 0) + 1
    total = sum(weights)
    for index, weight in enumerate(weights):
        share = counts.get(index + 1, 0) / len(readers) * 100
        assert abs(share - weight * 100 / total) <= 2, (weights, counts)


def _appeal(*weights, **fields):
    appeal = Appeal(name="Drive", status="draft", target_sections=[], excluded_sections=[],
                    **fields)
    for i, w in enumerate(weights):
        appeal.variants.append(AppealVariant(
            name=f"v{i}", heading="Since you're here", body="<p>Please give</p>",
            cta_label="Give", preset_amounts={}, default_frequency="monthly", weight=w,
            is_control=i == 0))
    return appeal


@pytest.mark.parametrize("weights", [(0, 0), (-1, 5), (0,)])
def test_zero_or_negative_weights_refused(weights):
    """All-zero or negative weights are refused when saved."""
    with pytest.raises(AppealError):
        validate_appeal(_appeal(*weights), 1_000_000)


def test_presets_below_minimum_refused():
    """A preset under 1.00 cannot be saved."""
    appeal = _appeal(1)
    appeal.variants[0].preset_amounts = {"USD": {"one_off": [50, 500]}}
    with pytest.raises(AppealError, match="1.00"):
        validate_appeal(appeal, 1_000_000)


def test_unknown_placeholders_reported():
    """Unknown placeholders are reported on save, known ones are not."""
    appeal = _appeal(1)
    appeal.variants[0].heading = "You read {article_count} and {favourite_colour}"
    warnings = validate_appeal(appeal, 1_000_000)
    assert len(warnings) == 1 and "{favourite_colour}" in warnings[0]
    assert unknown_placeholders("{goal_progress} {supporter_count}") == []


def test_variant_body_sanitised_on_write():
    """Scripts and handlers in appeal copy are removed as it is stored."""
    variant = AppealVariant(body='<p onclick="x()">Hi</p><script>steal()</script>')
    assert variant.body == "<p>Hi</p>"


@pytest.mark.parametrize("value", ["<script>alert(1)</script>", '"><img src=x onerror=y>', "{x}"])
def test_placeholder_values_cannot_inject_markup(value):
    """A placeholder value is always escaped, in heading and body."""
    heading = render_heading("Read {article_count}", {"article_count": value})
    body = render_body("<p>{supporter_count} readers</p>", {"supporter_count": value})
    for out in (str(heading), str(body)):
        assert "<script" not in out and "<img" not in out


def test_unknown_placeholder_renders_literally():
    """An unknown placeholder shows as typed, and known ones are filled."""
    assert str(render_heading("{nope} {article_count}", {"article_count": 3})) == "{nope} 3"


def test_heading_markup_is_text():
    """Markup typed into a heading is shown as text, not run."""
    assert "&lt;b&gt;" in str(render_heading("<b>x</b>", {}))


@pytest.mark.parametrize("goal, threshold, line, message", [
    (10_000, -1, "", "from 0 up to the funding goal"),
    (10_000, 10_001, "", "from 0 up to the funding goal"),
    (None, 1, "", "needs a funding goal"),
    (10_000, 10_000, "x" * 301, "at most 300 characters"),
])
def test_threshold_and_line_checked_on_save(goal, threshold, line, message):
    """The service refuses what the columns or the ticker cannot hold, whoever saves it."""
    appeal = _appeal(1)
    appeal.goal_amount_minor, appeal.goal_currency = goal, "USD" if goal else None
    appeal.ticker_threshold_minor = threshold
    appeal.variants[0].no_supporters_line = line
    with pytest.raises(AppealError, match=message):
        validate_appeal(appeal, 1_000_000)
    appeal.variants[0].no_supporters_line = "x" * 300
    appeal.ticker_threshold_minor = 0
    assert validate_appeal(appeal, 1_000_000) == []
