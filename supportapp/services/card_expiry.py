"""The expiry of the card a recurring gift is charged to: read from Stripe, kept on the gift.

A renewal fails once the card on file has expired, so the app keeps the card's expiry
(month and year) on each RecurringSupport, to warn the supporter before it happens (the
card-expiring email, services/notices.py) and to show staff the cards at risk.

Stripe charges a subscription's renewal to its `default_payment_method`, else to its
customer's `invoice_settings.default_payment_method`. Those are ids unless the request
expands them, so every question stripe_facts asks about a subscription expands both
(`SUBSCRIPTION_EXPAND`), and the answers carry the card. A card whose expiry Stripe did not
say (an id that was not expanded, no card at all) leaves the expiry recorded as it was:
nothing here ever forgets a card because an answer was incomplete.
"""
import calendar
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from supportapp.extensions import db
from supportapp.models import RecurringSupport
from supportapp.services import stripe_payload as p

# What to expand on a subscription for the card its renewals are charged to.
SUBSCRIPTION_EXPAND = ("default_payment_method",
                       "customer.invoice_settings.default_payment_method")
# ... on a Checkout Session: the new subscription's card, or the card a setup-mode session
# saved (a card update).
CHECKOUT_EXPAND = ("subscription.default_payment_method", "setup_intent.payment_method")
# The keys under which a setup-mode session names the subscription whose card it replaces
# (Stripe's guide "Update payment details" puts `subscription_id` in setup_intent_data).
SETUP_SUBSCRIPTION_KEYS = ("subscription_id", "subscription")
# Stripe's card years are four digits; anything else is not a card's expiry.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2099


@dataclass(frozen=True, order=True)
class CardExpiry:
    """A card's expiry: it can be charged until the end of `month` of `year`."""

    year: int
    month: int

    @property
    def index(self):
        """Months since year 0: expiries compare as numbers (also in SQL: year*12+month-1)."""
        return self.year * 12 + self.month - 1

    @property
    def ends_at(self):
        """The first moment the card no longer works: the 1st of the next month, UTC."""
        year, month = divmod(self.index + 1, 12)
        return datetime(year, month + 1, 1, tzinfo=UTC)

    @property
    def key(self):
        """`2027-03`: the expiry in outbox keys and in CSV."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def words(self):
        """`March 2027`."""
        return f"{calendar.month_name[self.month]} {self.year}"

    def expires_before(self, moment):
        """True when the card no longer works at `moment` (an aware datetime)."""
        return moment >= self.ends_at


def card_expiry(month, year):
    """The CardExpiry of Stripe's `exp_month`/`exp_year`, or None when they are not a card's
    (missing, not whole numbers, month outside 1-12, year not four digits)."""
    for value in (month, year):
        if isinstance(value, bool) or not isinstance(value, int):
            return None
    if not 1 <= month <= 12 or not EARLIEST_YEAR <= year <= LATEST_YEAR:
        return None
    return CardExpiry(year, month)


def of_support(support):
    """The CardExpiry recorded on a RecurringSupport, or None."""
    return card_expiry(support.card_exp_month, support.card_exp_year)


def of_payment_method(method):
    """The expiry of a PaymentMethod object (a dict) that is a card; None otherwise (an id,
    another kind of payment method, a card without a usable expiry)."""
    card = p.mapping(p.mapping(method).get("card"))
    return card_expiry(card.get("exp_month"), card.get("exp_year"))


def of_subscription(subscription):
    """The expiry of the card a subscription (fetched with SUBSCRIPTION_EXPAND) renews on:
    its own default payment method, else its customer's; None when the answer does not say."""
    own = subscription.get("default_payment_method")
    if own is not None:
        return of_payment_method(own)  # an unexpanded id says nothing
    settings = p.mapping(p.mapping(subscription.get("customer")).get("invoice_settings"))
    return of_payment_method(settings.get("default_payment_method"))


def cards_of_subscription(subscription):
    """{subscription id: CardExpiry} for a subscription dict, or {} when nothing is known."""
    subscription_id = p.stripe_id(p.mapping(subscription).get("id"))
    card = of_subscription(subscription) if subscription_id else None
    return {subscription_id: card} if card else {}


def cards_of_checkout(session):
    """{subscription id: CardExpiry} that a Checkout Session (fetched with CHECKOUT_EXPAND)
    tells: the card a new subscription was started with, or, for a setup-mode session that
    names a subscription in its metadata, the card that replaces that subscription's."""
    session = p.mapping(session)
    if session.get("status") != "complete":
        return {}
    if session.get("mode") == "subscription":
        return cards_of_subscription(p.mapping(session.get("subscription")))
    if session.get("mode") != "setup":
        return {}
    intent = p.mapping(session.get("setup_intent"))
    if intent.get("status") not in (None, "succeeded"):
        return {}
    card = of_payment_method(intent.get("payment_method"))
    subscription_id = _named_subscription(intent.get("metadata"), session.get("metadata"))
    return {subscription_id: card} if card and subscription_id else {}


def _named_subscription(*metadatas):
    for metadata in metadatas:
        for key in SETUP_SUBSCRIPTION_KEYS:
            subscription_id = p.stripe_id(p.mapping(metadata).get(key))
            if subscription_id:
                return subscription_id
    return None


def record_cards(cards, fetched_at):
    """Keep each card's expiry on the recurring support of its subscription, in the caller's
    transaction. `cards` is {subscription id: CardExpiry} as Stripe answered at `fetched_at`;
    an answer older than the support's latest recorded state is left out (two deliveries
    racing), and subscriptions that are not ours are skipped. Returns how many changed."""
    changed = 0
    for subscription_id, card in cards.items():
        support = db.session.scalar(select(RecurringSupport).where(
            RecurringSupport.stripe_subscription_id == subscription_id))
        if support is None or card is None:
            continue
        if support.status_at is not None and fetched_at < support.status_at:
            continue
        if (support.card_exp_month, support.card_exp_year) != (card.month, card.year):
            support.card_exp_month, support.card_exp_year = card.month, card.year
            changed += 1
    return changed
