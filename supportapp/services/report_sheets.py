"""What one report shows, gathered in one place for the dashboard pages and the JSON API.

Each part is computed by the service that owns it (the funnel by `reports`, money net of fees
by `net_revenue`, direct and influenced gifts by `credit_report`, the lift over the holdback by
`holdback_report`, the plan by `experiment_planning`); a sheet holds them side by side so the
page and the API answer show the same figures, and `*_records` turns a sheet into JSON.
"""
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func, select

from supportapp.caches import app_caches
from supportapp.extensions import db
from supportapp.models import BanditAllocation, Contribution
from supportapp.services.credit_report import CreditFigures, credit_figures
from supportapp.services.experiment_planning import plan_for_period
from supportapp.services.holdback_report import variant_lifts
from supportapp.services.net_revenue import lifetime_values, money_by_story, money_by_variant
from supportapp.services.reports import report_stamp, variants_table
from supportapp.services.tracking import last_rollup


@dataclass
class StoriesSheet:
    rows: list  # StoryRow, in the order asked for
    money: dict  # story id -> {currency: NetMoney}, payments in the period
    lifetime: dict  # story id -> LifetimeValue, over all time
    credits: dict  # story id -> CreditFigures
    as_of_time: datetime | None  # when the funnel counts were last rolled up


def _every_payment_stamp():
    # Lifetime values read every payment, whenever paid: a refund of an old one changes them.
    return tuple(db.session.execute(
        select(func.count(), func.max(Contribution.updated_at))).one())


def stories_sheet(period, rows):
    """The money, lifetime value and credits of the given story rows (one page of them).

    Kept like the report tables, under the period's data stamp (and that of every payment,
    for the lifetime values): a page between roll-ups only looks the stamps up.
    """
    ids = [row.story_id for row in rows]
    key = ("stories_sheet", period, tuple(ids), report_stamp(period), _every_payment_stamp())
    money, lifetime, credits = app_caches().report_tables.get(key, lambda: (
        money_by_story(period, ids), lifetime_values(ids), credit_figures("story", period)))
    return StoriesSheet(rows, money, lifetime, credits, last_rollup().finished_at)


@dataclass
class VariantsSheet:
    rows: list  # VariantRow per variant of the appeal
    plans: dict  # variant id -> Plan
    money: dict  # variant id -> {currency: NetMoney}
    credits: dict  # variant id -> CreditFigures
    lifts: dict  # variant id -> VariantLift over the holdback
    allocation: BanditAllocation | None  # the bandit's newest shares, if it has run
    as_of_time: datetime | None


def variants_sheet(appeal_id, period, today):
    """Everything the variants page and /api/reports/variants show for one appeal; the
    money, credits and lifts kept under the period's data stamp like the variants table."""
    rows = variants_table(appeal_id, period)
    ids = tuple(r.variant_id for r in rows)
    money, credits, lifts = app_caches().report_tables.get(
        ("variants_sheet", appeal_id, period, ids, report_stamp(period)), lambda: (
            money_by_variant(appeal_id, period),
            credit_figures("variant", period, appeal_id=appeal_id),
            variant_lifts(appeal_id, list(ids), period)))
    return VariantsSheet(rows, plan_for_period(rows, period, today), money, credits, lifts,
                         db.session.get(BanditAllocation, appeal_id), last_rollup().finished_at)


def money_record(money):
    """{currency: {gross, fees, refunds, net, payments_fee_unknown}} in minor units."""
    return {currency: figures.as_record() for currency, figures in sorted(money.items())}


def _fields(row, fields):
    return {name: getattr(row, name) for name in fields}


def _credits(credits, key):
    return (credits.get(key) or CreditFigures()).as_dict()


def story_records(sheet, fields):
    """One JSON object per story row: the named funnel fields, credits, money, lifetime."""
    return [{**_fields(r, fields), **_credits(sheet.credits, r.story_id),
             "money": money_record(sheet.money.get(r.story_id, {})),
             "lifetime": sheet.lifetime[r.story_id].as_record()} for r in sheet.rows]


def variant_records(sheet, fields):
    """One JSON object per variant: funnel fields, credits, money, plan and lift."""
    return [{**_fields(r, fields), **_credits(sheet.credits, r.variant_id),
             "money": money_record(sheet.money.get(r.variant_id, {})),
             "plan": asdict(sheet.plans[r.variant_id]),
             "lift_over_holdback": sheet.lifts[r.variant_id].as_dict()} for r in sheet.rows]
