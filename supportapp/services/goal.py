"""Progress toward an appeal's funding goal, from the contributions it won."""
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from supportapp.extensions import db
from supportapp.models import Contribution
from supportapp.services.exchange_rates import GoalRatesNote, goal_rates_note, sum_in_currency
from supportapp.services.money import format_money_unambiguous

# Money the newsroom keeps: paid, less any part refunded. Disputed payments do not count.
COUNTED_STATUSES = ("paid", "partially_refunded")


def funding_progress(appeal_id, currency, since=None, rates=None):
    """(raised_minor, supporter_count) for paid contributions attributed to this appeal.

    Contributions paid at or after `since` (an aware datetime, or None for all time) count,
    net of refunds. Raised is in `currency` (ISO code; None for an appeal with no goal,
    which raises 0 but still counts its supporters): gifts in other currencies count at
    `rates` (default: the app's GOAL_RATES), each currency's total converted once and rounded
    down; a currency without a rate adds nothing. Every payment of a recurring gift adds to
    the total; its supporter counts once (one subscription, one supporter), in any currency.
    """
    if appeal_id is None:
        return 0, 0
    conditions = [Contribution.appeal_id == appeal_id,
                  Contribution.status.in_(COUNTED_STATUSES)]
    if since is not None:
        conditions.append(Contribution.paid_at >= since)
    supporters = _supporters(conditions)
    if not currency:
        return 0, supporters
    if rates is None:
        rates = current_app.config["GOAL_RATES"]
    return sum_in_currency(_net_totals(conditions), currency.upper(), rates), supporters


def _net_totals(conditions):
    """{currency: net minor units} of the matching contributions."""
    rows = db.session.execute(
        select(Contribution.currency,
               func.sum(Contribution.amount_minor - Contribution.amount_refunded_minor))
        .where(*conditions).group_by(Contribution.currency))
    return {code: int(minor) for code, minor in rows}


def _supporters(conditions):
    supporter = func.coalesce(Contribution.stripe_subscription_id,
                              Contribution.stripe_payment_intent_id,
                              Contribution.stripe_checkout_session_id)
    return int(db.session.scalar(
        select(func.count(func.distinct(supporter))).where(*conditions)) or 0)


@dataclass(frozen=True)
class GoalStatus:
    """What staff are told about a goal: progress, whether readers see the ticker, the rates."""

    target_text: str
    raised_text: str
    threshold_text: str | None  # None: the ticker is always shown
    ticker_shown: bool
    rates: GoalRatesNote


def goal_status(appeal, raised_minor, rates=None):
    """The GoalStatus of an appeal (model or view) with `raised_minor` raised; None if no goal."""
    if not appeal.goal_amount_minor or appeal.goal_amount_minor <= 0:
        return None
    currency, threshold = appeal.goal_currency, appeal.ticker_threshold_minor or 0
    if rates is None:
        rates = current_app.config["GOAL_RATES"]
    return GoalStatus(
        format_money_unambiguous(appeal.goal_amount_minor, currency),
        format_money_unambiguous(raised_minor, currency),
        format_money_unambiguous(threshold, currency) if threshold else None,
        raised_minor >= threshold, goal_rates_note(currency, rates))


def appeal_goal_status(appeal):
    """The GoalStatus of a saved appeal, counted as its ticker counts (since it started)."""
    if not appeal.goal_amount_minor:
        return None
    raised, _supporters = funding_progress(appeal.id, appeal.goal_currency, appeal.starts_at)
    return goal_status(appeal, raised)
