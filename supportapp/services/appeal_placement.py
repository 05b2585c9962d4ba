"""Deciding whether a reader sees the appeal in a story, and what it says to them."""
from dataclasses import dataclass

from supportapp.caches import app_caches
from supportapp.labels import FREQUENCY_LABELS
from supportapp.services.appeal_copy import render_body, render_heading
from supportapp.services.appeals import appeal_for_section, choose_variant
from supportapp.services.goal import funding_progress
from supportapp.services.money import decimal_string, format_money


@dataclass(frozen=True)
class AppealSettings:
    max_views: int = 4
    view_window_days: int = 30


@dataclass(frozen=True)
class ReaderContext:
    """What the reader's own cookies and headers say; built by the view."""

    reader_id: str | None = None
    article_count: int = 0
    recent_views: int = 0
    dismissed: bool = False
    quiet_supporter: bool = False
    currency: str = "USD"


@dataclass(frozen=True)
class GoalProgress:
    raised_minor: int
    target_minor: int
    currency: str
    label: str

    @property
    def percent(self):
        return min(100, self.raised_minor * 100 // self.target_minor)


@dataclass(frozen=True)
class Placement:
    appeal_id: int
    variant_id: int
    after_paragraph: int | None
    heading: str
    body: str
    cta_label: str
    currency: str
    default_frequency: str
    amounts: tuple  # ((frequency, ((minor, "5", "$5"), ...)), ...)
    goal: GoalProgress | None


def suppression_reason(story, reader, settings):
    """Why this reader should not see an appeal in this story, or None."""
    if story.appeal_disabled:
        return "story_disabled"
    if reader.quiet_supporter:
        return "supporter"
    if reader.dismissed:
        return "dismissed"
    if reader.recent_views >= settings.max_views:
        return "frequency_cap"
    return None


def _progress(appeal):
    # Cached for APPEAL_PROGRESS_CACHE_SECONDS: the ticker may lag that long.
    return app_caches().goal_progress.get(
        (appeal.id, appeal.goal_currency),
        lambda: funding_progress(appeal.id, appeal.goal_currency, appeal.starts_at))


def _amount_choices(variant, currency):
    # Tuples all the way down: a Placement is hashable, so its HTML can be cached.
    return tuple(
        (frequency, tuple((m, decimal_string(m), format_money(m, currency))
                          for m in variant.amounts(currency, frequency)))
        for frequency in FREQUENCY_LABELS
    )


def place_appeal(story, reader, now, settings):
    """The appeal this reader sees in this story, ready to render, or None."""
    if suppression_reason(story, reader, settings):
        return None
    appeal = appeal_for_section(story.section, now)
    if appeal is None:
        return None
    variant = choose_variant(appeal, reader.reader_id)
    raised, supporters = _progress(appeal)
    values = {"article_count": reader.article_count, "supporter_count": supporters,
              "raised_minor": raised}
    return build_placement(appeal, variant, reader.currency, values)


def build_placement(appeal, variant, currency, values):
    """The Placement for one variant of an appeal (an AppealView and a VariantView).

    `values` fills the copy: article_count, supporter_count and raised_minor (toward the
    goal). Story pages and the dashboard's preview both build what they show here.
    Placements are kept in the app's cache: most readers of a story get one of a few.
    """
    value_items = tuple(sorted(values.items()))
    return app_caches().placements.get(
        (appeal, variant, currency, value_items),
        lambda: _placement(appeal, variant, currency, value_items))


def _placement(appeal, variant, currency, value_items):
    goal = None
    values = dict(value_items)
    raised = values.pop("raised_minor", 0)
    if appeal.goal_amount_minor and appeal.goal_amount_minor > 0:
        goal = GoalProgress(raised, appeal.goal_amount_minor, appeal.goal_currency,
                            appeal.goal_label)
        values.update(goal_progress=f"{goal.percent}%",
                      goal_raised=format_money(goal.raised_minor, goal.currency),
                      goal_target=format_money(goal.target_minor, goal.currency))
    return Placement(
        appeal.id, variant.id, appeal.placement_paragraph,
        render_heading(variant.heading, values), render_body(variant.body, values),
        render_heading(variant.cta_label, values), currency,
        variant.default_frequency, _amount_choices(variant, currency), goal,
    )
