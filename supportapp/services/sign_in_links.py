"""Signing in to "manage my support" without a password: an emailed link, then a session.

A request for a link always does the same work, whether or not the address ever gave: it
records a sign-in, signs a link and queues one email (the link, or a note that the address
has no gifts), so neither the page nor its timing says which addresses are supporters.
A link is single-use: opening it swaps the link for a session in one conditional UPDATE,
so two clicks racing open one session. Links and sessions are random ids signed with
itsdangerous; the database keeps only their SHA-256.
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select, update

from supportapp.extensions import db
from supportapp.models import SupportSignIn
from supportapp.models.types import utcnow
from supportapp.services.outbox import check_address, public_url, queue_email
from supportapp.services.supporter_gifts import has_gifts

LINK_LIFETIME = timedelta(minutes=30)
SESSION_LIFETIME = timedelta(hours=24)
# Expired sign-ins (and the addresses in them) are deleted this long after they expire.
KEEP_EXPIRED = timedelta(days=1)
_LINK_SALT = "supportapp.manage-link"
_SESSION_SALT = "supportapp.manage-session"
LINK_REFUSALS = ("expired", "used", "invalid")


class LinkRefused(Exception):
    """A link that opens nothing; `reason` is "expired", "used" or "invalid"."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ManageSession:
    email: str
    sign_in_id: int


def _serializer(salt):
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _digest(random_id):
    return hashlib.sha256(random_id.encode()).hexdigest()


def request_link(email, now=None):
    """Record a sign-in for `email` and queue its email, in one transaction: the link when the
    address has gifts, else a note saying it has none. Raises OutboxError for an address
    that cannot be written to (a line break, a display name, two addresses)."""
    address = check_address(email)
    now = now or utcnow()
    db.session.execute(delete(SupportSignIn).where(SupportSignIn.expires_at < now - KEEP_EXPIRED))
    known = has_gifts(address)
    link_id = secrets.token_urlsafe(32)
    link_hash = _digest(link_id)
    db.session.add(SupportSignIn(email=address, link_hash=link_hash, created_at=now,
                                 expires_at=now + LINK_LIFETIME))
    token = _serializer(_LINK_SALT).dumps(link_id)
    template = "sign_in_link" if known else "sign_in_no_gifts"
    queue_email(f"sign_in:{link_hash}", template, address, template,
                link=public_url("support_manage.open_link", token=token),
                again=public_url("support_manage.request_link"), **lifetimes())
    db.session.commit()


def open_link(token, now=None):
    """Use the link once: returns the signed value of the session it opens (for a cookie).
    Raises LinkRefused when it is expired, already used, tampered with or not ours."""
    now = now or utcnow()
    try:
        link_id = _serializer(_LINK_SALT).loads(
            token, max_age=int(LINK_LIFETIME.total_seconds()))
    except SignatureExpired as exc:
        raise LinkRefused("expired") from exc
    except BadSignature as exc:
        raise LinkRefused("invalid") from exc
    if not isinstance(link_id, str):
        raise LinkRefused("invalid")
    session_id = secrets.token_urlsafe(32)
    link_hash = _digest(link_id)
    opened = db.session.execute(
        update(SupportSignIn)
        .where(SupportSignIn.link_hash == link_hash, SupportSignIn.used_at.is_(None),
               SupportSignIn.expires_at > now)
        .values(used_at=now, session_hash=_digest(session_id),
                expires_at=now + SESSION_LIFETIME)
        .execution_options(synchronize_session=False)).rowcount == 1
    db.session.commit()
    if not opened:
        raise LinkRefused(_why_not(link_hash))
    return _serializer(_SESSION_SALT).dumps(session_id)


def _why_not(link_hash):
    row = db.session.execute(select(SupportSignIn.used_at)
                             .where(SupportSignIn.link_hash == link_hash)).first()
    if row is None:
        return "invalid"  # signed by us but unknown here: another database, or forgotten
    return "used" if row.used_at is not None else "expired"


def _session_id(cookie_value):
    try:
        session_id = _serializer(_SESSION_SALT).loads(
            cookie_value or "", max_age=int(SESSION_LIFETIME.total_seconds()))
    except BadSignature:
        return None
    return session_id if isinstance(session_id, str) else None


def current_session(cookie_value, now=None):
    """The ManageSession a cookie value opens, or None (missing, forged, expired, ended)."""
    session_id = _session_id(cookie_value)
    if session_id is None:
        return None
    row = db.session.execute(select(SupportSignIn.email, SupportSignIn.id).where(
        SupportSignIn.session_hash == _digest(session_id),
        SupportSignIn.expires_at > (now or utcnow()))).first()
    return ManageSession(row.email, row.id) if row else None


def end_session(cookie_value):
    """Sign out: the session opens nothing any more, in any browser."""
    session_id = _session_id(cookie_value)
    if session_id is not None:
        db.session.execute(delete(SupportSignIn).where(
            SupportSignIn.session_hash == _digest(session_id)))
        db.session.commit()


def lifetimes():
    """{"link_minutes": 30, "session_hours": 24}: what pages and emails tell supporters."""
    return {"link_minutes": int(LINK_LIFETIME.total_seconds() // 60),
            "session_hours": int(SESSION_LIFETIME.total_seconds() // 3600)}


def session_max_age():
    """Seconds a manage session's cookie should live."""
    return int(SESSION_LIFETIME.total_seconds())
