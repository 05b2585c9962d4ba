"""Direct or influenced: the story and appeal variant (or holdback) a gift is credited to.

A gift is *direct* when the reader started it from the appeal on a story. It is
*influenced* when the reader gave another way (/support, the masthead link, a reminder)
within a window after seeing an appeal on a story: INFLUENCE_ONE_OFF_DAYS for a one-off gift,
INFLUENCE_RECURRING_DAYS for a recurring one. A reader held back from an appeal (shown none)
who gives within the same window is credited to its holdback ("held_back", variant 0), so the
lift over the holdback counts the gifts readers would have made anyway.

The credit is decided once, when the checkout starts, and travels as a token in the Checkout
Session's client_reference_id and in the session's, payment's and subscription's metadata
("attribution"): each renewal's invoice carries the subscription's metadata, so renewals keep
the story that won them.
"""
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import Appeal, AppealVariant, ReaderFunnel, Story

DIRECT, INFLUENCED, HELD_BACK = "direct", "influenced", "held_back"
ATTRIBUTION_KINDS = (DIRECT, INFLUENCED, HELD_BACK)
METADATA_KEY = "attribution"
# The columns of AttributedToAppeal that a credit fills.
CREDIT_FIELDS = ("attribution_kind", "credited_story_id", "credited_appeal_id",
                 "credited_variant_id")
_TOKEN_RE = re.compile(r"^(direct|influenced|held_back)-s(\d{1,9})-a(\d{1,9})-v(\d{1,9})$")


@dataclass(frozen=True)
class Credit:
    kind: str  # one of ATTRIBUTION_KINDS
    story_id: int
    appeal_id: int
    variant_id: int  # 0: the appeal's holdback

    @property
    def token(self):
        """'influenced-s12-a3-v7': letters, digits, dashes and underscores, as Stripe's
        client_reference_id allows."""
        return f"{self.kind}-s{self.story_id}-a{self.appeal_id}-v{self.variant_id}"


def parse_token(text):
    """The Credit a token names, or None for anything that is not one."""
    match = _TOKEN_RE.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    kind, story, appeal, variant = match.groups()
    credit = Credit(kind, int(story), int(appeal), int(variant))
    return credit if (credit.variant_id == 0) == (kind == HELD_BACK) else None


def influence_window(frequency, config):
    """How long after seeing an appeal a gift of this frequency counts as influenced."""
    days = config["INFLUENCE_ONE_OFF_DAYS" if frequency == "one_off"
                  else "INFLUENCE_RECURRING_DAYS"]
    return timedelta(days=days)


def gift_credit(order, story_id, now, window):
    """The Credit for a checkout about to start, or None (no appeal seen within `window`).

    `story_id` is the order's story when its appeal and variant are known to belong
    together (the checkout view checks them), else None. Direct: from the appeal on a story,
    not a reminder's link. Otherwise the appeal (or holdback) the reader last met on a story
    within the window, as the per-reader funnel records it (rolled up about every minute).
    """
    if story_id and order.appeal_id and order.variant_id and order.reminder_id is None:
        return Credit(DIRECT, story_id, order.appeal_id, order.variant_id)
    if not order.reader_id or window <= timedelta(0):
        return None
    seen = _last_seen(order.reader_id, now - window)
    if seen is None:
        return None
    story, appeal, variant = seen
    return Credit(HELD_BACK if variant == 0 else INFLUENCED, story, appeal, variant)


def _last_seen(reader_id, since):
    # Held-back rows count too (variant 0): they are the holdback's exposures.
    return db.session.execute(
        select(ReaderFunnel.story_id, ReaderFunnel.appeal_id, ReaderFunnel.variant_id)
        .where(ReaderFunnel.reader_key == reader_id, ReaderFunnel.day >= since.date(),
               ReaderFunnel.last_seen_at >= since, ReaderFunnel.story_id > 0,
               ReaderFunnel.appeal_id > 0)
        .order_by(ReaderFunnel.last_seen_at.desc()).limit(1)).first()


def credited_fields(metadata):
    """{attribution_kind, credited_story_id, credited_appeal_id, credited_variant_id} from
    checkout metadata; empty unless the token names a story, appeal and variant that exist
    and belong together (metadata comes back through Stripe, so it is checked)."""
    credit = parse_token(metadata.get(METADATA_KEY)) if isinstance(metadata, dict) else None
    if credit is None or db.session.get(Appeal, credit.appeal_id) is None:
        return {}
    if db.session.get(Story, credit.story_id) is None:
        return {}
    if credit.variant_id:
        variant = db.session.get(AppealVariant, credit.variant_id)
        if variant is None or variant.appeal_id != credit.appeal_id:
            return {}
    return {"attribution_kind": credit.kind, "credited_story_id": credit.story_id,
            "credited_appeal_id": credit.appeal_id,
            "credited_variant_id": credit.variant_id or None}
