"""Deciding whether a reader sees the appeal in a story, and what it says to them."""
from dataclasses import dataclass

from supportapp.caches import app_caches
from supportapp.services.appeal_copy import count_values, render_body, render_heading, render_line
from supportapp.services.appeals import appeal_for_section, assign_arm, live_appeals
from supportapp.services.giving import amount_choices, chooser_data
from supportapp.services.goal import funding_progress
from supportapp.services.money import format_money_unambiguous


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
    """The ticker: money raised toward the goal, both amounts in the goal's currency."""

    raised_minor: int
    target_minor: int
    currency: str
    label: str

    @property
    def percent(self):
        return min(100, self.raised_minor * 100 // self.target_minor)

    @property
    def raised_text(self):
        """'US$116': the symbol names the currency for every reader."""
        return format_money_unambiguous(self.raised_minor, self.currency)

    @property
    def target_text(self):
        """'US$25,000'."""
        return format_money_unambiguous(self.target_minor, self.currency)


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
    goal: GoalProgress | None  # None: no goal, or not yet at the ticker threshold
    chooser_json: str  # every currency's buttons, for the chooser's script (services/giving)


@dataclass(frozen=True)
class HeldBack:
    """A reader in the appeal's holdback: shown no appeal, and counted as its "no appeal"
    arm (variant 0) so reports can compare the variants with it."""

    appeal_id: int
    variant_id: int = 0


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


def place_appeal(story, reader, now, settings):
    """The appeal this reader sees in this story, ready to render; HeldBack for a reader in
    the appeal's holdback (shown nothing, but to be counted); None when no appeal applies.

    Decided from the cached live appeals and the reader's id: no database query.
    """
    if suppression_reason(story, reader, settings):
        return None
    appeal = appeal_for_section(story.section, now)
    return None if appeal is None else _for_reader(appeal, reader)


def _for_reader(appeal, reader):
    variant = assign_arm(appeal, reader.reader_id)
    if variant is None:
        return HeldBack(appeal.id)
    raised, supporters = _progress(appeal)
    values = {"article_count": reader.article_count, "supporter_count": supporters,
              "raised_minor": raised}
    return build_placement(appeal, variant, reader.currency, values)


def build_placement(appeal, variant, currency, values):
    """The Placement for one variant of an appeal (an AppealView and a VariantView).

    `values` fills the copy: article_count, supporter_count (numbers; the copy shows them with
    their noun) and raised_minor (toward the goal, in its currency). With no supporters, a
    variant's line for that replaces its body; the ticker shows once the appeal's threshold is
    raised. Story pages and the dashboard's preview both build what they show here.
    Placements are kept in the app's cache: most readers of a story get one of a few.
    """
    value_items = tuple(sorted(values.items()))
    return app_caches().placements.get(
        (appeal, variant, currency, value_items),
        lambda: _placement(appeal, variant, currency, value_items))


def _goal(appeal, raised, values):
    """The ticker, or None while there is no goal or less than its threshold is raised.

    The goal's placeholders are filled either way: the copy that uses them is the editor's.
    """
    if not appeal.goal_amount_minor or appeal.goal_amount_minor <= 0:
        return None
    goal = GoalProgress(raised, appeal.goal_amount_minor, appeal.goal_currency,
                        appeal.goal_label)
    values.update(goal_progress=f"{goal.percent}%", goal_raised=goal.raised_text,
                  goal_target=goal.target_text)
    return goal if raised >= appeal.ticker_threshold_minor else None


def _placement(appeal, variant, currency, value_items):
    counts = dict(value_items)
    values = count_values(counts)
    goal = _goal(appeal, counts.get("raised_minor", 0), values)
    if counts.get("supporter_count") == 0 and variant.no_supporters_line:
        body = render_line(variant.no_supporters_line, values)
    else:
        body = render_body(variant.body, values)
    return Placement(
        appeal.id, variant.id, appeal.placement_paragraph,
        render_heading(variant.heading, values), body,
        render_heading(variant.cta_label, values), currency,
        variant.default_frequency, amount_choices(variant.presets, currency), goal,
        chooser_data(variant.presets),
    )


def support_page_placement(reader, now):
    """The wording of the newest live appeal for this reader's variant, for /support: shown
    whatever the appeal's targeting, cap or "Maybe later", since the reader came to give
    (None for a reader in its holdback)."""
    appeal = next((a for a in live_appeals() if a.is_running(now)), None)
    placement = None if appeal is None else _for_reader(appeal, reader)
    # A held-back reader gets the plain form: the holdback sees no appeal's wording anywhere.
    return placement if isinstance(placement, Placement) else None
