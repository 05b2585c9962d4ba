"""Staff accounts: creating them, checking passwords, roles, and API tokens."""
import hashlib
import secrets

from flask import current_app
from sqlalchemy import func, select

from supportapp.extensions import db
from supportapp.models.staff import ROLES, Staff, StaffToken
from supportapp.models.types import utcnow

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # hashing a megabyte "password" should not be a way to load the server
TOKEN_PREFIX = "sat_"


class StaffError(ValueError):
    """A change to a staff account that is refused; the message says why, for people."""


# argon2-cffi and email-validator are imported where they are used: only staff sign-in and
# account commands need them, and every web worker imports this module with the dashboard.


def _hasher():
    from argon2 import PasswordHasher, profiles  # deferred: see above

    # Tests use the cheapest Argon2 parameters; every other setting gets the library's default.
    if current_app.config.get("PASSWORD_HASH_PROFILE") == "cheapest":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher()


def normalise_email(email):
    """'  Ed@Example.ORG ' -> 'ed@example.org'; raises StaffError when it is not an address."""
    from email_validator import EmailNotValidError, validate_email  # deferred: see above

    try:
        checked = validate_email((email or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise StaffError(f"{email!r} is not an email address") from exc
    return checked.normalized.lower()


def _check_password(password):
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise StaffError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise StaffError(f"the password must be at most {MAX_PASSWORD_LENGTH} characters")


def _check_role(role):
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")


def find_staff(email):
    """The account with this email (any letter case), or None."""
    try:
        email = normalise_email(email)
    except StaffError:
        return None
    return db.session.scalar(select(Staff).where(Staff.email == email))


def get_staff(email):
    """The account with this email; raises StaffError when there is none."""
    staff = find_staff(email)
    if staff is None:
        raise StaffError(f"no staff account for {email!r}")
    return staff


def create_staff(email, password, role="viewer"):
    """Create and commit an active account; raises StaffError for refused input."""
    email = normalise_email(email)
    _check_role(role)
    _check_password(password)
    if find_staff(email) is not None:
        raise StaffError(f"there is already a staff account for {email}")
    staff = Staff(email=email, password_hash=_hasher().hash(password), role=role, active=True)
    db.session.add(staff)
    db.session.commit()
    return staff


def list_staff():
    return db.session.scalars(select(Staff).order_by(Staff.email)).all()


def _active_admins():
    return db.session.scalar(
        select(func.count(Staff.id)).where(Staff.role == "admin", Staff.active.is_(True))
    )


def _keep_an_admin(staff):
    # Nobody could manage users any more; the CLI is the way out, on purpose not the web.
    if staff.role == "admin" and staff.active and _active_admins() <= 1:
        raise StaffError("this is the last active admin; make another admin first")


def set_role(staff, role):
    """Change an account's role; the last active admin cannot be demoted."""
    _check_role(role)
    if role != "admin":
        _keep_an_admin(staff)
    staff.role = role
    db.session.commit()
    return staff


def deactivate_staff(staff):
    """Sign the account out for good (its sessions and tokens stop working)."""
    _keep_an_admin(staff)
    staff.active = False
    db.session.commit()
    return staff


def authenticate(email, password):
    """The active account for this email and password, or None. Says nothing about which failed."""
    from argon2.exceptions import InvalidHashError, VerificationError  # deferred: see above

    staff = find_staff(email)
    hasher = _hasher()
    if staff is None or not staff.active:
        # Spend the same time as a real check, so response times do not reveal accounts.
        hasher.hash(password or "")
        return None
    try:
        hasher.verify(staff.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if hasher.check_needs_rehash(staff.password_hash):
        staff.password_hash = hasher.hash(password)
    staff.last_login_at = utcnow()
    db.session.commit()
    return staff


def _token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(staff, name):
    """Make an API token for this account; returns the token, which is never stored."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise StaffError("a token needs a name of 1 to 100 characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    staff.tokens.append(StaffToken(name=name, token_hash=_token_hash(token)))
    db.session.commit()
    return token


def staff_for_token(token):
    """The active account that owns this bearer token, or None; notes when it was used."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = db.session.scalar(select(StaffToken).where(StaffToken.token_hash == _token_hash(token)))
    if row is None or not row.staff.active:
        return None
    row.last_used_at = utcnow()
    db.session.commit()
    return row.staff
