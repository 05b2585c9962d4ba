"""Staff accounts: passwords, roles, the last admin, and API tokens."""
import pytest
from argon2 import PasswordHasher

from supportapp.extensions import db
from supportapp.services.staff import (
    StaffError,
    authenticate,
    create_staff,
    create_token,
    deactivate_staff,
    set_role,
    staff_for_token,
)

PASSWORD = "a long enough secret"


def test_authenticate(app):
    """The right password returns the account; a wrong one or an unknown email returns None."""
    staff = create_staff("ed@newsroom.example", PASSWORD, "editor")
    assert authenticate(" ED@newsroom.example ", PASSWORD) == staff
    assert authenticate("ed@newsroom.example", PASSWORD + "!") is None
    assert authenticate("nobody@newsroom.example", PASSWORD) is None
    assert authenticate("not an email", PASSWORD) is None


def test_weak_hash_is_upgraded_on_login(app):
    """A hash made with other Argon2 settings is replaced on the next good login."""
    staff = create_staff("ed@newsroom.example", PASSWORD, "editor")
    staff.password_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    db.session.commit()
    old = staff.password_hash
    assert authenticate(staff.email, PASSWORD) == staff
    assert staff.password_hash != old and authenticate(staff.email, PASSWORD) == staff


def test_role_order(app):
    """Admins can do what editors can, editors what viewers can, not the other way round."""
    editor = create_staff("ed@newsroom.example", PASSWORD, "editor")
    assert editor.has_role("viewer") and editor.has_role("editor")
    assert not editor.has_role("admin")


def test_last_active_admin_is_kept(app):
    """The only active admin can be neither demoted nor deactivated; with two, one can."""
    first = create_staff("a@newsroom.example", PASSWORD, "admin")
    with pytest.raises(StaffError, match="last active admin"):
        set_role(first, "editor")
    with pytest.raises(StaffError, match="last active admin"):
        deactivate_staff(first)
    create_staff("b@newsroom.example", PASSWORD, "admin")
    assert set_role(first, "editor").role == "editor"


def test_tokens(app):
    """A token finds its account; a changed, foreign-looking or revoked one does not."""
    staff = create_staff("ed@newsroom.example", PASSWORD, "viewer")
    token = create_token(staff, "weekly")
    assert staff_for_token(token) == staff
    assert staff_for_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert staff_for_token(token.removeprefix("sat_")) is None
    with pytest.raises(StaffError):
        create_token(staff, "   ")
    db.session.delete(staff.tokens[0])
    db.session.commit()
    assert staff_for_token(token) is None
