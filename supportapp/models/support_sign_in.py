"""A supporter's sign-in to "manage my support": the emailed link, then the browser session.

No passwords: a single-use link (valid 30 minutes) opens a session for one browser (valid 24
hours). Only SHA-256 digests of the link's and the session's random ids are kept, so a copy
of the database opens nothing. `expires_at` is the link's expiry until it is used, then the
session's; rows a day past it are deleted (services/sign_in_links.py).
"""
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from supportapp.extensions import db
from supportapp.models.types import UTCDateTime, utcnow


class SupportSignIn(db.Model):
    __tablename__ = "support_sign_in"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # As typed on the form (stripped); looked up case-insensitively.
    email: Mapped[str] = mapped_column(String(320), index=True)
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)
    session_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    created_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    used_at = mapped_column(UTCDateTime(), nullable=True)
    expires_at = mapped_column(UTCDateTime(), nullable=False, index=True)

    def __repr__(self):
        return f"<SupportSignIn {self.id} used={self.used_at is not None}>"
