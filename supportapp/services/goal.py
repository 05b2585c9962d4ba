"""Progress toward an appeal's funding goal, from the contributions it won."""
from sqlalchemy import func, select

from supportapp.extensions import db
from supportapp.models import Contribution

# Money the newsroom keeps: paid, less any part refunded. Disputed payments do not count.
COUNTED_STATUSES = ("paid", "partially_refunded")


def funding_progress(appeal_id, currency, since=None):
    """(raised_minor, supporter_count) for paid contributions attributed to this appeal.

    Only contributions in `currency` (ISO code) paid at or after `since` (an aware
    datetime, or None for all time) count, net of refunds. Every payment of a recurring
    gift adds to the total; its supporter counts once (one subscription, one supporter).
    """
    if appeal_id is None or not currency:
        return 0, 0
    supporter = func.coalesce(Contribution.stripe_subscription_id,
                              Contribution.stripe_payment_intent_id,
                              Contribution.stripe_checkout_session_id)
    query = select(
        func.coalesce(func.sum(Contribution.amount_minor - Contribution.amount_refunded_minor), 0),
        func.count(func.distinct(supporter)),
    ).where(
        Contribution.appeal_id == appeal_id,
        Contribution.currency == currency.upper(),
        Contribution.status.in_(COUNTED_STATUSES),
    )
    if since is not None:
        query = query.where(Contribution.paid_at >= since)
    raised, supporters = db.session.execute(query).one()
    return int(raised), int(supporters)
