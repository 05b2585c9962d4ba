"""Money net of Stripe's fees: gross, fees, refunds and net per story and per variant, and
each story's lifetime value per 1,000 appeals shown.

Every figure comes from the payments recorded on Contribution rows, each in its own
currency (never converted or added across currencies):

- gross: what readers paid (fees they chose to cover included);
- fees: Stripe's processing fee on each payment (from its balance transaction; Stripe keeps
  it when the payment is refunded) plus the dispute fee of each disputed payment;
- refunds: money given back, by refund or withdrawn by a dispute;
- net: gross - refunds - fees, what reaches the newsroom's bank.

A payment recorded before fees were (no balance transaction seen) has an unknown fee: the
fees and net of any group holding one are unknown (None), with the count of such payments,
rather than shown too high.
"""
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import case, func, select

from supportapp.extensions import db
from supportapp.models import Contribution, DailyFunnel
from supportapp.services.reports import per_thousand


@dataclass
class NetMoney:
    """The payments of one group in one currency, in minor units."""

    gross: int = 0
    known_fees: int = 0  # fees of the payments whose fee is known, dispute fees included
    refunds: int = 0
    fee_unknown: int = 0  # payments whose Stripe fee is unknown

    @property
    def fees(self):
        return None if self.fee_unknown else self.known_fees

    @property
    def net(self):
        return None if self.fee_unknown else self.gross - self.refunds - self.known_fees

    def as_record(self):
        """JSON-ready: integers in minor units, null where unknown."""
        return {"gross": self.gross, "fees": self.fees, "refunds": self.refunds,
                "net": self.net, "payments_fee_unknown": self.fee_unknown}


def _money_rows(group_column, *conditions):
    fee = func.coalesce(Contribution.fee_minor, 0) + Contribution.dispute_fee_minor
    return db.session.execute(
        select(group_column, Contribution.currency, func.sum(Contribution.amount_minor),
               func.sum(fee),
               func.sum(Contribution.amount_refunded_minor + Contribution.disputed_minor),
               func.sum(case((Contribution.fee_minor.is_(None), 1), else_=0)))
        .where(Contribution.paid_at.is_not(None), *conditions)
        .group_by(group_column, Contribution.currency))


def net_money(group_column, *conditions):
    """{group key: {currency: NetMoney}} over the paid contributions matching `conditions`,
    grouped by `group_column` (e.g. Contribution.story_id)."""
    money = defaultdict(dict)
    for key, currency, gross, fees, refunds, unknown in _money_rows(group_column, *conditions):
        money[key][currency] = NetMoney(int(gross or 0), int(fees or 0), int(refunds or 0),
                                        int(unknown or 0))
    return dict(money)


def _paid_in(period):
    start, end = period.bounds
    return Contribution.paid_at >= start, Contribution.paid_at < end


def money_by_story(period, story_ids=None):
    """{story id: {currency: NetMoney}} of the payments made in the period."""
    conditions = [Contribution.story_id.in_(story_ids)] if story_ids is not None else []
    return net_money(Contribution.story_id, *_paid_in(period), *conditions)


def money_by_variant(appeal_id, period):
    """{variant id: {currency: NetMoney}} of an appeal's payments made in the period."""
    return net_money(Contribution.variant_id, *_paid_in(period),
                     Contribution.appeal_id == appeal_id)


@dataclass
class LifetimeValue:
    """All the money a story's gifts ever brought (renewals included, whenever paid), per
    1,000 appeals it ever showed."""

    shown: int
    money: dict  # currency -> NetMoney

    def per_thousand_shown(self, figure="net"):
        """{currency: minor units per 1,000 appeals shown, halves rounded up}; a currency
        whose figure is unknown maps to None; {} when no appeal was shown."""
        if not self.shown:
            return {}
        values = {currency: getattr(money, figure) for currency, money in self.money.items()}
        known = per_thousand({c: v for c, v in values.items() if v is not None}, self.shown)
        return {currency: known.get(currency) for currency in values}

    def as_record(self):
        return {"shown": self.shown,
                "money": {cur: m.as_record() for cur, m in sorted(self.money.items())},
                "net_per_thousand_shown": self.per_thousand_shown("net"),
                "gross_per_thousand_shown": self.per_thousand_shown("gross")}


def lifetime_values(story_ids):
    """{story id: LifetimeValue} for each of `story_ids`, over all time."""
    ids = [i for i in story_ids if i is not None]
    if not ids:
        return {}
    money = net_money(Contribution.story_id, Contribution.story_id.in_(ids))
    shown = dict(db.session.execute(
        select(DailyFunnel.story_id, func.sum(DailyFunnel.rendered))
        .where(DailyFunnel.story_id.in_(ids)).group_by(DailyFunnel.story_id)).all())
    return {i: LifetimeValue(int(shown.get(i) or 0), money.get(i, {})) for i in ids}
