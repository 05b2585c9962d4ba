"""Replacing the card a recurring gift is paid with, on Stripe's own page.

The manage page sends the supporter to a customer portal session that goes straight to
"update payment method"; Stripe sends them back to a URL of ours only once the card is
replaced. That URL carries a signed reference (which gift, and a nonce), so the change is
recorded and confirmed once, however often the URL is opened.
"""
import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from supportapp.extensions import db
from supportapp.services import payments
from supportapp.services.support_changes import ChangeRefused, record_change, their_support
from supportapp.services.supporter_gifts import support_of

_SALT = "supportapp.card-update"
REFERENCE_LIFETIME_SECONDS = 3600  # time enough to type a card on Stripe's page


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def start_card_update(email, support_id, return_url, done_url_for):
    """The URL of Stripe's page for replacing the card of the address's gift `support_id`.
    `done_url_for(reference)` builds the URL Stripe sends the supporter to afterwards."""
    support = their_support(email, support_id)
    if not support.stripe_customer_id:
        raise ChangeRefused("The card of this gift cannot be changed online; please reply "
                            "to one of your receipts and we will help.")
    customer_id = support.stripe_customer_id
    reference = _serializer().dumps({"s": support_id, "n": secrets.token_urlsafe(16)})
    db.session.rollback()
    return payments.create_card_update_session(customer_id, return_url,
                                               done_url_for(reference))


def finish_card_update(email, reference):
    """Record (once) that the card of the gift named by `reference` was replaced; returns
    the gift's id when it is one of the address's gifts and the reference is recent, else
    None."""
    try:
        data = _serializer().loads(reference or "", max_age=REFERENCE_LIFETIME_SECONDS)
    except BadSignature:
        return None
    support_id, nonce = (data.get("s"), data.get("n")) if isinstance(data, dict) else (0, "")
    if not (isinstance(support_id, int) and isinstance(nonce, str)) \
            or support_of(email, support_id) is None:
        return None
    record_change(email, support_id, [("card_updated", {"via": "portal"})],
                  key=f"support_changed:card_updated:{nonce}")
    return support_id
