"""Starting a contribution: from what the reader chose to a Stripe Checkout page."""
import hashlib
from dataclasses import dataclass, replace

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from supportapp.extensions import db
from supportapp.logs import log_throttled
from supportapp.services import payments
from supportapp.services.clock import current_time
from supportapp.services.event_journal import accept_events
from supportapp.services.gift_attribution import METADATA_KEY, gift_credit, influence_window
from supportapp.services.giving import FREQUENCY_LABELS
from supportapp.services.known_targets import TargetsUnavailable, known_targets
from supportapp.services.pricing import charged_amount
from supportapp.services.tracking import checkout_started_event


@dataclass(frozen=True)
class CheckoutOrder:
    """A contribution the reader asked for; amounts in minor units."""

    frequency: str  # one_off, monthly or annual
    amount_minor: int  # what the reader chose, before any fee cover
    currency: str  # ISO code, upper case
    email: str | None = None  # None: Stripe's page asks for it
    cover_fees: bool = False
    story: str | None = None  # slug
    appeal_id: int | None = None
    variant_id: int | None = None
    reader_id: str | None = None
    reminder_id: int | None = None  # the "Remind me later" email the reader came from
    page_view: str | None = None  # the appeal's page view id (the funnel's key without reader)
    attribution: str | None = None  # the Credit's token (services/gift_attribution.py)

    @property
    def product_name(self):
        site = current_app.config["SITE_NAME"]
        return f"{FREQUENCY_LABELS[self.frequency]} contribution to {site}"

    def total_minor(self, fees):
        return charged_amount(self.amount_minor, self.currency, self.cover_fees, fees)

    def metadata(self):
        """What rides along on the session, the payment and the subscription (strings only)."""
        values = {
            "frequency": self.frequency,
            "story": self.story,
            "appeal": self.appeal_id,
            "variant": self.variant_id,
            "reader": self.reader_id,
            "reminder": self.reminder_id,
            "amount_chosen": self.amount_minor,
            "cover_fees": "1" if self.cover_fees else None,
            METADATA_KEY: self.attribution,
        }
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def idempotency_key(nonce, order):
    """One key per form submission and choice: a double click makes one session, while a
    reader who changes the amount after an error gets a fresh one."""
    text = "|".join(str(part) for part in (
        nonce, order.frequency, order.amount_minor, order.currency, order.email,
        order.cover_fees, order.story, order.appeal_id, order.variant_id, order.reader_id))
    return "checkout-" + hashlib.sha256(text.encode()).hexdigest()[:48]


def start_checkout(order, nonce, success_url, cancel_url):
    """Create the Checkout Session for an order; returns its id and the URL to send the
    reader to.

    Raises payments.PaymentsUnavailable or payments.PaymentsRejected when Stripe says no.
    """
    total = order.total_minor(current_app.config["FEES"])
    story_id, same_appeal = _known_story(order)
    order = replace(order, attribution=_credit_token(order, story_id if same_appeal else None))
    metadata = order.metadata()
    params = payments.checkout_params(order, total, metadata, success_url, cancel_url)
    session_id, url = payments.create_checkout_session(params, idempotency_key(nonce, order))
    current_app.logger.info("checkout session %s started (%s)", session_id, order.frequency)
    _count_checkout(session_id, order, story_id, same_appeal)
    return session_id, url


def _known_story(order):
    """(story id, whether the variant is the appeal's) for the form's story and variant,
    which come from the reader: only known ones count."""
    try:
        story_id, appeal_of_variant = known_targets().lookup(
            order.story or "", order.variant_id, current_app.config["TRACKING_LOOKUP_SECONDS"])
    except TargetsUnavailable:  # the database is away: recording the checkout will say so
        return None, False
    return story_id, appeal_of_variant is not None and appeal_of_variant == order.appeal_id


def _credit_token(order, story_id):
    window = influence_window(order.frequency, current_app.config)
    try:
        credit = gift_credit(order, story_id, current_time(), window)
    except SQLAlchemyError as exc:
        # The reader is on their way to pay: a gift without its credit beats no gift.
        db.session.rollback()
        log_throttled(current_app, current_app.logger, "checkout-credit",
                      "checkout credit not looked up (%s)", type(exc).__name__)
        return None
    db.session.rollback()  # only a read: no transaction stays open while Stripe answers
    return None if credit is None else credit.token


def _count_checkout(session_id, order, story_id, same_appeal):
    event = checkout_started_event(session_id, story_id, order.appeal_id if same_appeal else None,
                                   order.variant_id if same_appeal else None, order.reader_id,
                                   order.page_view)
    try:
        accept_events([event])  # the journal when it is on, which outlives a database outage
    except SQLAlchemyError as exc:
        # The session exists and the reader is on their way to pay; losing one funnel count
        # (journal off, database gone since it was checked) must not stop them.
        db.session.rollback()
        log_throttled(current_app, current_app.logger, "checkout-count",
                      "checkout %s not counted (%s)", session_id, type(exc).__name__)
