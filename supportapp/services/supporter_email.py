"""A supporter is known by their email address: compared without regard to case, and kept
as a keyed digest where the address itself must go (an erasure, a rate-limit key)."""
import hashlib
import hmac

from flask import current_app
from sqlalchemy import exists, select

from supportapp.extensions import db
from supportapp.models import SupportChange

DIGEST_PREFIX = "sha256:"  # no "@": a digest is never mistaken for an address


def normalise_email(email):
    """The address as compared: stripped and lower-cased."""
    return (email or "").strip().lower()


def email_digest(email):
    """A keyed digest of the address (HMAC-SHA256 with SECRET_KEY): the same address always
    gives the same digest, and the digest alone does not give the address back."""
    key = current_app.config["SECRET_KEY"].encode()
    mac = hmac.new(key, normalise_email(email).encode(), hashlib.sha256)
    return DIGEST_PREFIX + mac.hexdigest()


def erased_since(email, moment):
    """Whether the address's personal data was erased at or after `moment` (None: ever)."""
    erased = [SupportChange.kind == "erased", SupportChange.email == email_digest(email)]
    if moment is not None:
        erased.append(SupportChange.created_at >= moment)
    return db.session.scalar(select(exists().where(*erased)))
