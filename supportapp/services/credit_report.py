"""Direct and influenced gifts per story and per variant, side by side and never added up.

Direct counts only gifts started from the appeal on a story, so it misses readers whom the
appeal persuaded but who gave later another way (it undercounts); influenced counts every
gift made another way within the window after seeing the appeal, including readers who would
have given anyway (it overcounts). Each is biased its own way; their sum would be neither.
Figures are new gifts (one-off, or a subscription's first payment) paid in the period, and
their annualised value per currency (a monthly gift counts twelve times), net of refunds.
"""
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select

from supportapp.extensions import db
from supportapp.models import Contribution
from supportapp.services.funnel_conversions import new_gift
from supportapp.services.gift_attribution import DIRECT, INFLUENCED
from supportapp.services.reports import ANNUAL_FACTOR

SHOWN_KINDS = (DIRECT, INFLUENCED)  # held-back gifts belong to the lift, not here


@dataclass
class CreditFigures:
    direct_gifts: int = 0
    direct_annualised: dict = field(default_factory=dict)  # currency -> minor units
    influenced_gifts: int = 0
    influenced_annualised: dict = field(default_factory=dict)

    def add(self, kind, count, currency, value):
        setattr(self, f"{kind}_gifts", getattr(self, f"{kind}_gifts") + count)
        money = getattr(self, f"{kind}_annualised")
        money[currency] = money.get(currency, 0) + value

    def as_dict(self):
        """The four figures, for the JSON API."""
        return {"direct_gifts": self.direct_gifts, "direct_annualised": self.direct_annualised,
                "influenced_gifts": self.influenced_gifts,
                "influenced_annualised": self.influenced_annualised}


def credit_figures(group, period, appeal_id=None, story_id=None):
    """{story or variant id: CreditFigures} for the period; `group` is "story" or
    "variant", optionally only one appeal's or one story's gifts."""
    column = {"story": Contribution.credited_story_id,
              "variant": Contribution.credited_variant_id}[group]
    conditions = []
    if appeal_id is not None:
        conditions.append(Contribution.credited_appeal_id == appeal_id)
    if story_id is not None:
        conditions.append(Contribution.credited_story_id == story_id)
    start, end = period.bounds
    rows = db.session.execute(
        select(column, Contribution.attribution_kind, Contribution.currency,
               Contribution.frequency, func.count(),
               func.sum(Contribution.amount_minor - Contribution.amount_refunded_minor))
        .where(Contribution.attribution_kind.in_(SHOWN_KINDS), column.is_not(None),
               Contribution.paid_at >= start, Contribution.paid_at < end,
               new_gift(), *conditions)
        .group_by(column, Contribution.attribution_kind, Contribution.currency,
                  Contribution.frequency))
    figures = defaultdict(CreditFigures)
    for key, kind, currency, frequency, count, net in rows:
        figures[key].add(kind, count, currency, int(net or 0) * ANNUAL_FACTOR.get(frequency, 1))
    return figures
