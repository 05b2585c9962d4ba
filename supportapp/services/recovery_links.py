"""The links in failed-payment emails: straight to replacing the card, no sign-in.

A link is `/support/manage/card/<support id>/<token>`: the token is a random id signed with
itsdangerous (with the support id beside it, so a link moved to another gift is refused),
and the database keeps only the id's SHA-256 and which failed renewal it is for. Nothing in
it names the supporter. It works for LINK_LIFETIME, by the app's clock, and is spent once a
card replaced through it has paid the invoice: `claim` marks it in one conditional UPDATE
(two clicks racing claim it once), `release` gives it back when that payment did not go
through, so the supporter can try another card.
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update

from supportapp.extensions import db
from supportapp.models import CardUpdateLink, PaymentFailure, RecurringSupport
from supportapp.services.clock import current_time
from supportapp.services.outbox import public_url

LINK_LIFETIME = timedelta(days=7)
_SALT = "supportapp.card-update-link"
# Why a link opens nothing: not ours or garbled, too old, already spent, or moved to the URL
# of another gift; or nothing left to do: the invoice is paid, or the gift has ended.
REFUSALS = ("invalid", "expired", "used", "other_gift", "paid", "ended")
ENDED_STATUSES = ("canceled", "unpaid", "incomplete_expired")


class LinkRefused(Exception):
    """A link that cannot replace a card now; `reason` is one of REFUSALS. `failure_id` is
    set when the link is ours and names its failed renewal (a new one can be emailed)."""

    def __init__(self, reason, failure_id=None):
        super().__init__(reason)
        self.reason = reason
        self.failure_id = failure_id


@dataclass(frozen=True)
class CardLink:
    """What an accepted link is for."""

    link_id: int
    failure_id: int
    support_id: int
    customer_id: str | None
    subscription_id: str
    invoice_id: str
    amount_minor: int
    currency: str
    email: str | None


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _digest(random_id):
    return hashlib.sha256(random_id.encode()).hexdigest()


def issue_link(failure, now=None):
    """A new link for a failed renewal (its row added to the caller's transaction); returns
    its absolute URL for an email."""
    now = now or current_time()
    link_id = secrets.token_urlsafe(24)
    db.session.add(CardUpdateLink(payment_failure_id=failure.id, link_hash=_digest(link_id),
                                  created_at=now, expires_at=now + LINK_LIFETIME))
    token = _serializer().dumps({"s": failure.recurring_support_id, "l": link_id})
    return public_url("support_manage.card_link", support_id=failure.recurring_support_id,
                      token=token)


def _read(token):
    """(support id, link row) named by a token, ignoring its age; LinkRefused("invalid")."""
    try:
        data = _serializer().loads(token or "")
    except BadSignature as exc:
        raise LinkRefused("invalid") from exc
    if not isinstance(data, dict) or not isinstance(data.get("s"), int) \
            or not isinstance(data.get("l"), str):
        raise LinkRefused("invalid")
    row = db.session.scalar(select(CardUpdateLink).where(
        CardUpdateLink.link_hash == _digest(data["l"])))
    if row is None:
        raise LinkRefused("invalid")  # signed by us, unknown here: another database
    return data["s"], row


def check_link(support_id, token, now=None):
    """The CardLink a link opens for the gift `support_id`; raises LinkRefused. Ends the
    read it makes, so the caller can talk to Stripe next."""
    try:
        return _check(support_id, token, now or current_time())
    finally:
        db.session.rollback()


def _check(support_id, token, now):
    signed_for, row = _read(token)
    failure = db.session.get(PaymentFailure, row.payment_failure_id)
    if signed_for != support_id or failure.recurring_support_id != support_id:
        raise LinkRefused("other_gift")
    if row.used_at is not None:
        raise LinkRefused("used", failure.id)
    # Nothing left to do says more than "expired": no new link would help.
    support = db.session.get(RecurringSupport, support_id)
    if failure.recovered_at is not None:
        raise LinkRefused("paid", failure.id)
    if failure.lost_at is not None or support.status in ENDED_STATUSES:
        raise LinkRefused("ended", failure.id)
    try:  # the signature's own age, by the wall clock, as a second lock on the door
        _serializer().loads(token, max_age=int(LINK_LIFETIME.total_seconds()))
    except SignatureExpired as exc:
        raise LinkRefused("expired", failure.id) from exc
    if row.expires_at <= now:
        raise LinkRefused("expired", failure.id)
    return CardLink(row.id, failure.id, support_id, support.stripe_customer_id,
                    support.stripe_subscription_id, failure.stripe_invoice_id,
                    failure.amount_minor, failure.currency, support.email)


def failure_of_link(support_id, token):
    """The id of the failed renewal a link of ours was sent for, however old or spent the
    link is; None for a link that is not ours or was moved to another gift."""
    try:
        signed_for, row = _read(token)
    except LinkRefused:
        return None
    finally:
        db.session.rollback()
    return row.payment_failure_id if signed_for == support_id else None


def claim(link, now=None):
    """Spend the link, once: True for the one caller that did (committed)."""
    claimed = db.session.execute(
        update(CardUpdateLink).where(CardUpdateLink.id == link.link_id,
                                     CardUpdateLink.used_at.is_(None))
        .values(used_at=now or current_time())
        .execution_options(synchronize_session=False)).rowcount == 1
    db.session.commit()
    return claimed


def release(link):
    """Give a claimed link back: the payment through it did not go through (committed)."""
    db.session.execute(update(CardUpdateLink).where(CardUpdateLink.id == link.link_id)
                       .values(used_at=None).execution_options(synchronize_session=False))
    db.session.commit()
