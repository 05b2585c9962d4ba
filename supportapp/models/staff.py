"""Newsroom staff who sign in to the dashboard, and their API tokens for the reports API."""
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supportapp.extensions import db, login_manager
from supportapp.models.types import UTCDateTime, utcnow

# Lowest to highest: each role can do everything the roles before it can.
ROLES = ("viewer", "editor", "admin")


class Staff(UserMixin, db.Model):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-case
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10), default="viewer")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    last_login_at = mapped_column(UTCDateTime(), nullable=True)

    tokens: Mapped[list["StaffToken"]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", order_by="StaffToken.id"
    )

    @property
    def is_active(self):
        # Flask-Login refuses inactive accounts, and treats them as signed out.
        return self.active

    def has_role(self, role):
        """True when this account's role is `role` or one above it."""
        return ROLES.index(self.role) >= ROLES.index(role)

    def __repr__(self):
        return f"<Staff {self.id} {self.role}>"


class StaffToken(db.Model):
    """A bearer token for /api/reports; only its SHA-256 is kept, the token is shown once."""

    __tablename__ = "staff_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    last_used_at = mapped_column(UTCDateTime(), nullable=True)

    staff: Mapped[Staff] = relationship(back_populates="tokens")

    def __repr__(self):
        return f"<StaffToken {self.id} {self.name!r}>"


@login_manager.user_loader
def load_staff(staff_id):
    """The signed-in account from the session, or None (unknown or deactivated)."""
    staff = db.session.get(Staff, int(staff_id)) if str(staff_id).isdigit() else None
    return staff if staff is not None and staff.active else None
